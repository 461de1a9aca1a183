/** Time, always passed to core code as a port so tests pin it (design.md §7). */
export interface ClockPort {
  /** Wall-clock time, epoch milliseconds, as the board believes it (may be wrong at boot: no RTC). */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin; never jumps. */
  monotonic(): number;
}
