import type { ClockPort } from '../../io/Clock.ts';
import type { SocketFactory, TlsOptions } from '../../io/Socket.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { FieldcamError } from '../errors.ts';
import { Backoff } from '../net/Backoff.ts';
import { NET_DEADLINE_DEFAULTS, PhaseDeadline, type NetDeadlines } from '../net/PhaseDeadline.ts';
import { TLS_VERIFY_CODE } from '../net/socketError.ts';
import { ViewList } from '../media/ViewList.ts';
import { CONNACK_RETURN, PACKET_TYPE, SUBACK_FAILURE, type QoS } from './mqttConstants.ts';
import { MqttConnection, type MqttConnectionEvents } from './MqttConnection.ts';
import { MqttDecoder } from './MqttDecoder.ts';
import type { MqttInbound, PublishRecord } from './MqttInbound.ts';
import { writeConnect, type WillFields } from './writeConnect.ts';
import { writeDisconnect } from './writeDisconnect.ts';
import { writePingreq } from './writePingreq.ts';
import { writePuback } from './writePuback.ts';
import { writePublish } from './writePublish.ts';
import { writeSubscribe, type Subscription } from './writeSubscribe.ts';
import { Qos1Ring } from './Qos1Ring.ts';

export interface MqttClientOptions {
  readonly sockets: SocketFactory;
  readonly timers: TimerPort;
  readonly clock: ClockPort;
  /** [0, 1): backoff jitter. */
  readonly random: () => number;
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  readonly clientId: string;
  /** §3.1.2.10; 0 turns keep-alive (and PINGREQ) off. */
  readonly keepAliveSeconds: number;
  /** §3.1.2.4; default false: a persistent session (subscriptions and QoS 1 messages survive reconnects). */
  readonly cleanSession?: boolean;
  /** §3.1.2.5: what the broker publishes for us when the connection drops without a DISCONNECT. */
  readonly will?: WillFields;
  /** Outgoing QoS 1 messages kept until PUBACK; when full, publish() returns false and counts a drop. */
  readonly maxQueued?: number;
  /** Largest packet sent or received; each queue slot is this big, allocated at construction. */
  readonly maxPacketBytes?: number;
  /** Per-phase deadlines of a connection attempt: TCP, TLS, CONNACK (core/net/PhaseDeadline.ts). */
  readonly deadlines?: NetDeadlines;
  /** Time allowed for the CONNACK once CONNECT is written (overrides deadlines.connackMs). */
  readonly connectTimeoutMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** An inbound PUBLISH; `payload` is valid only during the call. A QoS 1 message is acknowledged after it returns. */
  onMessage(topic: string, payload: Uint8Array, qos: QoS): void;
  onConnectionChange(connected: boolean): void;
  /** A PUBACK freed room in the QoS 1 queue (a caller whose publish() was refused may try again now). */
  onQueueSpace?(): void;
  /**
   * An inbound PUBLISH larger than maxPacketBytes: skipped (and acknowledged at QoS 1) with the connection
   * kept, and reported as MQTT_PACKET_TOO_LARGE through onError; this tells the receiver whose message it was.
   */
  onOversize?(topic: string, packetBytes: number): void;
  /** Why a connection failed or a subscription was refused (codes in area 'mqtt'); informational. */
  onError?(error: FieldcamError): void;
}

export const MQTT_CLIENT_DEFAULTS = Object.freeze({
  maxQueued: 8,
  maxPacketBytes: 2048,
  backoffInitialMs: 1000,
  backoffMaxMs: 120_000,
} as const);

// Connection states.
const OPENING = 0; // socket connecting, or CONNECT sent and the CONNACK awaited
const CONNECTED = 1;
const WAITING = 2; // backoff before the next attempt
const STOPPED = 3; // refused for good (credentials): no more attempts
const CLOSED = 4;
const IDLE = 5; // built, start() not called yet

interface SubscriptionState {
  readonly filter: string;
  readonly qos: QoS;
  /** Packet Identifier of the SUBSCRIBE in flight, 0 when none. */
  sentId: number;
  acked: boolean;
}

interface MutablePublishFields {
  topic: string;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  packetId: number | undefined;
}

/**
 * An MQTT 3.1.1 client (OASIS mqtt-v3.1.1-os) for QoS 0 and 1 over the Socket port: CONNECT, SUBSCRIBE,
 * PUBLISH, PUBACK, PINGREQ, reconnect with jittered exponential backoff.
 *
 * - Outgoing QoS 1 messages are written once, whole, into a ring of `maxQueued` slots allocated at
 *   construction and kept until their PUBACK; after a reconnect they are re-sent with DUP set in place
 *   ([MQTT-4.4.0-1], §3.3.1.1). publish() copies the payload into its slot; nothing else is allocated.
 * - Subscriptions are re-sent after a reconnect when the CONNACK says no session is present (§3.2.2.2).
 * - Keep-alive (§3.1.2.10): a PINGREQ when nothing was sent for keepAliveSeconds. The 1.5× grace of that
 *   clause binds the server; for the client the clause only says to close the connection if no PINGRESP
 *   comes "within a reasonable amount of time" — we allow keepAliveSeconds/2, then reconnect.
 * - A malformed packet from the broker drops the connection (§4.8) and the client reconnects. A PUBLISH
 *   larger than maxPacketBytes is not malformed: it is skipped, acknowledged and reported (onOversize), since
 *   a dropped connection would have it re-delivered on every reconnect.
 * - CONNACK 4 (bad user name or password) and 5 (not authorized) stop retrying (MQTT_NOT_AUTHORIZED);
 *   1-3 retry with backoff (MQTT_CONNECT_REFUSED). A broker certificate that cannot be verified stops too
 *   (MQTT_TLS_VERIFY): a wrong CA or endpoint is a misconfiguration, as on the upload path.
 * - Lifecycle (design.md §7, the same for every network object): the constructor connects nothing; start()
 *   opens the first connection; close() sends DISCONNECT when connected (§3.14), stops the timers; no callback
 *   runs afterwards and start/publish/subscribe throw.
 * - Each attempt is an MqttConnection; `conn` is the current one (undefined while waiting, stopped or closed).
 *   Whatever may have changed it — a socket event, a callback into the application that may close or drop —
 *   is followed by `conn === this.conn` before acting for that connection.
 */
export class MqttClient {
  private readonly options: MqttClientOptions;
  private readonly timers: TimerPort;
  private readonly clock: ClockPort;
  private readonly backoff: Backoff;
  private readonly keepAliveMs: number;
  private readonly deadline: PhaseDeadline;
  private readonly decoder: MqttDecoder;
  private readonly received: Uint8Array;
  private readonly scratch: Uint8Array;
  private readonly views = new ViewList(1);
  private readonly fields: MutablePublishFields = { topic: '', qos: 0, retain: false, dup: false, packetId: undefined };
  private readonly onTimer: () => void;
  private readonly onPacket: (packet: MqttInbound) => void;

  private readonly ring: Qos1Ring;

  private readonly subscriptions: SubscriptionState[] = [];
  /** The current connection attempt; undefined while waiting to retry, stopped or closed. */
  private conn: MqttConnection | undefined;
  /** One set of socket events for every connection: each names its connection, checked against `conn`. */
  private readonly connEvents: MqttConnectionEvents;
  private state = IDLE;
  private timer: TimerHandle | undefined;
  private nextId = 0;
  /** Messages refused by publish(): the QoS 1 queue was full, or a QoS 0 message could not be sent. */
  dropped = 0;

  constructor(options: MqttClientOptions) {
    const maxQueued = options.maxQueued ?? MQTT_CLIENT_DEFAULTS.maxQueued;
    const maxPacketBytes = options.maxPacketBytes ?? MQTT_CLIENT_DEFAULTS.maxPacketBytes;
    if (!Number.isInteger(maxQueued) || maxQueued < 1 || maxQueued > 0xffff) throw new RangeError(`maxQueued must be an integer in 1..65535, got ${maxQueued}`);
    if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 16) throw new RangeError(`maxPacketBytes must be an integer >= 16, got ${maxPacketBytes}`);
    if (!Number.isInteger(options.keepAliveSeconds) || options.keepAliveSeconds < 0 || options.keepAliveSeconds > 0xffff) {
      throw new RangeError(`keepAliveSeconds must be an integer in 0..65535, got ${options.keepAliveSeconds}`);
    }
    this.options = options;
    this.timers = options.timers;
    this.clock = options.clock;
    this.keepAliveMs = options.keepAliveSeconds * 1000;
    const deadlines = options.deadlines ?? NET_DEADLINE_DEFAULTS;
    const phases = options.connectTimeoutMs === undefined ? deadlines : { ...deadlines, connackMs: options.connectTimeoutMs };
    this.deadline = new PhaseDeadline(options.timers, phases, `MQTT connection to ${options.host}:${options.port}`, (error) => this.drop(error));
    this.backoff = new Backoff({
      initialMs: options.backoff?.initialMs ?? MQTT_CLIENT_DEFAULTS.backoffInitialMs,
      maxMs: options.backoff?.maxMs ?? MQTT_CLIENT_DEFAULTS.backoffMaxMs,
      random: options.random,
    });
    this.onPacket = (packet) => this.handle(packet);
    this.decoder = new MqttDecoder({ onPacket: this.onPacket, onOversizePublish: (packet, bytes) => this.oversize(packet, bytes), maxPacketBytes });
    this.received = new Uint8Array(Math.min(maxPacketBytes, 4096));
    this.scratch = new Uint8Array(maxPacketBytes);
    this.ring = new Qos1Ring(maxQueued, maxPacketBytes);
    this.onTimer = () => this.tick();
    this.connEvents = {
      onTransportConnect: (conn) => {
        if (conn === this.conn) this.deadline.enter('tls');
      },
      onConnect: (conn) => {
        if (conn !== this.conn) return;
        this.deadline.enter('connack');
        this.send(this.scratch, writeConnect(this.connectFields(), this.scratch));
      },
      onReadable: (conn) => {
        if (conn === this.conn) this.readAll(conn);
      },
      onWritable: (conn) => {
        if (conn === this.conn && this.state === CONNECTED) this.flush();
      },
      onClose: (conn, error) => {
        if (conn !== this.conn) return;
        const o = this.options;
        if ((error as (Error & { code?: string }) | undefined)?.code === TLS_VERIFY_CODE) {
          this.stop(new FieldcamError('MQTT_TLS_VERIFY', `MQTT connection to ${o.host}:${o.port}: ${error!.message}`));
          return;
        }
        this.drop(
          new FieldcamError('MQTT_CONNECTION_LOST', `MQTT connection to ${o.host}:${o.port} ${error ? `failed: ${error.message}` : 'closed by the broker'}`),
        );
      },
    };
    // Validate the CONNECT (client id, will) now, as a RangeError/MQTT_* to the caller, not on some later connect.
    writeConnect(this.connectFields(), this.scratch);
  }

  /** Opens the first connection (the constructor connects nothing); later ones follow by themselves. */
  start(): void {
    this.checkOpen();
    if (this.state !== IDLE) throw new RangeError('start() called twice');
    this.open();
  }

  get connected(): boolean {
    return this.state === CONNECTED;
  }

  /** QoS 1 messages waiting for their PUBACK (sent or not). */
  get queued(): number {
    return this.ring.count;
  }

  /**
   * QoS 0: sent now if connected and the socket takes it, else dropped. QoS 1: copied into the queue and sent
   * when connected; kept until PUBACK. Returns false (and counts a drop) when the message was not accepted.
   */
  publish(topic: string, payload: Uint8Array, qos: QoS, retain = false): boolean {
    this.checkOpen();
    const f = this.fields;
    f.topic = topic;
    f.qos = qos;
    f.retain = retain;
    f.dup = false;
    if (qos === 0) {
      f.packetId = undefined;
      const n = writePublish(f, payload, this.scratch); // validates even when the message is then dropped
      if (this.state !== CONNECTED || this.conn!.writable <= 0) {
        this.dropped++;
        return false;
      }
      this.send(this.scratch, n);
      return true;
    }
    if (this.ring.full) {
      this.dropped++;
      return false;
    }
    const id = this.allocateId();
    f.packetId = id;
    this.ring.commit(id, writePublish(f, payload, this.ring.free()));
    if (this.state === CONNECTED) this.flush();
    return true;
  }

  /** Adds a subscription, kept for the life of the client; sent now if connected, else after the next CONNACK. */
  subscribe(filter: string, qos: QoS): void {
    this.checkOpen();
    // Validate now (throws MQTT_TOPIC_INVALID / RangeError) rather than on some later reconnect.
    writeSubscribe(1, [{ filter, qos }], this.scratch);
    this.subscriptions.push({ filter, qos, sentId: 0, acked: false });
    if (this.state === CONNECTED) this.sendSubscriptions();
  }

  close(): void {
    if (this.state === CLOSED) return;
    const wasConnected = this.state === CONNECTED;
    this.state = CLOSED;
    this.disarm();
    this.deadline.clear();
    const conn = this.conn;
    this.conn = undefined;
    if (wasConnected) conn?.close(this.scratch, writeDisconnect(this.scratch));
    else conn?.close();
  }

  private connectFields() {
    const o = this.options;
    return { clientId: o.clientId, cleanSession: o.cleanSession ?? false, keepAliveSeconds: o.keepAliveSeconds, ...(o.will ? { will: o.will } : {}) };
  }

  private checkOpen(): void {
    if (this.state === CLOSED) throw new RangeError('the MqttClient is closed');
  }

  private open(): void {
    this.state = OPENING;
    this.decoder.reset();
    this.ring.unsend();
    for (const s of this.subscriptions) s.sentId = 0;
    this.disarm();
    const o = this.options;
    this.deadline.enterConnect(o.tls !== undefined);
    const conn = new MqttConnection(this.views);
    this.conn = conn;
    try {
      conn.open(o.sockets, o, this.connEvents);
    } catch (err) {
      if (conn === this.conn) this.drop(new FieldcamError('MQTT_CONNECTION_LOST', `MQTT connection to ${o.host}:${o.port} failed: ${(err as Error).message}`));
    }
  }

  private readAll(conn: MqttConnection): void {
    const buf = this.received;
    try {
      for (let n = conn.read(buf); n > 0; n = conn.read(buf)) {
        this.decoder.push(buf, 0, n);
        if (conn !== this.conn) return; // a packet ended this connection
      }
    } catch (err) {
      if (conn !== this.conn) return;
      this.drop(err instanceof FieldcamError ? err : new FieldcamError('MQTT_MALFORMED', `MQTT packet handling failed: ${(err as Error).message}`));
    }
  }

  /**
   * A PUBLISH too large to take. Acknowledged anyway ([MQTT-4.3.2-2] asks only that we own it: we own it by
   * refusing it), so the broker does not re-deliver it on every new connection; the connection stays up.
   */
  private oversize(packet: PublishRecord, packetBytes: number): void {
    if (this.state !== CONNECTED) throw new FieldcamError('MQTT_PROTOCOL_VIOLATION', 'PUBLISH before CONNACK ([MQTT-3.2.0-1])');
    const conn = this.conn;
    this.options.onError?.(
      new FieldcamError(
        'MQTT_PACKET_TOO_LARGE',
        `a ${packetBytes}-byte PUBLISH on ${packet.topic} exceeds maxPacketBytes ${this.decoder.maxPacketBytes}: acknowledged and discarded`,
      ),
    );
    this.options.onOversize?.(packet.topic, packetBytes);
    if (packet.qos === 1 && conn === this.conn) this.send(this.scratch, writePuback(packet.packetId, this.scratch));
  }

  private handle(packet: MqttInbound): void {
    const conn = this.conn;
    // A packet after the one that ended this connection, in the same read: the connection is gone.
    if (!conn) return;
    switch (packet.type) {
      case PACKET_TYPE.CONNACK:
        if (this.state !== OPENING) throw new FieldcamError('MQTT_PROTOCOL_VIOLATION', 'a second CONNACK (§3.2)');
        this.connack(packet.returnCode, packet.sessionPresent);
        return;
      case PACKET_TYPE.PUBLISH: {
        if (this.state !== CONNECTED) throw new FieldcamError('MQTT_PROTOCOL_VIOLATION', 'PUBLISH before CONNACK ([MQTT-3.2.0-1])');
        this.options.onMessage(packet.topic, packet.payload, packet.qos);
        // [MQTT-4.3.2-2]: acknowledge after taking ownership, i.e. once the handler returned.
        if (packet.qos === 1 && conn === this.conn) this.send(this.scratch, writePuback(packet.packetId, this.scratch));
        return;
      }
      case PACKET_TYPE.PUBACK:
        this.release(packet.packetId);
        return;
      case PACKET_TYPE.SUBACK:
        this.suback(packet.packetId, packet.returnCodes);
        return;
      case PACKET_TYPE.PINGRESP:
        conn.pingOutstanding = false;
        if (this.state === CONNECTED) this.armKeepAlive();
        return;
      default:
        return; // UNSUBACK: this client never unsubscribes
    }
  }

  private connack(returnCode: number, sessionPresent: boolean): void {
    if (returnCode !== CONNACK_RETURN.ACCEPTED) {
      const fatal = returnCode === CONNACK_RETURN.BAD_USER_NAME_OR_PASSWORD || returnCode === CONNACK_RETURN.NOT_AUTHORIZED;
      const error = new FieldcamError(
        fatal ? 'MQTT_NOT_AUTHORIZED' : 'MQTT_CONNECT_REFUSED',
        `the broker refused the connection: CONNACK return code ${returnCode} (§3.2.2.3)`,
      );
      if (fatal) this.stop(error);
      else this.drop(error);
      return;
    }
    this.deadline.clear();
    this.state = CONNECTED;
    const conn = this.conn!;
    conn.writable = 1; // unknown until the next write reports it
    this.backoff.reset();
    // Without a session the broker forgot our subscriptions (§3.2.2.2): send them all again.
    if (!sessionPresent) for (const s of this.subscriptions) s.acked = false;
    this.sendSubscriptions();
    this.flush();
    if (conn !== this.conn) return;
    this.armKeepAlive();
    this.options.onConnectionChange(true);
  }

  private suback(packetId: number, codes: readonly number[]): void {
    let i = 0;
    for (const s of this.subscriptions) {
      if (s.sentId !== packetId) continue;
      s.sentId = 0;
      s.acked = true;
      if (codes[i++] === SUBACK_FAILURE) {
        this.options.onError?.(new FieldcamError('MQTT_SUBSCRIBE_REFUSED', `the broker refused the subscription to ${s.filter} (SUBACK 0x80, §3.9.3)`));
      }
    }
  }

  private sendSubscriptions(): void {
    const pending: Subscription[] = [];
    for (const s of this.subscriptions) if (!s.acked && s.sentId === 0) pending.push(s);
    if (pending.length === 0) return;
    const id = this.allocateId();
    for (const s of this.subscriptions) if (!s.acked && s.sentId === 0) s.sentId = id;
    this.send(this.scratch, writeSubscribe(id, pending, this.scratch));
  }

  /** Sends the queued QoS 1 messages not yet sent on this connection, in order, while the socket takes them. */
  private flush(): void {
    const conn = this.conn!;
    const ring = this.ring;
    for (let i = 0; i < ring.count && conn.writable > 0 && conn === this.conn; i++) {
      const slot = ring.takeUnsent(i);
      if (slot >= 0) this.send(ring.buffer(slot), ring.length(slot));
    }
  }

  /** PUBACK: the slot is free; the caller hears when the queue has room again. */
  private release(packetId: number): void {
    if (this.ring.release(packetId)) this.options.onQueueSpace?.();
  }

  private allocateId(): number {
    for (;;) {
      this.nextId = (this.nextId % 0xffff) + 1;
      const id = this.nextId;
      let used = false;
      used = this.ring.holds(id);
      for (const s of this.subscriptions) used ||= s.sentId === id;
      if (!used) return id;
    }
  }

  private send(bytes: Uint8Array, length: number): void {
    this.conn?.send(bytes, length, this.clock.monotonic());
  }

  private tick(): void {
    this.timer = undefined;
    if (this.state === WAITING) {
      this.open();
    } else if (this.state === CONNECTED) {
      const conn = this.conn!;
      if (conn.pingOutstanding) {
        this.drop(new FieldcamError('MQTT_CONNECTION_LOST', `no PINGRESP within ${this.keepAliveMs / 2} ms (§3.1.2.10)`));
        return;
      }
      const idle = this.clock.monotonic() - conn.lastSent;
      if (idle < this.keepAliveMs) {
        this.arm(this.keepAliveMs - idle);
        return;
      }
      this.send(this.scratch, writePingreq(this.scratch));
      conn.pingOutstanding = true;
      this.arm(this.keepAliveMs / 2);
    }
  }

  private armKeepAlive(): void {
    if (this.keepAliveMs === 0) {
      this.disarm();
      return;
    }
    this.arm(Math.max(0, this.keepAliveMs - (this.clock.monotonic() - this.conn!.lastSent)));
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = this.timers.set(ms, this.onTimer);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  /** Ends the current connection and schedules the next attempt. */
  private drop(error: FieldcamError): void {
    if (this.state === CLOSED || this.state === STOPPED) return;
    const wasConnected = this.endSocket();
    this.state = WAITING;
    this.arm(this.backoff.next());
    this.report(error, wasConnected);
  }

  /** Ends the current connection for good: retrying cannot help. */
  private stop(error: FieldcamError): void {
    const wasConnected = this.endSocket();
    this.state = STOPPED;
    this.disarm();
    this.report(error, wasConnected);
  }

  private endSocket(): boolean {
    const wasConnected = this.state === CONNECTED;
    this.deadline.clear();
    const conn = this.conn;
    this.conn = undefined;
    conn?.close();
    return wasConnected;
  }

  /** Tells the application; onError only if onConnectionChange left the client as it was (not closed, no new attempt). */
  private report(error: FieldcamError, wasConnected: boolean): void {
    const state = this.state;
    if (wasConnected) this.options.onConnectionChange(false);
    if (this.state === state && this.conn === undefined) this.options.onError?.(error);
  }
}
