/**
 * Counters and histograms for the per-request metrics. prom-client checks
 * and hashes the label object on every inc()/observe() (about 0.3 and 0.6 µs;
 * four of them per request were 4 % of the proxy's CPU under load, see
 * docs/benchmarks.md). Here a label set is resolved once to a series object
 * and a request only adds to numbers; the registry reads them when scraped,
 * so the exposition is prom-client's own.
 */
import { Counter, type Histogram, type Registry } from 'prom-client';

type Labels<L extends string> = Record<L, string>;

/** A counter whose series are cached per label values; counts reach prom-client at scrape time. */
export class SeriesCounter<L extends string> {
  private readonly series = new Map<string, { labels: Labels<L>; pending: number }>();
  /** Two-label series by first then second value: a lookup builds no key string. */
  private readonly pairs: Pairs<{ labels: Labels<L>; pending: number }> = new Map();
  readonly counter: Counter<L>;

  constructor(name: string, help: string, private readonly labelNames: readonly L[], registry: Registry) {
    const series = this.series;
    this.counter = new Counter<L>({
      name, help, labelNames, registers: [registry],
      collect() {
        for (const s of series.values()) {
          if (s.pending === 0) continue;
          this.inc(s.labels, s.pending);
          s.pending = 0;
        }
      },
    });
  }

  /** Adds `n` to the series of these label values (in labelNames order). */
  inc(values: readonly string[], n = 1): void {
    let s = values.length === 2 ? this.pairs.get(values[0]!)?.get(values[1]!) : undefined;
    if (s === undefined) {
      const key = values.length === 1 ? values[0]! : values.join('\u0000');
      s = this.series.get(key);
      if (s === undefined) {
        s = { labels: labelsOf(this.labelNames, values), pending: 0 };
        this.series.set(key, s);
        this.counter.inc(s.labels, 0); // the series shows from now on, at 0
      }
      if (values.length === 2) remember(this.pairs, values, s);
    }
    s.pending += n;
  }

  /** Drops every series whose label `name` has `value` (a backend that left the set). */
  removeWhere(name: L, value: string): void {
    this.pairs.clear();
    for (const [key, s] of this.series) {
      if (s.labels[name] !== value) continue;
      this.series.delete(key);
      this.counter.remove(s.labels);
    }
  }
}

interface HistogramSeries<L extends string> {
  readonly labels: Labels<L>;
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with cached series, exposed through the registry like prom-client's own. */
export class SeriesHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries<L>>();
  private readonly pairs: Pairs<HistogramSeries<L>> = new Map();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    // The registry takes any object with prom-client's metric shape (name, help, type, get, reset).
    registry.registerMetric(this as unknown as Histogram<L>);
  }

  observe(values: readonly string[], value: number): void {
    let s = values.length === 2 ? this.pairs.get(values[0]!)?.get(values[1]!) : undefined;
    if (s === undefined) {
      const key = values.length === 1 ? values[0]! : values.join('\u0000');
      s = this.series.get(key);
      if (s === undefined) {
        s = { labels: labelsOf(this.labelNames, values), counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
        this.series.set(key, s);
      }
      if (values.length === 2) remember(this.pairs, values, s);
    }
    const b = this.buckets;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  /** prom-client's `get()`: the series as cumulative `_bucket`, `_sum` and `_count` samples. */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> }> {
    const values = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.buckets[i]!, ...s.labels }, value: acc });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Drops every series whose label `name` has `value` (a backend that left the set). */
  removeWhere(name: L, value: string): void {
    this.pairs.clear();
    for (const [key, s] of this.series) if (s.labels[name] === value) this.series.delete(key);
  }

  reset(): void {
    this.pairs.clear();
    this.series.clear();
  }
}

/** Series of two-label metrics, by first then second label value (a lookup cache; `series` stays the record). */
type Pairs<S> = Map<string, Map<string, S>>;

function remember<S>(pairs: Pairs<S>, values: readonly string[], s: S): void {
  let second = pairs.get(values[0]!);
  if (second === undefined) pairs.set(values[0]!, (second = new Map()));
  second.set(values[1]!, s);
}

function labelsOf<L extends string>(names: readonly L[], values: readonly string[]): Labels<L> {
  const labels = {} as Labels<L>;
  names.forEach((name, i) => (labels[name] = values[i]!));
  return labels;
}
