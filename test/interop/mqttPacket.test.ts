// The MQTT codec against mqtt-packet 9 (the parser and generator mqtt.js uses; the `mqtt` package does not
// export them). Client packets: our bytes equal mqtt-packet's `generate` for the same fields and its parser
// reads them back. Broker packets: mqtt-packet's bytes, fed to our decoder in random pieces, give the
// fields they were generated from, and generating again from our records gives the same bytes.
import { Buffer } from 'node:buffer';
import { generate, parser, type Packet } from 'mqtt-packet';
import { MqttDecoder } from '../../firmware/core/mqtt/MqttDecoder.ts';
import { PACKET_TYPE, SUBACK_FAILURE } from '../../firmware/core/mqtt/mqttConstants.ts';
import type { MqttInbound } from '../../firmware/core/mqtt/MqttInbound.ts';
import { writeConnect, type ConnectFields } from '../../firmware/core/mqtt/writeConnect.ts';
import { writeDisconnect } from '../../firmware/core/mqtt/writeDisconnect.ts';
import { writePingreq } from '../../firmware/core/mqtt/writePingreq.ts';
import { writePuback } from '../../firmware/core/mqtt/writePuback.ts';
import { writePublish, type PublishFields } from '../../firmware/core/mqtt/writePublish.ts';
import { writeSubscribe, type Subscription } from '../../firmware/core/mqtt/writeSubscribe.ts';
import { assert, suite } from '../harness/index.ts';
import { xorshift32 } from '../harness/support.ts';
import { toHex } from '../firmware/core/cbor/cborKit.ts';

const test = suite('MQTT codec vs mqtt-packet');

type Rng = () => number;
const out = new Uint8Array(1 << 17);
const pick = <T>(next: Rng, items: readonly T[]): T => items[next() % items.length]!;

const LEVELS = ['fieldcam', 'cam-1', 'cmd', 'result', 'telemetry', '$aws', 'caf\u00e9', '\u{1F4F7}', '', 'a b', 'x'.repeat(40)];
function topicName(next: Rng): string {
  const parts: string[] = [];
  for (let i = 0, n = 1 + (next() % 4); i < n; i++) parts.push(pick(next, LEVELS));
  const t = parts.join('/');
  return t.length ? t : 'x';
}
function topicFilter(next: Rng): string {
  const parts: string[] = [];
  for (let i = 0, n = 1 + (next() % 4); i < n; i++) parts.push(next() % 4 === 0 ? '+' : pick(next, LEVELS));
  if (next() % 4 === 0) parts.push('#');
  const f = parts.join('/');
  return f.length ? f : '#';
}
function bytes(next: Rng, max: number): Buffer {
  const b = Buffer.alloc(next() % 5 === 0 ? next() % max : next() % 16);
  for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
  return b;
}

/** Everything mqtt-packet's parser emits for `input`, or its error. */
function parseWithMqttPacket(input: Uint8Array): { packets: Record<string, unknown>[]; error?: Error } {
  const p = parser({ protocolVersion: 4 });
  const packets: Record<string, unknown>[] = [];
  let error: Error | undefined;
  p.on('packet', (packet: Packet) => packets.push(packet as unknown as Record<string, unknown>));
  p.on('error', (err: Error) => (error = err));
  p.parse(Buffer.from(input));
  return { packets, error };
}

function only(input: Uint8Array, label: string): Record<string, unknown> {
  const r = parseWithMqttPacket(input);
  assert.is(r.error, undefined, `${label}: mqtt-packet refused our bytes: ${r.error?.message}`);
  assert.is(r.packets.length, 1, label);
  return r.packets[0]!;
}

test('CONNECT: 1000 generated field sets, byte-identical to mqtt-packet and parsed back by it', () => {
  const next = xorshift32(0x4d510001);
  for (let i = 0; i < 1000; i++) {
    const cleanSession = next() % 2 === 0;
    const fields: ConnectFields = {
      clientId: cleanSession && next() % 5 === 0 ? '' : pick(next, ['cam-1', 'fieldcam-\u00e9', 'x'.repeat(128), 'a']),
      cleanSession,
      keepAliveSeconds: pick(next, [0, 1, 30, 60, 1200, 65535]),
      ...(next() % 2 ? { username: pick(next, ['', 'user', '\u{1F600}']) } : {}),
      ...(next() % 3 === 0 ? { will: { topic: topicName(next), payload: bytes(next, 400), qos: (next() % 2) as 0 | 1, retain: next() % 2 === 0 } } : {}),
    };
    const withPassword: ConnectFields = fields.username !== undefined && next() % 2 ? { ...fields, password: bytes(next, 300) } : fields;
    const n = writeConnect(withPassword, out);
    const theirs = generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: withPassword.cleanSession,
      clientId: withPassword.clientId,
      keepalive: withPassword.keepAliveSeconds,
      username: withPassword.username,
      password: withPassword.password as Buffer | undefined,
      will: withPassword.will && {
        topic: withPassword.will.topic,
        payload: withPassword.will.payload as Buffer,
        qos: withPassword.will.qos,
        retain: withPassword.will.retain,
      },
    } as Packet);
    assert.is(toHex(out.subarray(0, n)), toHex(theirs), `connect ${i}`);
    const parsed = only(out.subarray(0, n), `connect ${i}`);
    assert.is(parsed.cmd, 'connect');
    assert.is(parsed.clientId, withPassword.clientId);
    assert.is(parsed.clean, withPassword.cleanSession);
    assert.is(parsed.keepalive, withPassword.keepAliveSeconds);
    assert.is(parsed.username, withPassword.username);
    assert.is(parsed.password === undefined ? undefined : toHex(parsed.password as Buffer), withPassword.password && toHex(withPassword.password));
    const will = parsed.will as { topic: string; payload: Buffer; qos: number; retain: boolean } | undefined;
    assert.is(will?.topic, withPassword.will?.topic);
    assert.is(will && toHex(will.payload), withPassword.will && toHex(withPassword.will.payload));
    assert.is(will?.qos, withPassword.will?.qos);
  }
});

test('PUBLISH, PUBACK, SUBSCRIBE, PINGREQ, DISCONNECT: 3000 packets byte-identical and parsed back', () => {
  const next = xorshift32(0x4d510002);
  for (let i = 0; i < 3000; i++) {
    const kind = next() % 5;
    let n: number;
    let theirs: Buffer;
    let check: (parsed: Record<string, unknown>) => void;
    const messageId = 1 + (next() % 65535);
    if (kind === 0) {
      const qos = (next() % 2) as 0 | 1;
      const fields: PublishFields = qos
        ? { topic: topicName(next), qos, retain: next() % 2 === 0, dup: next() % 2 === 0, packetId: messageId }
        : { topic: topicName(next), qos, retain: next() % 2 === 0 };
      const payload = bytes(next, 70000);
      n = writePublish(fields, payload, out);
      theirs = generate({
        cmd: 'publish',
        topic: fields.topic,
        payload,
        qos,
        retain: fields.retain ?? false,
        dup: fields.dup ?? false,
        messageId: fields.packetId,
      } as Packet);
      check = (p) => {
        assert.is(p.topic, fields.topic);
        assert.is(toHex(p.payload as Buffer), toHex(payload));
        assert.is(p.qos, qos);
        assert.is(p.retain, fields.retain ?? false);
        assert.is(p.dup, fields.dup ?? false);
        if (qos) assert.is(p.messageId, messageId);
      };
    } else if (kind === 1) {
      n = writePuback(messageId, out);
      theirs = generate({ cmd: 'puback', messageId });
      check = (p) => assert.is(p.messageId, messageId);
    } else if (kind === 2) {
      const subs: Subscription[] = [];
      for (let k = 0, m = 1 + (next() % 4); k < m; k++) subs.push({ filter: topicFilter(next), qos: (next() % 2) as 0 | 1 });
      n = writeSubscribe(messageId, subs, out);
      theirs = generate({ cmd: 'subscribe', messageId, subscriptions: subs.map((s) => ({ topic: s.filter, qos: s.qos })) } as Packet);
      check = (p) =>
        assert.equal(
          (p.subscriptions as { topic: string; qos: number }[]).map((s) => [s.topic, s.qos]),
          subs.map((s) => [s.filter, s.qos]),
        );
    } else if (kind === 3) {
      n = writePingreq(out);
      theirs = generate({ cmd: 'pingreq' });
      check = (p) => assert.is(p.cmd, 'pingreq');
    } else {
      n = writeDisconnect(out);
      theirs = generate({ cmd: 'disconnect' });
      check = (p) => assert.is(p.cmd, 'disconnect');
    }
    assert.is(toHex(out.subarray(0, n)), toHex(theirs), `packet ${i} (kind ${kind})`);
    check(only(out.subarray(0, n), `packet ${i}`));
  }
});

/** mqtt-packet's form of one of our records, to generate the bytes again. */
function asMqttPacket(r: MqttInbound): Packet {
  switch (r.type) {
    case PACKET_TYPE.CONNACK:
      return { cmd: 'connack', returnCode: r.returnCode, sessionPresent: r.sessionPresent };
    case PACKET_TYPE.PUBLISH:
      return {
        cmd: 'publish',
        topic: r.topic,
        payload: Buffer.from(r.payload),
        qos: r.qos,
        retain: r.retain,
        dup: r.dup,
        ...(r.qos ? { messageId: r.packetId } : {}),
      };
    case PACKET_TYPE.PUBACK:
      return { cmd: 'puback', messageId: r.packetId };
    case PACKET_TYPE.SUBACK:
      return { cmd: 'suback', messageId: r.packetId, granted: [...r.returnCodes] };
    case PACKET_TYPE.UNSUBACK:
      // mqtt-packet's type asks for `granted` (MQTT 5 reason codes); a v4 UNSUBACK carries none.
      return { cmd: 'unsuback', messageId: r.packetId } as Packet;
    default:
      return { cmd: 'pingresp' };
  }
}

test('broker packets: 4000 generated by mqtt-packet, decoded from random pieces, regenerated byte for byte', () => {
  const next = xorshift32(0x4d510003);
  const packets: Packet[] = [];
  for (let i = 0; i < 4000; i++) {
    const messageId = 1 + (next() % 65535);
    switch (next() % 6) {
      case 0: {
        const returnCode = next() % 3 === 0 ? 1 + (next() % 5) : 0;
        packets.push({ cmd: 'connack', returnCode, sessionPresent: returnCode === 0 && next() % 2 === 0 });
        break;
      }
      case 1: {
        const qos = (next() % 2) as 0 | 1;
        packets.push({
          cmd: 'publish',
          topic: topicName(next),
          payload: bytes(next, 20000),
          qos,
          retain: next() % 2 === 0,
          dup: qos === 1 && next() % 2 === 0,
          ...(qos ? { messageId } : {}),
        });
        break;
      }
      case 2:
        packets.push({ cmd: 'puback', messageId });
        break;
      case 3: {
        const granted: number[] = [];
        for (let k = 0, m = 1 + (next() % 5); k < m; k++) granted.push(pick(next, [0, 1, 2, SUBACK_FAILURE]));
        packets.push({ cmd: 'suback', messageId, granted });
        break;
      }
      case 4:
        packets.push({ cmd: 'unsuback', messageId } as Packet);
        break;
      default:
        packets.push({ cmd: 'pingresp' });
    }
  }
  const wires = packets.map((p) => generate(p));
  const stream = Buffer.concat(wires);
  const regenerated: string[] = [];
  const decoder = new MqttDecoder({ maxPacketBytes: 32768, onPacket: (r) => regenerated.push(toHex(generate(asMqttPacket(r)))) });
  for (let at = 0; at < stream.length; ) {
    const n = Math.min(stream.length - at, next() % 3 === 0 ? next() % 5 : next() % 9000);
    decoder.push(stream, at, n);
    at += n;
  }
  assert.ok(!decoder.pending);
  assert.is(regenerated.length, packets.length);
  for (let i = 0; i < packets.length; i++) assert.is(regenerated[i], toHex(wires[i]!), `packet ${i} (${packets[i]!.cmd})`);
});

test('field by field: what mqtt-packet generated is what the decoder reports', () => {
  const records: MqttInbound[] = [];
  const decoder = new MqttDecoder({ onPacket: (r) => records.push(r.type === PACKET_TYPE.PUBLISH ? { ...r, payload: r.payload.slice() } : r) });
  decoder.push(generate({ cmd: 'connack', returnCode: 0, sessionPresent: true }));
  decoder.push(
    generate({ cmd: 'publish', topic: 'fieldcam/cam-1/cmd', payload: Buffer.from([0xa1, 0x61, 0x61, 0x01]), qos: 1, retain: false, dup: true, messageId: 77 }),
  );
  decoder.push(generate({ cmd: 'suback', messageId: 9, granted: [1, 0x80] }));
  assert.equal(
    records.map((r) => ({ ...r, ...('payload' in r ? { payload: toHex(r.payload) } : {}) })),
    [
      { type: PACKET_TYPE.CONNACK, sessionPresent: true, returnCode: 0 },
      { type: PACKET_TYPE.PUBLISH, topic: 'fieldcam/cam-1/cmd', payload: 'a1616101', qos: 1, retain: false, dup: true, packetId: 77 },
      { type: PACKET_TYPE.SUBACK, packetId: 9, returnCodes: [1, 0x80] },
    ],
  );
});

test.run();
