/**
 * The storage under the dashboard's history: a ring index shared by
 * fixed-size typed-array columns (so memory is set at construction and never
 * grows), and the quantile estimate from histogram bucket counts.
 */

/** Which slot the next sample goes to, and how many slots hold samples. */
export class RingIndex {
  private next = 0;
  private filled = 0;

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
  }

  get count(): number {
    return this.filled;
  }

  /** Claims the slot for a new sample (overwriting the oldest once full) and returns it. */
  advance(): number {
    const slot = this.next;
    this.next = (this.next + 1) % this.slots;
    if (this.filled < this.slots) this.filled += 1;
    return slot;
  }

  /** The slot of the i-th sample held, oldest first (0 ≤ i < count). */
  slotOf(i: number): number {
    return (this.next - this.filled + i + this.slots) % this.slots;
  }

  /** A column's held samples from the `from`-th on, oldest first; `map` turns a stored value into its JSON form. */
  read<T>(column: ArrayLike<number>, map: (value: number) => T, from = 0): T[] {
    const start = Math.min(Math.max(0, from), this.filled);
    const out = new Array<T>(this.filled - start);
    for (let i = start; i < this.filled; i++) out[i - start] = map(column[this.slotOf(i)]!);
    return out;
  }
}

/** A column of `slots` 32-bit floats, NaN (no sample) until written. */
export function floatColumn(slots: number): Float32Array {
  return new Float32Array(slots).fill(Number.NaN);
}

/** A stored number as JSON: null for no sample, else rounded to `digits` decimals. */
export function rounded(digits: number): (value: number) => number | null {
  const f = 10 ** digits;
  return (value) => (Number.isFinite(value) ? Math.round(value * f) / f : null);
}

/**
 * The q-quantile (0 < q < 1) of the observations counted in `cumulative`
 * (Prometheus-style cumulative bucket counts: cumulative[i] observations were
 * ≤ bounds[i]; the last entry, one past bounds, is the total, +Inf).
 * Linear within the bucket that holds the rank, the first bucket starting at
 * 0, as histogram_quantile does; a rank in +Inf answers the highest bound.
 * NaN when nothing was observed.
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: ArrayLike<number>): number {
  const total = cumulative[bounds.length] ?? 0;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upto = cumulative[i]!;
    if (upto >= rank && upto > below) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - below) / (upto - below));
    }
    below = upto;
  }
  return bounds.length === 0 ? Number.NaN : bounds[bounds.length - 1]!;
}

/**
 * Per-entry `now - before` of two cumulative readings of one series. If the
 * series restarted (its last entry, the total, went down) the delta is `now`.
 */
export function deltas(now: ArrayLike<number>, before: ArrayLike<number> | undefined, into: Float64Array): Float64Array {
  const last = into.length - 1;
  const restarted = before === undefined || (now[last] ?? 0) < (before[last] ?? 0);
  for (let i = 0; i < into.length; i++) into[i] = Math.max(0, (now[i] ?? 0) - (restarted ? 0 : before[i] ?? 0));
  return into;
}
