/**
 * Timestamps from the capture clock (design.md §5): each access unit is stamped from the monotonic time its first
 * bytes arrived, mapped to wall time, so a camera that pauses does not push every later frame into the past.
 *
 * Arrival times jitter (pipe buffering, the event loop's turn), so they are smoothed against the nominal cadence:
 * while a frame arrives within one frame interval of where the cadence expects it, it gets the cadence's time.
 * Further off, the cadence is re-anchored:
 * - late by more than an interval (the camera paused, or the device did not read): the frame gets its true
 *   arrival time, and the cadence continues from there;
 * - early by more than an interval (a backlog arriving in a burst, or a nominal rate slower than the camera's):
 *   the frame gets its arrival time but never less than the previous frame's end, and its duration is half an
 *   interval, so a burst is laid out at twice the rate until the stamps meet the arrival times again.
 *
 * Times are kept as doubles and rounded per frame from the anchor (never accumulated), so long runs do not drift.
 * `DTS(n) >= DTS(n-1) + duration(n-1)` (kvs-reference.md §5.3) holds by construction. Nothing is allocated.
 */
export class CaptureClock {
  private periodMs: number;
  /** Wall ms of monotonic 0: the board's clock at start, corrected by `rebase` once the true time is known. */
  private offset: number;
  private anchored = false;
  private anchorWall = 0;
  private index = 0;
  /** The earliest time the next frame may have: the previous frame's PTS + duration. */
  private nextMin = -Infinity;
  /** Frames whose stamp moved the cadence (late or early by more than an interval). */
  reanchors = 0;
  /** The last stamp moved forward past a gap (a pause): the frame after it begins later than the cadence. */
  lastWasGap = false;

  /** `wallAtStart`: wall ms at monotonic time `monotonicAtStart`; `periodMs`: the nominal frame interval. */
  constructor(wallAtStart: number, monotonicAtStart: number, periodMs: number) {
    this.offset = wallAtStart - monotonicAtStart;
    this.periodMs = periodMs;
  }

  /** The nominal interval changed (the bitstream's VUI timing became known before the first frame). */
  setPeriod(periodMs: number): void {
    if (!(periodMs > 0)) throw new RangeError('periodMs must be > 0');
    if (this.periodMs === periodMs) return;
    this.periodMs = periodMs;
    if (this.anchored) {
      // Continue from the last stamp with the new interval.
      this.anchorWall = this.nextMin;
      this.index = 0;
    }
  }

  /** Every stamp, past and future, moves by `deltaMs` (the wall clock was learnt from the server). */
  rebase(deltaMs: number): void {
    this.offset += deltaMs;
    this.anchorWall += deltaMs;
    this.nextMin += deltaMs;
  }

  /** Wall ms for a capture at monotonic `capturedAt`, written to `out.pts` / `out.duration` (integers, ms). */
  stamp(capturedAt: number, out: { pts: number; dts: number; duration: number }): void {
    const p = this.periodMs;
    const arrived = capturedAt + this.offset;
    this.lastWasGap = false;
    let half = false;
    if (!this.anchored) {
      this.anchor(arrived);
      this.anchored = true;
    } else {
      const expected = this.anchorWall + this.index * p;
      if (arrived - expected > p) {
        this.anchor(arrived);
        this.lastWasGap = true;
        this.reanchors++;
      } else if (expected - arrived > p) {
        this.anchor(arrived > this.nextMin ? arrived : this.nextMin);
        half = true;
        this.reanchors++;
      }
    }
    let pts = Math.round(this.anchorWall + this.index * p);
    if (pts < this.nextMin) pts = Math.ceil(this.nextMin);
    let end = Math.round(this.anchorWall + (this.index + 1) * p);
    if (half) end = pts + Math.max(1, Math.round(p / 2));
    if (end <= pts) end = pts + 1;
    out.pts = out.dts = pts;
    out.duration = end - pts;
    this.nextMin = end;
    this.index++;
    if (half) {
      // The next frame's cadence starts at this frame's shortened end.
      this.anchorWall = end;
      this.index = 0;
    }
  }

  private anchor(wall: number): void {
    this.anchorWall = wall;
    this.index = 0;
  }
}
