/**
 * One logger factory: JSON lines on stdout, in order. Lines are collected
 * during one turn of the event loop and written together at its end (one
 * write() for many access lines instead of one each; docs/benchmarks.md has
 * the cost); exit and fatal paths write what is pending synchronously. A
 * SIGKILL (or a crash of the runtime itself) loses the lines of the turn it
 * interrupts.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type { Logger };

export interface LogHandle {
  readonly logger: Logger;
  /** Appends one ready-made line (with its newline) to the same ordered output as `logger`. */
  readonly writeLine: (line: string) => void;
  /** Writes everything pending, in order; resolves when it is out. */
  flush(): Promise<void>;
  /** For fatal paths, where there is no time for the event loop. */
  flushSync(): void;
}

/** Above this many pending characters the batch is written at once, without waiting for the turn's end. */
const BATCH_CHARS = 64 * 1024;

export function createLogger(level: LogLevel, fd = 1): LogHandle {
  const sink = new BatchedSink(pino.destination({ dest: fd, sync: true }));
  const logger = pino(
    {
      level,
      base: { name: 'outrigger' },
      timestamp: pino.stdTimeFunctions.epochTime,
      // Header values are never logged; these paths are the only ones that could carry them.
      redact: { paths: ['headers', 'req.headers', 'res.headers'], remove: true },
    },
    sink,
  );
  const flushSync = () => {
    try {
      sink.writeOut();
      sink.out.flushSync();
    } catch {
      // Nothing pending, or stdout is gone: nothing more we can do.
    }
  };
  // Whatever way the process ends (exit(), a throw, the event loop running dry), the last turn's lines go out.
  process.once('exit', flushSync);
  return {
    logger,
    writeLine: sink.write,
    flush: () => {
      sink.writeOut();
      return new Promise((resolve) => sink.out.flush(() => resolve()));
    },
    flushSync,
  };
}

/** Collects lines and hands them to pino's synchronous destination as one string per event-loop turn. */
class BatchedSink implements DestinationStream {
  private pending = '';
  private scheduled = false;

  constructor(readonly out: ReturnType<typeof pino.destination>) {}

  readonly write = (line: string): void => {
    this.pending += line;
    if (this.pending.length >= BATCH_CHARS) this.writeOut();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writeOut);
    }
  };

  readonly writeOut = (): void => {
    this.scheduled = false;
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.out.write(batch);
  };
}
