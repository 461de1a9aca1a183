// MqttClient against a scripted broker: a fake socket that records each write as one packet, broker bytes
// built with the packet writers or spelled out from the spec, and hand-driven timers and clock.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { MqttClient, type MqttClientOptions } from '../../../../firmware/core/mqtt/MqttClient.ts';
import { writeConnect } from '../../../../firmware/core/mqtt/writeConnect.ts';
import { writePuback } from '../../../../firmware/core/mqtt/writePuback.ts';
import { writePublish } from '../../../../firmware/core/mqtt/writePublish.ts';
import { writeSubscribe } from '../../../../firmware/core/mqtt/writeSubscribe.ts';
import { FakeSocket, FakeTime } from '../../../harness/support.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('mqtt: MqttClient over a scripted broker');

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}

function written(write: (out: Uint8Array) => number): string {
  const out = new Uint8Array(256);
  return toHex(out.subarray(0, write(out)));
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// Broker packets (§3.2 CONNACK, §3.9 SUBACK, §3.13 PINGRESP).
const connack = (sessionPresent: boolean, code = 0) => bytes(0x20, 0x02, sessionPresent ? 1 : 0, code);
const suback = (id: number, ...codes: number[]) => bytes(0x90, 2 + codes.length, id >> 8, id & 0xff, ...codes);
const PINGRESP = bytes(0xd0, 0x00);
const puback = (id: number) => {
  const out = new Uint8Array(4);
  writePuback(id, out);
  return out;
};

interface Rig {
  readonly client: MqttClient;
  readonly time: FakeTime;
  readonly sockets: FakeSocket[];
  readonly events: string[];
  readonly messages: { topic: string; payload: string; qos: number; writesBefore: number }[];
  /** The current (last opened) socket. */
  socket(): FakeSocket;
  /** Opens the current socket and answers the CONNECT with a CONNACK. */
  accept(sessionPresent?: boolean): FakeSocket;
}

function rig(overrides: Partial<MqttClientOptions> = {}, start = true): Rig {
  const time = new FakeTime();
  const sockets: FakeSocket[] = [];
  const events: string[] = [];
  const messages: Rig['messages'] = [];
  const client = new MqttClient({
    sockets: (options) => {
      const s = new FakeSocket(options);
      sockets.push(s);
      return s;
    },
    timers: time,
    clock: time,
    random: () => 0,
    host: 'broker.local',
    port: 8883,
    tls: { servername: 'broker.local' },
    clientId: 'cam-1',
    keepAliveSeconds: 60,
    backoff: { initialMs: 1000, maxMs: 8000 },
    onMessage: (topic, payload, qos) => {
      messages.push({ topic, payload: toHex(payload), qos, writesBefore: sockets[sockets.length - 1]!.writes.length });
    },
    onConnectionChange: (connected) => events.push(connected ? 'up' : 'down'),
    onError: (err) => events.push(err.code),
    ...overrides,
  });
  if (start) client.start();
  const socket = () => sockets[sockets.length - 1]!;
  return {
    client,
    time,
    sockets,
    events,
    messages,
    socket,
    accept(sessionPresent = false) {
      const s = socket();
      s.options.onConnect();
      s.deliver(connack(sessionPresent));
      return s;
    },
  };
}

const CONNECT_60 = written((out) => writeConnect({ clientId: 'cam-1', cleanSession: false, keepAliveSeconds: 60 }, out));

function publishHex(id: number, topic: string, payload: Uint8Array, dup = false): string {
  return written((out) => writePublish({ topic, qos: 1, packetId: id, dup }, payload, out));
}

test('CONNECT on connect (persistent session, keep-alive), CONNACK reports the connection', () => {
  const r = rig();
  assert.is(r.sockets.length, 1);
  assert.is(r.socket().options.host, 'broker.local');
  assert.is(r.socket().options.port, 8883);
  assert.equal(r.socket().options.tls, { servername: 'broker.local' });
  r.socket().options.onConnect();
  assert.equal(r.socket().writes, [CONNECT_60]);
  assert.is(CONNECT_60.slice(0, 20), '101100044d5154540400', 'CONNECT, "MQTT", level 4, flags 0: cleanSession=false');
  assert.not(r.client.connected, true);
  r.socket().deliver(connack(false));
  assert.ok(r.client.connected);
  assert.equal(r.events, ['up']);
  assert.equal(r.time.delays(), [60_000], 'the keep-alive timer');
});

test('SUBSCRIBE after CONNACK, SUBACK, re-sent only when the broker has no session', () => {
  const r = rig();
  r.client.subscribe('fieldcam/cam-1/cmd/#', 1);
  r.client.subscribe('fieldcam/cam-1/config', 0);
  const s1 = r.accept(false);
  const sub = written((out) =>
    writeSubscribe(
      1,
      [
        { filter: 'fieldcam/cam-1/cmd/#', qos: 1 },
        { filter: 'fieldcam/cam-1/config', qos: 0 },
      ],
      out,
    ),
  );
  assert.equal(s1.writes, [CONNECT_60, sub]);
  s1.deliver(suback(1, 1, 0x80));
  assert.equal(r.events, ['up', 'MQTT_SUBSCRIBE_REFUSED']);

  // Session present: the broker kept the subscriptions.
  s1.options.onClose(new Error('reset'));
  r.time.advance(500);
  const s2 = r.accept(true);
  assert.equal(s2.writes, [CONNECT_60]);

  // No session: everything again, with a fresh packet identifier.
  s2.options.onClose(undefined);
  r.time.advance(10_000);
  const s3 = r.accept(false);
  const again = written((out) =>
    writeSubscribe(
      2,
      [
        { filter: 'fieldcam/cam-1/cmd/#', qos: 1 },
        { filter: 'fieldcam/cam-1/config', qos: 0 },
      ],
      out,
    ),
  );
  assert.equal(s3.writes, [CONNECT_60, again]);

  // A subscription added while connected goes out at once.
  r.client.subscribe('fieldcam/cam-1/ota', 1);
  assert.is(
    s3.writes[2],
    written((out) => writeSubscribe(3, [{ filter: 'fieldcam/cam-1/ota', qos: 1 }], out)),
  );
  assert.throws(() => r.client.subscribe('bad/#/filter', 0), 'MQTT_TOPIC_INVALID');
});

test('QoS 1 publish is kept until its PUBACK, QoS 0 is fire-and-forget', () => {
  const r = rig();
  const s = r.accept();
  const payload = utf8('{"t":1}');
  assert.ok(r.client.publish('fieldcam/cam-1/telemetry', payload, 1));
  assert.ok(r.client.publish('fieldcam/cam-1/telemetry', payload, 1));
  assert.is(r.client.queued, 2);
  assert.equal(s.writes.slice(1), [publishHex(1, 'fieldcam/cam-1/telemetry', payload), publishHex(2, 'fieldcam/cam-1/telemetry', payload)]);
  payload[0] = 0x5b; // the message was copied: changing the caller's buffer changes nothing
  s.deliver(puback(1));
  assert.is(r.client.queued, 1);
  s.deliver(puback(2));
  assert.is(r.client.queued, 0);
  assert.ok(r.client.publish('fieldcam/cam-1/status', bytes(1, 2), 0));
  assert.is(
    s.writes[3],
    written((out) => writePublish({ topic: 'fieldcam/cam-1/status', qos: 0 }, bytes(1, 2), out)),
  );
  assert.is(r.client.queued, 0);
  assert.is(r.client.dropped, 0);
});

test('after a drop, unacknowledged QoS 1 messages are re-sent with DUP, unsent ones without', () => {
  const r = rig();
  const s1 = r.accept();
  r.client.publish('a/b', bytes(0xaa), 1);
  s1.options.onClose(new Error('ECONNRESET'));
  assert.equal(r.events, ['up', 'down', 'MQTT_CONNECTION_LOST']);
  assert.ok(s1.closed);
  r.client.publish('a/c', bytes(0xbb), 1); // while disconnected: queued
  assert.is(r.client.queued, 2);
  assert.equal(r.time.delays(), [500], 'backoff: initialMs with equal jitter, random 0');
  r.time.advance(500);
  assert.is(r.sockets.length, 2);
  const s2 = r.accept(true);
  const dup = publishHex(1, 'a/b', bytes(0xaa), true);
  assert.is(dup.slice(0, 2), '3a', 'PUBLISH, DUP, QoS 1 (§3.3.1.1)');
  assert.equal(s2.writes, [CONNECT_60, dup, publishHex(2, 'a/c', bytes(0xbb))]);
  s2.deliver(concat(puback(1), puback(2)));
  assert.is(r.client.queued, 0);
});

test('inbound QoS 1 PUBLISH is handed over, then acknowledged; QoS 0 is not', () => {
  const r = rig();
  const s = r.accept();
  const inbound = new Uint8Array(64);
  const n1 = writePublish({ topic: 'fieldcam/cam-1/cmd/start', qos: 1, packetId: 0x1234 }, bytes(0xa1, 0x01), inbound);
  const n0 = writePublish({ topic: 'fieldcam/cam-1/config', qos: 0 }, bytes(0xf6), inbound, n1);
  // Split across two reads, mid-packet.
  s.deliver(inbound.subarray(0, 5));
  s.deliver(inbound.subarray(5, n1 + n0));
  assert.equal(r.messages, [
    { topic: 'fieldcam/cam-1/cmd/start', payload: 'a101', qos: 1, writesBefore: 1 },
    { topic: 'fieldcam/cam-1/config', payload: 'f6', qos: 0, writesBefore: 2 },
  ]);
  assert.equal(s.writes.slice(1), ['40021234'], 'one PUBACK (§3.4), after onMessage');
});

test('PINGREQ when idle for the keep-alive; no PINGRESP within half of it → reconnect with backoff', () => {
  const r = rig();
  const s1 = r.accept();
  r.time.advance(30_000);
  r.client.publish('a/b', bytes(1), 0); // traffic postpones the ping
  r.time.advance(30_000);
  assert.equal(s1.writes.length, 2);
  r.time.advance(30_000);
  assert.is(s1.writes[2], 'c000', 'PINGREQ (§3.12)');
  s1.deliver(PINGRESP);
  assert.equal(r.time.delays(), [60_000]);
  r.time.advance(60_000);
  assert.is(s1.writes[3], 'c000');
  r.time.advance(29_999);
  assert.not(s1.closed, true);
  r.time.advance(1);
  assert.ok(s1.closed, 'no PINGRESP within keepAlive/2');
  assert.equal(r.events, ['up', 'down', 'MQTT_CONNECTION_LOST']);
  assert.equal(r.time.delays(), [500]);
  r.time.advance(500);
  assert.is(r.sockets.length, 2);
  // The broker never answers: the connect deadline (TCP + TLS on a board that does not tell them apart) and
  // the backoff grow (1000·2^n/2 with random 0).
  r.time.advance(20_000);
  assert.equal(r.time.delays(), [1000]);
  r.time.advance(1000 + 20_000);
  assert.equal(r.time.delays(), [2000]);
  r.time.advance(2000);
  r.accept();
  assert.equal(r.time.delays(), [60_000]);
  r.socket().options.onClose(undefined);
  assert.equal(r.time.delays(), [500], 'a CONNACK reset the backoff');
});

test('refused CONNACK: 4 and 5 stop for good, 1-3 retry', () => {
  for (const code of [4, 5]) {
    const r = rig();
    r.socket().options.onConnect();
    r.socket().deliver(connack(false, code));
    assert.equal(r.events, ['MQTT_NOT_AUTHORIZED']);
    assert.ok(r.socket().closed);
    assert.equal(r.time.delays(), []);
    r.time.advance(1_000_000);
    assert.is(r.sockets.length, 1);
  }
  for (const code of [1, 2, 3]) {
    const r = rig();
    r.socket().options.onConnect();
    r.socket().deliver(connack(false, code));
    assert.equal(r.events, ['MQTT_CONNECT_REFUSED']);
    assert.equal(r.time.delays(), [500]);
    r.time.advance(500);
    assert.is(r.sockets.length, 2);
  }
  const err = new FieldcamError('MQTT_NOT_AUTHORIZED', 'x');
  assert.is(err.retryable, false);
});

test('a malformed packet drops the connection and the client reconnects', () => {
  const r = rig();
  const s1 = r.accept();
  s1.deliver(bytes(0x00, 0x00)); // reserved packet type 0 (§2.2.1)
  assert.ok(s1.closed);
  assert.is(r.events[0], 'up');
  assert.is(r.events[1], 'down');
  assert.ok(['MQTT_MALFORMED', 'MQTT_PROTOCOL_VIOLATION'].includes(r.events[2]!), r.events[2]);
  r.time.advance(500);
  r.accept();
  assert.ok(r.client.connected);
});

test("a dropped connection's late socket events change nothing: each connection is its own guard", () => {
  const r = rig();
  const s1 = r.accept();
  s1.deliver(bytes(0x00, 0x00)); // malformed: s1 is dropped
  r.time.advance(1000);
  const s2 = r.accept();
  const events = r.events.length;
  const writes = s2.writes.length;
  // s1's socket keeps talking after the client moved on: a CONNACK, a QoS 1 PUBLISH, writability, a connect, a close.
  s1.deliver(connack(true));
  const publish = new Uint8Array(32);
  s1.deliver(publish.subarray(0, writePublish({ topic: 'a/b', qos: 1, packetId: 7, dup: false }, bytes(1), publish)));
  s1.options.onWritable(1000);
  s1.options.onConnect();
  s1.options.onClose(new Error('late reset'));
  assert.is(r.events.length, events, r.events.join(' '));
  assert.is(r.messages.length, 0);
  assert.is(s2.writes.length, writes);
  assert.ok(r.client.connected);
  assert.ok(!s2.closed);
  // The current connection reads on with the decoder s1 never touched: a PUBLISH is handed over and acknowledged.
  s2.deliver(publish.subarray(0, writePublish({ topic: 'a/b', qos: 1, packetId: 8, dup: false }, bytes(2), publish)));
  assert.is(r.messages.length, 1);
  assert.is(s2.writes[s2.writes.length - 1], '40020008');
});

test('the QoS 1 queue is bounded: publish() returns false and counts a drop', () => {
  let space = 0;
  const r = rig({ maxQueued: 2, onQueueSpace: () => space++ });
  assert.ok(r.client.publish('a/b', bytes(1), 1));
  assert.ok(r.client.publish('a/b', bytes(2), 1));
  assert.is(r.client.publish('a/b', bytes(3), 1), false);
  assert.is(r.client.publish('a/b', bytes(4), 0), false, 'QoS 0 while disconnected');
  assert.is(r.client.dropped, 2);
  const s = r.accept();
  assert.is(s.writes.length, 3);
  assert.is(space, 0);
  s.deliver(puback(1));
  assert.is(space, 1, 'a PUBACK that frees a slot says so');
  s.deliver(puback(1));
  assert.is(space, 1, 'a repeated PUBACK frees nothing');
  assert.ok(r.client.publish('a/b', bytes(5), 1));
  assert.is(s.writes[3], publishHex(3, 'a/b', bytes(5)));
  assert.is(r.client.queued, 2);
});

test('lifecycle: the constructor connects nothing; start() opens, once', () => {
  const r = rig({}, false);
  assert.is(r.sockets.length, 0);
  assert.equal(r.time.delays(), [], 'no timer before start()');
  r.client.subscribe('a/b', 1); // kept for the first connection
  r.client.start();
  assert.is(r.sockets.length, 1);
  assert.throws(() => r.client.start(), /twice/);
});

test('deadlines: every phase of an attempt is bounded (TCP, TLS, CONNACK), each with its code, then backoff', () => {
  const deadlines = { connectMs: 3000, tlsMs: 4000, headMs: 1, firstAckMs: 1, connackMs: 5000 };
  const r = rig({ deadlines });
  // A board that reports TCP apart from TLS: the connect phase has its own budget.
  r.socket().options.onTransportConnect?.();
  assert.equal(r.time.delays(), [4000], 'TLS budget from TCP connected');
  r.time.advance(3999);
  assert.not(r.socket().closed, true);
  r.time.advance(1);
  assert.ok(r.socket().closed, 'silent handshake: torn down');
  assert.equal(r.events, ['NET_TLS_TIMEOUT']);
  assert.equal(r.time.delays(), [500], 'the backoff takes over');
  r.time.advance(500);
  assert.is(r.sockets.length, 2);
  assert.equal(r.time.delays(), [7000], 'no TCP report yet: TCP + TLS');
  r.time.advance(7000);
  assert.equal(r.events, ['NET_TLS_TIMEOUT', 'NET_CONNECT_TIMEOUT']);
  r.time.advance(1000);
  r.socket().options.onConnect(); // CONNECT written, the broker stays silent
  assert.is(r.socket().writes[0], CONNECT_60);
  assert.equal(r.time.delays(), [5000]);
  r.time.advance(5000);
  assert.ok(r.socket().closed);
  assert.equal(r.events, ['NET_TLS_TIMEOUT', 'NET_CONNECT_TIMEOUT', 'MQTT_CONNACK_TIMEOUT']);
  // A CONNACK in time clears the deadline: only keep-alive runs.
  r.time.advance(2000);
  r.accept();
  assert.equal(r.time.delays(), [60_000]);
  assert.equal(r.events, ['NET_TLS_TIMEOUT', 'NET_CONNECT_TIMEOUT', 'MQTT_CONNACK_TIMEOUT', 'up']);
});

test('close(): DISCONNECT, socket closed, timers cleared, silence afterwards, use throws', () => {
  const r = rig();
  const s = r.accept();
  r.client.publish('a/b', bytes(1), 1);
  r.client.close();
  assert.is(s.writes[s.writes.length - 1], 'e000', 'DISCONNECT (§3.14)');
  assert.ok(s.closed);
  assert.equal(r.time.delays(), []);
  const before = r.events.length;
  s.options.onReadable(0);
  s.options.onClose(new Error('late'));
  r.time.advance(1_000_000);
  assert.is(r.events.length, before);
  assert.is(r.sockets.length, 1);
  assert.throws(() => r.client.publish('a/b', bytes(1), 1), /closed/);
  assert.throws(() => r.client.subscribe('a/b', 0), /closed/);
  assert.throws(() => r.client.start(), /closed/);
  r.client.close(); // idempotent

  // Closed while waiting for a reconnect: no new socket, no callback.
  const w = rig();
  w.accept();
  w.socket().options.onClose(undefined);
  w.client.close();
  w.time.advance(1_000_000);
  assert.is(w.sockets.length, 1);
});

test('will: the CONNECT carries the Will (§3.1.2.5), on every reconnect', () => {
  const will = { topic: 'fieldcam/cam-1/health', payload: utf8('offline'), qos: 1 as const, retain: true };
  const r = rig({ will });
  const s1 = r.accept();
  const expected = written((out) => writeConnect({ clientId: 'cam-1', cleanSession: false, keepAliveSeconds: 60, will }, out));
  assert.is(s1.writes[0], expected);
  assert.ok(expected !== CONNECT_60);
  s1.options.onClose(undefined);
  r.time.advance(500);
  r.socket().options.onConnect();
  assert.is(r.socket().writes[0], expected);
  assert.throws(() => rig({ will: { ...will, topic: 'a/+' } }), 'MQTT_TOPIC_INVALID');
});

test('a broker certificate that cannot be verified is fatal: MQTT_TLS_VERIFY, no retry', () => {
  const r = rig();
  r.socket().options.onClose(Object.assign(new Error('TLS_VERIFY: unknown CA'), { code: 'TLS_VERIFY' }));
  assert.equal(r.events, ['MQTT_TLS_VERIFY']);
  assert.equal(r.time.delays(), []);
  r.time.advance(1_000_000);
  assert.is(r.sockets.length, 1);
  assert.is(new FieldcamError('MQTT_TLS_VERIFY', 'x').retryable, false);
  // Any other socket error is a network failure: retried.
  const n = rig();
  n.socket().options.onClose(Object.assign(new Error('ECONNREFUSED: refused'), { code: 'ECONNREFUSED' }));
  assert.equal(n.events, ['MQTT_CONNECTION_LOST']);
  assert.equal(n.time.delays(), [500]);
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

test('an inbound PUBLISH past maxPacketBytes is acknowledged and discarded; the connection stays up', () => {
  const oversize: string[] = [];
  const r = rig({ maxPacketBytes: 64, onOversize: (topic, n) => oversize.push(`${topic} ${n}`) });
  const s = r.accept();
  const inbound = new Uint8Array(256);
  const n1 = writePublish({ topic: 'fieldcam/cam-1/cmd', qos: 1, packetId: 0x0102 }, new Uint8Array(100), inbound);
  const n2 = writePublish({ topic: 'fieldcam/cam-1/cmd', qos: 1, packetId: 0x0103 }, bytes(0xa0), inbound, n1);
  s.deliver(inbound.subarray(0, n1 + n2));
  assert.equal(oversize, ['fieldcam/cam-1/cmd 124']); // 1 + 1 + 2 + 18 + 2 + 100
  assert.equal(r.events, ['up', 'MQTT_PACKET_TOO_LARGE']);
  assert.equal(
    r.messages.map((m) => m.payload),
    ['a0'],
  );
  assert.equal(s.writes.slice(1), ['40020102', '40020103'], 'both acknowledged: the broker will not re-deliver the big one');
  assert.ok(!s.closed && r.client.connected);
});

test.run();
