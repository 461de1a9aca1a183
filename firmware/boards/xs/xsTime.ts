import type { ClockPort } from '../../io/Clock.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { host } from './native.ts';
import { xsLoop } from './xsLoop.ts';

/**
 * The board clock: CLOCK_REALTIME (wrong at boot on boards without RTC; ServerClock corrects it) and CLOCK_MONOTONIC.
 * Both, and the timers below, run N times faster when a test starts the runtime with `--time-scale N`: the
 * firmware cannot tell, which is the point (an accelerated run exercises the same code as a real one).
 */
export const xsClock: ClockPort = Object.freeze({
  now: () => host().now(),
  monotonic: () => host().monotonic(),
});

/** One-shot timers on the host's min-heap; the handle is the host's timer id. */
export const xsTimers: TimerPort = Object.freeze({
  set: (ms: number, callback: () => void) => xsLoop.addTimer(Math.max(0, ms), callback) as unknown as TimerHandle,
  clear: (handle: TimerHandle) => xsLoop.removeTimer(handle as unknown as number),
});
