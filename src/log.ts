/**
 * One logger factory: JSON lines on stdout, written synchronously (pino's
 * default). Lines come out in order and none is lost when the process exits
 * or crashes; docs/benchmarks.md measures what the access log costs.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export interface LogHandle {
  readonly logger: Logger;
  /** Writes everything pending, in order; resolves when it is out. */
  flush(): Promise<void>;
  /** For fatal paths, where there is no time for the event loop. */
  flushSync(): void;
}

export function createLogger(level: LogLevel, fd = 1): LogHandle {
  const destination = pino.destination({ dest: fd, sync: true });
  const logger = pino(
    {
      level,
      base: { name: 'outrigger' },
      timestamp: pino.stdTimeFunctions.epochTime,
      // Header values are never logged; these paths are the only ones that could carry them.
      redact: { paths: ['headers', 'req.headers', 'res.headers'], remove: true },
    },
    destination,
  );
  return {
    logger,
    flush: () => new Promise((resolve) => destination.flush(() => resolve())),
    flushSync: () => {
      try {
        destination.flushSync();
      } catch {
        // Nothing pending, or stdout is gone: nothing more we can do.
      }
    },
  };
}
