import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { FieldcamError, type ErrorCode } from '../errors.ts';

/**
 * How long each phase of a connection attempt may take, in milliseconds (docs/reliability.md, "Device:
 * connections"). A path that accepts packets and forwards nothing must cost one deadline, never "as long
 * as the socket stays open" (issue 11 item 1).
 */
export interface NetDeadlines {
  /** Socket opened → TCP connected. */
  readonly connectMs: number;
  /** TCP connected → TLS handshake done. */
  readonly tlsMs: number;
  /** Request written → complete response head (status line and headers). */
  readonly headMs: number;
  /** PutMedia 200 → the first acknowledgement of any kind (BUFFERING arrives after the first fragment's first bytes). */
  readonly firstAckMs: number;
  /** MQTT CONNECT written → CONNACK (the broker's own CONNECT wait is its business, §3.1.4). */
  readonly connackMs: number;
}

/**
 * Defaults: a Pi on Wi-Fi connects in tens of milliseconds and handshakes (RSA 2048, ARM1176) in well under
 * a second; ten seconds each leaves room for a congested uplink while bounding a dead one. The first ACK
 * waits for a whole first fragment to leave on a slow link, so it gets more.
 */
export const NET_DEADLINE_DEFAULTS: NetDeadlines = Object.freeze({
  connectMs: 10_000,
  tlsMs: 10_000,
  headMs: 10_000,
  firstAckMs: 20_000,
  connackMs: 10_000,
});

/** The phases of one attempt, in the order they happen. */
export type NetPhase = 'connect' | 'tls' | 'head' | 'firstAck' | 'connack';

const PHASE_CODE = Object.freeze({
  connect: 'NET_CONNECT_TIMEOUT',
  tls: 'NET_TLS_TIMEOUT',
  head: 'HTTP_HEAD_TIMEOUT',
  firstAck: 'UPLOAD_FIRST_ACK_TIMEOUT',
  connack: 'MQTT_CONNACK_TIMEOUT',
} as const satisfies Record<NetPhase, ErrorCode>);

const PHASE_TEXT = Object.freeze({
  connect: 'TCP connection',
  tls: 'TLS handshake',
  head: 'HTTP response head',
  firstAck: 'first acknowledgement',
  connack: 'CONNACK',
} as const satisfies Record<NetPhase, string>);

/**
 * The one deadline of a connection attempt, moved from phase to phase. `enter(phase)` (re)arms the timer
 * with that phase's budget; when it fires, `onExpired` receives the phase's named error and the owner tears
 * the attempt down (its supervisor's backoff takes over). One timer per attempt, no allocation per phase.
 *
 * Boards that cannot report "TCP connected" apart from "TLS done" (the Socket port's optional
 * `onTransportConnect`) simply never enter 'tls': `enterConnect(tls)` then grants connect + TLS budget to the
 * connect phase, so the bound holds on every board.
 */
export class PhaseDeadline {
  private readonly timers: TimerPort;
  private readonly deadlines: NetDeadlines;
  private readonly onExpired: (error: FieldcamError) => void;
  private readonly fire: () => void;
  private readonly where: string;
  private timer: TimerHandle | undefined;
  private phase: NetPhase = 'connect';
  private budget = 0;
  /** The connect phase covers the TLS handshake too (until the board reports TCP apart). */
  private withTls = false;

  constructor(timers: TimerPort, deadlines: NetDeadlines, where: string, onExpired: (error: FieldcamError) => void) {
    for (const key of ['connectMs', 'tlsMs', 'headMs', 'firstAckMs', 'connackMs'] as const) {
      if (!(deadlines[key] > 0)) throw new RangeError(`deadlines.${key} must be > 0, got ${deadlines[key]}`);
    }
    this.timers = timers;
    this.deadlines = deadlines;
    this.where = where;
    this.onExpired = onExpired;
    this.fire = () => this.expired(`${this.budget} ms`);
  }

  /** The socket is being opened: with TLS, the budget covers the handshake too until `enter('tls')`. */
  enterConnect(tls: boolean): void {
    this.withTls = tls;
    this.arm('connect', tls ? this.deadlines.connectMs + this.deadlines.tlsMs : this.deadlines.connectMs);
  }

  enter(phase: Exclude<NetPhase, 'connect'>): void {
    const d = this.deadlines;
    this.withTls = false;
    this.arm(phase, phase === 'tls' ? d.tlsMs : phase === 'head' ? d.headMs : phase === 'firstAck' ? d.firstAckMs : d.connackMs);
  }

  /** The attempt got past its last guarded phase, or ended: no deadline runs. */
  clear(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  /**
   * An outer bound of the owner ran out first (e.g. a whole exchange's timeout): reports the phase being
   * timed as expired now, so the error names where the attempt stood. False when no phase is timed.
   */
  expire(outerMs: number): boolean {
    if (this.timer === undefined) return false;
    this.clear();
    this.expired(`the exchange's ${outerMs} ms`);
    return true;
  }

  /** The phase being timed, or undefined when none is. */
  get current(): NetPhase | undefined {
    return this.timer === undefined ? undefined : this.phase;
  }

  private expired(within: string): void {
    this.timer = undefined;
    const what = this.phase === 'connect' && this.withTls ? 'TCP connection and TLS handshake' : PHASE_TEXT[this.phase];
    this.onExpired(new FieldcamError(PHASE_CODE[this.phase], `${this.where}: no ${what} within ${within}`));
  }

  private arm(phase: NetPhase, ms: number): void {
    this.clear();
    this.phase = phase;
    this.budget = ms;
    this.timer = this.timers.set(ms, this.fire);
  }
}
