/**
 * What each signal does (README "Signals"):
 *   SIGTERM, SIGINT  the shutdown sequence (SPEC §5); a second one skips the waits;
 *   SIGHUP           every reloadable re-reads its files now; serving goes on;
 *   SIGUSR2          ignored, with a log line (its default action would end the process);
 *   SIGUSR1          ignored, with a log line. Node opens its inspector on SIGUSR1
 *                    (127.0.0.1:9229, reachable from every container of the pod); a
 *                    JavaScript listener replaces that handler on Node 20, 22 and 24.
 *                    The image also runs node with --disable-sigusr1 (Node ≥ 22.14),
 *                    which closes the window before this listener is installed.
 */
import type { Logger } from '../log.js';

/**
 * Something SIGHUP re-reads: CONFIG_FILE today; certificate files (SPEC §9)
 * join the list in app.ts when they exist.
 */
export interface Reloadable {
  /** What it reads, for the logs: the variable's name. */
  readonly name: string;
  /** Re-reads now, even when nothing seems changed; logs and counts its own outcome; never rejects. */
  reloadNow(trigger: string): Promise<void>;
}

export interface SignalTargets {
  /** Resolves true when the first call has completed (then the process exits 0). */
  shutdown(signal: string): Promise<boolean>;
  readonly reloadables: readonly Reloadable[];
  readonly logger: Logger;
  exit(code: number): void;
}

/** The part of `process` this module uses; tests pass an EventEmitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
}

export function installSignalHandlers(targets: SignalTargets, source: SignalSource = process): void {
  const { logger } = targets;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    source.on(signal, () => {
      void targets.shutdown(signal).then((first) => {
        if (first) targets.exit(0);
      });
    });
  }
  source.on('SIGHUP', () => void reloadAll(targets.reloadables, logger));
  source.on('SIGUSR2', () => logger.info({ signal: 'SIGUSR2' }, 'SIGUSR2 ignored'));
  source.on('SIGUSR1', () => logger.warn({ signal: 'SIGUSR1' }, 'SIGUSR1 ignored; the inspector stays closed'));
}

/** One after another, so that their log lines do not interleave; one failure does not stop the rest. */
async function reloadAll(reloadables: readonly Reloadable[], logger: Logger): Promise<void> {
  logger.info({ signal: 'SIGHUP', reloading: reloadables.map((r) => r.name) }, reloadables.length === 0 ? 'SIGHUP: nothing to reload' : 'SIGHUP: reloading');
  for (const r of reloadables) {
    try {
      await r.reloadNow('SIGHUP');
    } catch (err) {
      logger.error({ err, what: r.name }, 'SIGHUP: reload failed');
    }
  }
}
