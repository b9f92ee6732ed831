/**
 * Feeds the dashboard's History: every interval, on an unref'd timer, it
 * reads what Outrigger keeps anyway (the metrics registry's counters and
 * histogram buckets, the backends' counters and flags, the retry budget) and
 * records one cumulative reading. Nothing runs per request; backend state
 * changes between samples arrive as BackendSet events.
 */
import type { Metrics } from '../metrics.js';
import type { Logger } from '../log.js';
import type { BackendSet } from '../upstream/backend-set.js';
import type { RetryBudget } from '../proxy/retry-budget.js';
import { History, type BackendReading, type ErrorReading, type HistoryState, type LatencyReading, type Reading } from './history.js';

/** 180 samples: 15 minutes at the default ADMIN_HISTORY_INTERVAL_MS of 5 s. */
export const HISTORY_SLOTS = 180;

export interface SamplerDeps {
  readonly metrics: Metrics;
  readonly set: BackendSet;
  readonly budget: Pick<RetryBudget, 'usage'> | undefined;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly now?: () => number;
}

type Sample = { metricName?: string; labels: Record<string, string | number | undefined>; value: number };

export class HistorySampler {
  readonly history: History;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private failed = false;
  private readonly now: () => number;

  constructor(private readonly d: SamplerDeps) {
    this.history = new History(HISTORY_SLOTS, d.intervalMs);
    this.now = d.now ?? Date.now;
    d.set.onChange((backend, event) => {
      if (event === 'added' || event === 'removed') return;
      this.history.noteState(backend.id, backend.state(this.now()));
    });
  }

  /** Takes the baseline reading now, then one sample per interval. */
  start(): void {
    if (this.timer !== undefined) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.d.intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading into the history; never throws (a failure is logged once). */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.history.record(await this.read());
    } catch (err) {
      if (!this.failed) this.d.logger.warn({ err }, 'dashboard history sample failed');
      this.failed = true;
    } finally {
      this.busy = false;
    }
  }

  private async read(): Promise<Reading> {
    const m = this.d.metrics;
    const [requests, duration, upstream, proxyErrors, upstreamErrors, retries, exhausted] = await Promise.all([
      m.httpRequests.counter.get(), m.httpDuration.get(), m.upstreamResponse.get(),
      m.proxyErrors.get(), m.upstreamErrors.get(), m.retries.get(), m.retryBudgetExhausted.get(),
    ]);
    const at = this.now();
    const perBackend = latencyBy(upstream.values, (labels) => String(labels.backend));
    const errors: ErrorReading[] = [
      ...proxyErrors.values.map((v) => ({ source: 'proxy' as const, kind: String(v.labels.kind), series: String(v.labels.kind), value: v.value })),
      ...upstreamErrors.values.map((v) => ({ source: 'upstream' as const, kind: String(v.labels.kind), series: `${String(v.labels.kind)} ${String(v.labels.backend)}`, value: v.value })),
    ];
    const usage = this.d.budget?.usage();
    const backends: BackendReading[] = this.d.set.all().map((b) => ({
      id: b.id,
      requests: b.requests,
      inFlight: b.inFlight,
      state: (b.probeHealthy === undefined && !b.drained ? 'unknown' : b.state(at)) satisfies HistoryState,
      latency: perBackend.get(b.id),
    }));
    return {
      at,
      requests: total(requests.values),
      latency: latencyBy(duration.values, () => '').get(''),
      errors,
      retries: total(retries.values),
      budgetExhausted: total(exhausted.values),
      budgetUsed: usage === undefined ? 0 : Math.min(1, usage.retries / usage.allowed),
      backends,
    };
  }
}

function total(values: readonly Sample[]): number {
  let sum = 0;
  for (const v of values) sum += v.value;
  return sum;
}

/** Sums a histogram's `_bucket` samples per group into cumulative counts by bound (the last is +Inf). */
function latencyBy(values: readonly Sample[], group: (labels: Sample['labels']) => string): Map<string, LatencyReading> {
  const bounds = [...new Set(values.filter((v) => v.metricName?.endsWith('_bucket') && v.labels.le !== '+Inf').map((v) => Number(v.labels.le)))].sort((a, b) => a - b);
  const index = new Map(bounds.map((b, i) => [b, i]));
  const out = new Map<string, { bounds: number[]; cumulative: Float64Array }>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const key = group(v.labels);
    let h = out.get(key);
    if (h === undefined) out.set(key, (h = { bounds, cumulative: new Float64Array(bounds.length + 1) }));
    const i = v.labels.le === '+Inf' ? bounds.length : index.get(Number(v.labels.le));
    if (i !== undefined) h.cumulative[i]! += v.value;
  }
  return out;
}
