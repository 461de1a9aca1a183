import type { ClockPort } from '../../io/Clock.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import type { InFlightSet } from './InFlightSet.ts';

export interface ConnectionSupervisorEvents {
  /** Once a second while started, before the connection checks; false skips them (the session just ended). */
  onTick(now: number): boolean;
  /** A fragment has waited `stalenessMs` for BUFFERING and the connection made no progress as long: reset it. */
  onStale(stalenessMs: number): void;
  /** The connection passed the staleness check this tick (the session relieves latency pressure here). */
  onHealthy(now: number): void;
  /** The connection reached `rotateMs`: end it at the next fragment boundary (`rotating` is now true). */
  onRotate(): void;
}

export interface ConnectionSupervisorOptions {
  readonly timers: TimerPort;
  readonly clock: Pick<ClockPort, 'monotonic'>;
  readonly flights: InFlightSet;
  /** kvs-reference.md §7.1: 30 s. */
  readonly stalenessMs: number;
  /** Before the service's 45-minute cap (§4.7). */
  readonly rotateMs: number;
  readonly events: ConnectionSupervisorEvents;
}

export type SupervisedPhase = 'none' | 'streaming' | 'draining';

const TICK_MS = 1000;

/**
 * Watches the PutMedia connection of the moment: the staleness rule (no BUFFERING for a fragment AND no sign of
 * life for `stalenessMs`: a slow link that keeps moving bytes is never stale) and rotation before the
 * connection cap. It owns the session's one-second tick. Lifecycle (design.md §7): start() arms the tick,
 * close() clears it; no event after close, use after close throws.
 */
export class ConnectionSupervisor {
  private readonly o: ConnectionSupervisorOptions;
  private tick: TimerHandle | undefined;
  private started = false;
  private closed = false;
  private phase: SupervisedPhase = 'none';
  /** Monotonic ms the current connection answered 200. */
  openedAt = 0;
  /** Monotonic ms of the last sign of life on the connection: ready, bytes drained, an ACK. */
  lastProgressAt = 0;
  /** The connection is being ended at a fragment boundary for rotation. */
  rotating = false;

  constructor(options: ConnectionSupervisorOptions) {
    this.o = options;
  }

  start(): void {
    this.checkOpen();
    if (this.started) throw new RangeError('start() called twice');
    this.started = true;
    this.arm();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tick) this.o.timers.clear(this.tick);
    this.tick = undefined;
  }

  /** What the connection is doing: only a streaming or draining connection is watched. */
  watch(phase: SupervisedPhase): void {
    this.checkOpen();
    this.phase = phase;
  }

  /** The connection answered 200. */
  opened(): void {
    this.checkOpen();
    this.openedAt = this.lastProgressAt = this.o.clock.monotonic();
  }

  /** Bytes left or an ACK arrived. */
  progress(): void {
    this.checkOpen();
    this.lastProgressAt = this.o.clock.monotonic();
  }

  private arm(): void {
    this.tick = this.o.timers.set(TICK_MS, () => this.onTick());
  }

  private onTick(): void {
    if (this.closed) return;
    this.arm();
    const now = this.o.clock.monotonic();
    const events = this.o.events;
    if (!events.onTick(now) || this.closed) return;
    if (this.phase === 'none') return;
    const stalenessMs = this.o.stalenessMs;
    if (now - this.lastProgressAt > stalenessMs && this.o.flights.unbufferedOlderThan(now, stalenessMs)) {
      events.onStale(stalenessMs);
      return;
    }
    events.onHealthy(now);
    if (this.closed) return;
    if (!this.rotating && this.phase === 'streaming' && now - this.openedAt > this.o.rotateMs) {
      this.rotating = true;
      events.onRotate();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the ConnectionSupervisor is closed');
  }
}
