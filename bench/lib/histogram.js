/** Latency histogram with 1 µs buckets up to 1 s, and exact values kept above that. */
const BUCKETS = 1_000_000;

export class LatencyHistogram {
  constructor() {
    this.buckets = new Uint32Array(BUCKETS);
    this.over = [];
    this.count = 0;
  }

  /** @param {number} us microseconds */
  record(us) {
    const i = Math.max(0, Math.round(us));
    if (i < BUCKETS) this.buckets[i] += 1;
    else this.over.push(i);
    this.count += 1;
  }

  /** The value (µs) at or below which p percent of the recorded values lie; NaN when empty. */
  percentile(p) {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i];
      if (seen >= rank) return i;
    }
    const over = [...this.over].sort((a, b) => a - b);
    return over[rank - seen - 1];
  }
}
