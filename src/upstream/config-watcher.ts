/**
 * Watches CONFIG_FILE and reloads the server list when it changes. The
 * directory is watched, not the file, so Kubernetes' ConfigMap update (an
 * atomic symlink swap of `..data`) is seen too. An invalid file is logged and
 * ignored: the last good list stays.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { parseConfigFile } from './config-file.js';
import type { Discovery } from './discovery.js';

const DEBOUNCE_MS = 100;
/** A safety net for file systems whose events are unreliable. */
const POLL_MS = 5000;

export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastText: string;

  constructor(
    private readonly path: string,
    initialText: string,
    private readonly mode: 'http' | 'tcp',
    private readonly discovery: Discovery,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.lastText = initialText;
  }

  start(): void {
    try {
      this.watcher = watch(dirname(this.path), () => this.kick());
      this.watcher.on('error', (err) => this.logger.warn({ err }, 'config watch failed; polling only'));
    } catch (err) {
      this.logger.warn({ err }, 'cannot watch the config directory; polling only');
    }
    this.poll = setInterval(() => this.kick(), POLL_MS);
    this.poll.unref();
  }

  close(): void {
    this.watcher?.close();
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  private kick(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    this.debounce.unref();
  }

  /** Re-reads the file; applies it if it changed and is valid. */
  async reload(): Promise<void> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (this.lastText !== '') this.reject(`cannot be read: ${(err as NodeJS.ErrnoException).code}`);
      this.lastText = '';
      return;
    }
    if (text === this.lastText) return;
    this.lastText = text;
    try {
      const parsed = parseConfigFile(text, this.mode);
      await this.discovery.setEntries(parsed.backends);
      this.metrics.configReloads.inc({ result: 'success' });
      this.logger.info({ file: this.path, backends: parsed.backends.length }, 'config reloaded');
    } catch (err) {
      this.reject((err as Error).message);
    }
  }

  private reject(reason: string): void {
    this.metrics.configReloads.inc({ result: 'failure' });
    this.logger.error({ file: this.path, reason }, 'config reload rejected; keeping the last good backends');
  }
}
