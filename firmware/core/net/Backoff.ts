/**
 * Jittered exponential backoff for reconnects (user-needs.md row 1: endless retries, never a terminal
 * state except fatal auth/config errors). Delay n = min(maxMs, initialMs·2^n), then "equal jitter": half
 * fixed, half random, so a fleet that lost the same uplink does not reconnect in lockstep.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: { initialMs: number; maxMs: number; random: () => number }) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) throw new RangeError('need 0 < initialMs <= maxMs');
    this.initialMs = options.initialMs;
    this.maxMs = options.maxMs;
    this.random = options.random;
  }

  /** The delay before the next attempt; each call doubles the base up to the cap. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base / 2 + (base / 2) * this.random());
  }

  /** Called after success (a PERSISTED acknowledgement): the next failure starts from the beginning. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
