/**
 * ACK latency percentiles over the most recent `capacity` samples, in fixed memory (a ring of doubles
 * allocated once). Percentiles sort a copy into a second preallocated array: O(n log n) on demand, never
 * on the per-frame path.
 */
export class LatencyStats {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private next = 0;
  private filled = 0;
  count = 0;

  constructor(capacity = 1024) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
    this.count++;
  }

  /** Forgets the retained samples (a window per status interval); `count` keeps counting. */
  clear(): void {
    this.next = 0;
    this.filled = 0;
  }

  /** Samples retained now (at most the capacity). */
  get retained(): number {
    return this.filled;
  }

  /** The p-th percentile (0-100, nearest rank) of the retained samples, or NaN when there are none. */
  percentile(p: number): number {
    if (this.filled === 0) return Number.NaN;
    const view = this.sorted.subarray(0, this.filled);
    view.set(this.ring.subarray(0, this.filled));
    view.sort();
    const rank = Math.min(this.filled - 1, Math.max(0, Math.ceil((p / 100) * this.filled) - 1));
    return view[rank]!;
  }
}
