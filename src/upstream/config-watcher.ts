/**
 * Watches CONFIG_FILE and reloads the server list when it changes
 * (upstream/file-watch: the directory is watched, so Kubernetes' ConfigMap
 * update, an atomic symlink swap of `..data`, is seen too, plus a poll). An
 * invalid file is logged and ignored: the last good list stays. Reads go
 * through bounded-file.ts (regular files up to 1 MiB, never blocking) and run
 * one at a time. SIGHUP calls reloadNow(), which re-applies the file even if
 * its text is unchanged.
 */
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { describeReadError, parseConfigFile } from './config-file.js';
import { readBoundedFile } from './bounded-file.js';
import { FileWatch } from './file-watch.js';
import type { BackendAddress } from './backend-address.js';

/** Puts a valid file's servers into effect; resolves when they are. */
export type ApplyEntries = (entries: readonly BackendAddress[]) => Promise<void>;

export class ConfigWatcher {
  private readonly watch: FileWatch;
  /** The text last seen, or undefined while the file cannot be read. */
  private lastText: string | undefined;
  /** The read failure last reported, so that the poll reports each failure once. */
  private lastReadError: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly path: string,
    initialText: string,
    private readonly mode: 'http' | 'tcp',
    private readonly apply: ApplyEntries,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.lastText = initialText;
    this.watch = new FileWatch([path], () => void this.reload(), logger, 'CONFIG_FILE');
  }

  start(): void {
    this.watch.start();
  }

  close(): void {
    this.closed = true;
    this.watch.close();
  }

  /** Re-reads the file; applies it if it changed and is valid. */
  reload(): Promise<void> {
    return this.enqueue('watch', false);
  }

  /** Re-reads the file and applies it even if unchanged (SIGHUP). */
  reloadNow(trigger: string): Promise<void> {
    return this.enqueue(trigger, true);
  }

  private enqueue(trigger: string, force: boolean): Promise<void> {
    this.queue = this.queue
      .then(() => this.readAndApply(trigger, force))
      .catch((err: unknown) => this.logger.error({ err, file: this.path }, 'config reload failed'));
    return this.queue;
  }

  private async readAndApply(trigger: string, force: boolean): Promise<void> {
    if (this.closed) return;
    let text: string;
    try {
      text = await readBoundedFile(this.path);
    } catch (err) {
      const reason = describeReadError(err);
      if (force || reason !== this.lastReadError) this.reject(reason, trigger);
      this.lastReadError = reason;
      this.lastText = undefined;
      return;
    }
    this.lastReadError = undefined;
    if (!force && text === this.lastText) return;
    this.lastText = text;
    try {
      const parsed = parseConfigFile(text, this.mode);
      await this.apply(parsed.backends);
      this.metrics.configReloads.inc({ result: 'success' });
      this.logger.info({ file: this.path, backends: parsed.backends.length, trigger }, 'config reloaded');
    } catch (err) {
      this.reject((err as Error).message, trigger);
    }
  }

  private reject(reason: string, trigger: string): void {
    this.metrics.configReloads.inc({ result: 'failure' });
    this.logger.error({ file: this.path, reason, trigger }, 'config reload rejected; keeping the last good backends');
  }
}
