// Small helpers shared by suites on every runner (pure ECMAScript, like the rest of the harness).
import type { ClockPort } from '../../firmware/io/Clock.ts';
import type { TimerHandle, TimerPort } from '../../firmware/io/Timer.ts';

/** xorshift32: a fixed sequence of uint32s, so a failing iteration can be replayed from its seed. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** mulberry32: a fixed sequence of numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The parts one after another in a new array. */
export function concatBytes(parts: readonly ArrayLike<number>[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Hand-driven time for protocol suites: one monotonic clock, a wall clock a fixed offset from it, and timers
 * that fire only when a test advances the clock, earliest first.
 */
export class FakeTime implements ClockPort, TimerPort {
  mono = 0;
  private pending: { id: number; at: number; callback: () => void }[] = [];
  private nextId = 1;
  now(): number {
    return 1_700_000_000_000 + this.mono;
  }
  monotonic(): number {
    return this.mono;
  }
  set(ms: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.mono + ms, callback });
    return id as unknown as TimerHandle;
  }
  clear(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== (handle as unknown as number));
  }
  /** How many timers are armed. */
  get timers(): number {
    return this.pending.length;
  }
  /** The armed timers' remaining delays, shortest first. */
  delays(): number[] {
    return this.pending.map((p) => p.at - this.mono).sort((a, b) => a - b);
  }
  /** Moves the clock forward by `ms`, firing each timer that falls due at its own time, in order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      let due: (typeof this.pending)[number] | undefined;
      for (const p of this.pending) if (p.at <= end && (!due || p.at < due.at)) due = p;
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.mono = due.at;
      due.callback();
    }
    this.mono = end;
  }
}
