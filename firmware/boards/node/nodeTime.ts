import { performance } from 'node:perf_hooks';
import type { ClockPort } from '../../io/Clock.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';

/** The Node board's clock: wall time from Date.now, monotonic time from performance.now. */
export const nodeClock: ClockPort = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
});

/** Node timers behind the TimerPort; handles are opaque to the core. */
export const nodeTimers: TimerPort = Object.freeze({
  set: (ms: number, callback: () => void) => setTimeout(callback, Math.max(0, ms)) as unknown as TimerHandle,
  clear: (handle: TimerHandle) => clearTimeout(handle as unknown as NodeJS.Timeout),
});
