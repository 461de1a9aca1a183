import type { ClockPort } from '../../io/Clock.ts';

/**
 * The board clock corrected by the offset learnt from servers' `Date` headers (design.md §4: boards boot
 * with no RTC; user-needs.md row 5). Signing and timestamps read `now()`. The Date header has one-second
 * resolution, so offsets under `toleranceMs` are ignored unless a server refused our time.
 */
export class ServerClock {
  private readonly clock: ClockPort;
  private readonly toleranceMs: number;
  offsetMs = 0;
  /** Times the offset was changed (telemetry). */
  corrections = 0;

  constructor(clock: ClockPort, toleranceMs = 60_000) {
    this.clock = clock;
    this.toleranceMs = toleranceMs;
  }

  now(): number {
    return this.clock.now() + this.offsetMs;
  }

  monotonic(): number {
    return this.clock.monotonic();
  }

  /** Records a server's time; `force` after the server refused our time (then any difference counts). */
  observe(serverMs: number, force = false): void {
    const diff = serverMs - this.now();
    if (Math.abs(diff) >= (force ? 1000 : this.toleranceMs)) {
      this.offsetMs += diff;
      this.corrections++;
    }
  }
}
