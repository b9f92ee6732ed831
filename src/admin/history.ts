/**
 * The dashboard's history: rates, latency quantiles, retry budget, in-flight
 * counts and backend states over the last `slots` samples, in typed-array
 * columns sized at construction. Pure: the sampler hands it cumulative
 * readings (with their time), and it keeps the differences. Memory: 36 bytes
 * per slot for the totals, 4 more per error kind seen, and 17 per slot per
 * backend (plus two 16-entry bucket arrays each); a backend that leaves the
 * set leaves the history.
 */
import { RingIndex, floatColumn, rounded, histogramQuantile, deltas } from './history-ring.js';

/** Ordered from best to worst: an interval shows the worst state seen in it. */
export const HISTORY_STATES = ['unknown', 'healthy', 'drained', 'ejected', 'unhealthy'] as const;
export type HistoryState = (typeof HISTORY_STATES)[number];

/** Prometheus-style cumulative bucket counts (seconds); the last entry is the total. */
export interface LatencyReading {
  readonly bounds: readonly number[];
  readonly cumulative: ArrayLike<number>;
}

export interface BackendReading {
  readonly id: string;
  /** Responses and failures so far (cumulative). */
  readonly requests: number;
  readonly inFlight: number;
  readonly state: HistoryState;
  readonly latency: LatencyReading | undefined;
}

/** One error series, e.g. proxy/no_healthy_backend or upstream/reset for one backend. */
export interface ErrorReading {
  readonly source: 'proxy' | 'upstream';
  readonly kind: string;
  /** Unique per series (kind plus backend for upstream errors), to difference it with itself. */
  readonly series: string;
  readonly value: number;
}

export interface Reading {
  readonly at: number;
  readonly requests: number;
  readonly latency: LatencyReading | undefined;
  readonly errors: readonly ErrorReading[];
  readonly retries: number;
  readonly budgetExhausted: number;
  /** Share of the retry budget spent right now, 0..1. */
  readonly budgetUsed: number;
  readonly backends: readonly BackendReading[];
}

interface BackendTrack {
  readonly requests: Float32Array;
  readonly p50: Float32Array;
  readonly p99: Float32Array;
  readonly inFlight: Float32Array;
  /** 0 = no sample, else 1 + index in HISTORY_STATES. */
  readonly state: Uint8Array;
  lastRequests: number;
  lastLatency: ArrayLike<number> | undefined;
}

const rate = rounded(3);
const ms = rounded(3);

export class History {
  private readonly ring: RingIndex;
  private readonly at: Float64Array;
  private readonly requests: Float32Array;
  private readonly p50: Float32Array;
  private readonly p99: Float32Array;
  private readonly retries: Float32Array;
  private readonly exhausted: Float32Array;
  private readonly budget: Float32Array;
  private readonly inFlight: Float32Array;
  private readonly errors = { proxy: new Map<string, Float32Array>(), upstream: new Map<string, Float32Array>() };
  private readonly tracks = new Map<string, BackendTrack>();
  /** Worst state each backend reported (by event) since the last sample. */
  private readonly worst = new Map<string, number>();
  private last: Reading | undefined;
  private lastErrors = new Map<string, number>();
  private scratch = new Float64Array(0);

  constructor(readonly slots: number, readonly intervalMs: number) {
    this.ring = new RingIndex(slots);
    this.at = new Float64Array(slots);
    [this.requests, this.p50, this.p99, this.retries, this.exhausted, this.budget, this.inFlight] =
      Array.from({ length: 7 }, () => floatColumn(slots));
  }

  /** A state a backend passed through between samples, so that a short flap still shows. */
  noteState(id: string, state: HistoryState): void {
    const code = HISTORY_STATES.indexOf(state) + 1;
    if (code > (this.worst.get(id) ?? 0)) this.worst.set(id, code);
  }

  /** Adds one sample: the rates since the previous reading. The first reading is only the baseline. */
  record(r: Reading): void {
    const previous = this.last;
    this.last = r;
    const errors = new Map(r.errors.map((e) => [e.series, e.value]));
    const lastErrors = this.lastErrors;
    this.lastErrors = errors;
    const seconds = previous === undefined ? 0 : (r.at - previous.at) / 1000;
    if (previous === undefined || !(seconds > 0)) {
      for (const b of r.backends) this.track(b.id, b);
      this.worst.clear();
      return;
    }
    const per = (now: number, before: number) => (now >= before ? now - before : now) / seconds;
    const slot = this.ring.advance();
    this.at[slot] = r.at;
    this.requests[slot] = per(r.requests, previous.requests);
    this.retries[slot] = per(r.retries, previous.retries);
    this.exhausted[slot] = per(r.budgetExhausted, previous.budgetExhausted);
    this.budget[slot] = r.budgetUsed * 100;
    [this.p50[slot], this.p99[slot]] = this.quantiles(r.latency, previous.latency?.cumulative);
    for (const column of [...this.errors.proxy.values(), ...this.errors.upstream.values()]) column[slot] = 0;
    for (const e of r.errors) this.errorColumn(e.source, e.kind)[slot]! += per(e.value, lastErrors.get(e.series) ?? 0);
    let inFlight = 0;
    const seen = new Set<string>();
    for (const b of r.backends) {
      seen.add(b.id);
      inFlight += b.inFlight;
      const t = this.track(b.id, undefined);
      t.requests[slot] = per(b.requests, t.lastRequests);
      [t.p50[slot], t.p99[slot]] = this.quantiles(b.latency, t.lastLatency);
      t.inFlight[slot] = b.inFlight;
      t.state[slot] = Math.max(HISTORY_STATES.indexOf(b.state) + 1, this.worst.get(b.id) ?? 0);
      t.lastRequests = b.requests;
      t.lastLatency = b.latency === undefined ? undefined : Float64Array.from(b.latency.cumulative);
    }
    this.inFlight[slot] = inFlight;
    for (const id of this.tracks.keys()) if (!seen.has(id)) this.tracks.delete(id);
    this.worst.clear();
  }

  /**
   * The history as the dashboard reads it: every series oldest first, null where there is no
   * sample; only the samples taken after `since` (ms) when it is given, for a poller that has the rest.
   */
  view(since = Number.NEGATIVE_INFINITY) {
    const ring = this.ring;
    let from = 0;
    while (from < ring.count && this.at[ring.slotOf(from)]! <= since) from++;
    const series = (column: Float32Array, map = rate) => ring.read(column, map, from);
    const kinds = (m: Map<string, Float32Array>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => [k, series(c)]));
    const order = this.last?.backends.map((b) => b.id).filter((id) => this.tracks.has(id)) ?? [];
    return {
      intervalMs: this.intervalMs,
      slots: this.slots,
      t: ring.read(this.at, (v) => v, from),
      requestsPerSecond: series(this.requests),
      latencyMs: { p50: series(this.p50, ms), p99: series(this.p99, ms) },
      errorsPerSecond: { proxy: kinds(this.errors.proxy), upstream: kinds(this.errors.upstream) },
      retriesPerSecond: series(this.retries),
      retryBudgetExhaustedPerSecond: series(this.exhausted),
      retryBudgetUsedPercent: series(this.budget, rounded(1)),
      inFlight: series(this.inFlight, rounded(0)),
      backends: order.map((id) => {
        const t = this.tracks.get(id)!;
        return {
          id,
          requestsPerSecond: series(t.requests),
          latencyMs: { p50: series(t.p50, ms), p99: series(t.p99, ms) },
          inFlight: series(t.inFlight, rounded(0)),
          state: ring.read(t.state, (code) => (code === 0 ? null : HISTORY_STATES[code - 1]!), from),
        };
      }),
    };
  }

  toJSON() {
    return this.view();
  }

  private track(id: string, baseline: BackendReading | undefined): BackendTrack {
    let t = this.tracks.get(id);
    if (t === undefined) {
      const n = this.slots;
      // A backend first seen after the baseline came in since the last sample: it counts from 0.
      t = { requests: floatColumn(n), p50: floatColumn(n), p99: floatColumn(n), inFlight: floatColumn(n), state: new Uint8Array(n), lastRequests: 0, lastLatency: undefined };
      this.tracks.set(id, t);
    }
    if (baseline !== undefined) {
      t.lastRequests = baseline.requests;
      t.lastLatency = baseline.latency === undefined ? undefined : Float64Array.from(baseline.latency.cumulative);
    }
    return t;
  }

  /** p50 and p99 in ms of the observations between two cumulative readings. */
  private quantiles(now: LatencyReading | undefined, before: ArrayLike<number> | undefined): [number, number] {
    if (now === undefined) return [Number.NaN, Number.NaN];
    if (this.scratch.length !== now.cumulative.length) this.scratch = new Float64Array(now.cumulative.length);
    const d = deltas(now.cumulative, before, this.scratch);
    return [histogramQuantile(0.5, now.bounds, d) * 1000, histogramQuantile(0.99, now.bounds, d) * 1000];
  }

  private errorColumn(source: 'proxy' | 'upstream', kind: string): Float32Array {
    const columns = this.errors[source];
    let c = columns.get(kind);
    if (c === undefined) {
      c = new Float32Array(this.slots); // no error of this kind before it first appeared: 0, not "no sample"
      columns.set(kind, c);
    }
    return c;
  }
}

export type HistoryJson = ReturnType<History['view']>;
