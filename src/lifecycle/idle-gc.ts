/**
 * IDLE_GC_AFTER_MS: once the proxy has been quiet for that long after serving
 * traffic (no request, stream or tunnel begun, none in flight), one
 * memory-reducing garbage collection hands the memory the load left behind
 * back to the system. At most once per quiet period, never while work is in
 * flight or arriving.
 *
 * Why: on Node 24 (V8 13.6) V8's own memory reducer judges an idle process
 * busy (its embedder allocation rate reads exactly 0, which it takes as a high
 * rate), so it only runs on its 100 s watchdog, and an ordinary full GC keeps
 * the freed heap pages pooled and resident. A "last resort" collection
 * compacts and releases that pool (docs/benchmarks.md, "Node 24: memory after
 * load").
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

/** What the step watches: InFlight. */
export interface WorkCounter {
  readonly active: number;
  readonly started: number;
}

export interface IdleCollection {
  rssBeforeBytes: number;
  rssAfterBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  ms: number;
}

export interface IdleGcOptions {
  work: WorkCounter;
  /** IDLE_GC_AFTER_MS; 0 = off. */
  quietMs: number;
  collect: () => void;
  onCollected: (result: IdleCollection) => void;
  rss?: () => number;
  heap?: () => number;
}

export class IdleGc {
  private timer: NodeJS.Timeout | undefined;
  private seen: number;
  private pending = false;

  constructor(private readonly o: IdleGcOptions) {
    this.seen = o.work.started;
  }

  start(): void {
    if (this.o.quietMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.o.quietMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * One look, once per quiet period: collects when work was seen since the
   * last collection, none began since the previous look, and none is in
   * flight. Returns whether it collected.
   */
  tick(): boolean {
    const started = this.o.work.started;
    if (started !== this.seen) {
      this.seen = started;
      this.pending = true;
      return false;
    }
    if (!this.pending || this.o.work.active > 0) return false;
    this.pending = false;
    const rss = this.o.rss ?? (() => process.memoryUsage.rss());
    const heap = this.o.heap ?? (() => getHeapStatistics().total_heap_size);
    const [rssBeforeBytes, heapBeforeBytes, t0] = [rss(), heap(), performance.now()];
    this.o.collect();
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    this.o.onCollected({ rssBeforeBytes, rssAfterBytes: rss(), heapBeforeBytes, heapAfterBytes: heap(), ms });
    return true;
  }
}

const MIB = 1024 * 1024;

/** Builds and starts the step for the app; undefined when off or when the runtime offers no GC. */
export function startIdleGc(quietMs: number, work: WorkCounter, metrics: Metrics, logger: Logger): IdleGc | undefined {
  if (quietMs <= 0) return undefined;
  const collect = memoryReducingGc();
  if (collect === undefined) {
    logger.warn({ idleGcAfterMs: quietMs }, 'no memory-reducing GC in this runtime: IDLE_GC_AFTER_MS has no effect');
    return undefined;
  }
  const step = new IdleGc({
    work, quietMs, collect,
    onCollected: (r) => {
      metrics.idleGc.inc();
      const mib = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;
      logger.info({
        rssBeforeMiB: mib(r.rssBeforeBytes), rssAfterMiB: mib(r.rssAfterBytes),
        heapBeforeMiB: mib(r.heapBeforeBytes), heapAfterMiB: mib(r.heapAfterBytes), ms: r.ms,
      }, 'idle: memory-reducing GC');
    },
  });
  step.start();
  return step;
}

type GcFunction = (options?: object) => unknown;

/**
 * The runtime's memory-reducing collection, or undefined where none can be
 * had. Uses the global `gc` when node runs with --expose-gc, else takes V8's
 * gc function from a fresh context (a few hundred KiB, once) without exposing
 * a global.
 */
export function memoryReducingGc(): (() => void) | undefined {
  const gc = exposedGc();
  if (gc === undefined) return undefined;
  // V8 >= 12 (Node 22+): flavor 'last-resort' is a full, compacting GC that also frees the pooled
  // pages. Older V8 reads any options object as a request for a young-generation GC: a plain gc().
  const v8Major = Number(process.versions.v8.split('.')[0]);
  if (v8Major >= 12) return () => void gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return () => void gc();
}

function exposedGc(): GcFunction | undefined {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as GcFunction;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as GcFunction) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
