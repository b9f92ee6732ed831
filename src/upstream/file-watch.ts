/**
 * Watches files the way Kubernetes updates a mounted ConfigMap or Secret:
 * their directories are watched, not the files, so that the atomic swap of
 * the `..data` symlink is seen too; a poll is the safety net for file
 * systems whose events are unreliable. A burst of events (a swap raises
 * several) becomes one call of `onChange` after a short debounce. What
 * changed, and whether it is valid, is for the caller to find out:
 * CONFIG_FILE (upstream/config-watcher) and the TLS files (tls/rotation).
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';

const DEBOUNCE_MS = 100;
/** The poll's period. */
export const POLL_MS = 5000;

export class FileWatch {
  private readonly watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  /** `what` names the files in log lines (a variable's name). */
  constructor(
    private readonly paths: readonly string[],
    private readonly onChange: () => void,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  start(): void {
    for (const dir of new Set(this.paths.map((p) => dirname(p)))) {
      try {
        const watcher = watch(dir, () => this.kick());
        watcher.on('error', (err) => this.logger.warn({ err, dir, what: this.what }, 'file watch failed; polling only'));
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn({ err, dir, what: this.what }, 'cannot watch the directory; polling only');
      }
    }
    this.poll = setInterval(() => this.kick(), POLL_MS);
    this.poll.unref();
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  private kick(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(this.onChange, DEBOUNCE_MS);
    this.debounce.unref();
  }
}
