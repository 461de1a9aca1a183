// Golden broker packets written from the OASIS MQTT 3.1.1 figures, each split at every offset, and every
// refusal with its named error.
import { MqttDecoder } from '../../../../firmware/core/mqtt/MqttDecoder.ts';
import { CONNACK_RETURN, PACKET_TYPE, SUBACK_FAILURE } from '../../../../firmware/core/mqtt/mqttConstants.ts';
import type { MqttInbound } from '../../../../firmware/core/mqtt/MqttInbound.ts';
import { assert, stride, suite } from '../../../harness/index.ts';
import { concatBytes } from '../../../harness/support.ts';
import { codeOf, decodeAll, hex, type Kept } from './mqttKit.ts';

const test = suite('MqttDecoder');

const GOLDEN: readonly [string, string, Kept][] = [
  ['CONNACK accepted (§3.2)', '20020000', { type: PACKET_TYPE.CONNACK, sessionPresent: false, returnCode: CONNACK_RETURN.ACCEPTED }],
  ['CONNACK session present', '20020100', { type: PACKET_TYPE.CONNACK, sessionPresent: true, returnCode: 0 }],
  ['CONNACK not authorized', '20020005', { type: PACKET_TYPE.CONNACK, sessionPresent: false, returnCode: CONNACK_RETURN.NOT_AUTHORIZED }],
  [
    'PUBLISH QoS 0 (§3.3)',
    '3007 0003612f62 6869',
    { type: PACKET_TYPE.PUBLISH, topic: 'a/b', payload: '6869', qos: 0, retain: false, dup: false, packetId: 0 },
  ],
  [
    'PUBLISH QoS 1, DUP, RETAIN',
    '3b08 0003612f62 000a ff',
    { type: PACKET_TYPE.PUBLISH, topic: 'a/b', payload: 'ff', qos: 1, retain: true, dup: true, packetId: 10 },
  ],
  [
    'PUBLISH empty payload, UTF-8 topic',
    '3104 0002c3a9',
    { type: PACKET_TYPE.PUBLISH, topic: '\u00e9', payload: '', qos: 0, retain: true, dup: false, packetId: 0 },
  ],
  [
    'PUBLISH topic starting with $',
    '3006 0004245359 53',
    { type: PACKET_TYPE.PUBLISH, topic: '$SYS', payload: '', qos: 0, retain: false, dup: false, packetId: 0 },
  ],
  ['PUBACK (§3.4)', '40020007', { type: PACKET_TYPE.PUBACK, packetId: 7 }],
  ['SUBACK (§3.9)', '9005 0001 01 80 02', { type: PACKET_TYPE.SUBACK, packetId: 1, returnCodes: [1, SUBACK_FAILURE, 2] }],
  ['UNSUBACK (§3.11)', 'b002ffff', { type: PACKET_TYPE.UNSUBACK, packetId: 0xffff }],
  ['PINGRESP (§3.13)', 'd000', { type: PACKET_TYPE.PINGRESP }],
];

test('every broker packet type decodes to its record', () => {
  for (const [name, h, expected] of GOLDEN) {
    const r = decodeAll(hex(h));
    assert.is(r.code, undefined, name);
    assert.equal(r.packets, [expected], name);
    assert.ok(!r.pending, name);
  }
});

test('a stream of every golden packet is split at every offset, and at every pair of offsets, with the same records', () => {
  const stream = concatBytes(GOLDEN.map(([, h]) => hex(h)));
  const expected = GOLDEN.map(([, , record]) => record);
  assert.equal(decodeAll(stream).packets, expected);
  for (let a = 0; a <= stream.length; a += 1) {
    assert.equal(decodeAll(stream, [a]).packets, expected, `cut at ${a}`);
  }
  for (let a = 0; a <= stream.length; a += stride()) {
    for (let b = a; b <= stream.length; b += stride() * 3) assert.equal(decodeAll(stream, [a, b]).packets, expected, `cuts ${a}, ${b}`);
  }
  // One byte at a time.
  assert.equal(
    decodeAll(
      stream,
      Array.from({ length: stream.length }, (_, i) => i),
    ).packets,
    expected,
  );
});

test('a large PUBLISH across chunks: multi-byte Remaining Length, payload gathered into the buffer', () => {
  const payload = new Uint8Array(20000).map((_, i) => (i * 7) & 0xff);
  // remaining = 2 + 1 + 20000 = 20003 = 0xa3 0x9c 0x01
  const packet = concatBytes([hex('30 a39c01 0001 74'), payload]);
  const seen: MqttInbound[] = [];
  let copied = new Uint8Array(0);
  const decoder = new MqttDecoder({
    maxPacketBytes: 32768,
    onPacket: (p) => {
      seen.push(p);
      if (p.type === PACKET_TYPE.PUBLISH) copied = p.payload.slice();
    },
  });
  for (let at = 0; at < packet.length; at += 1000) decoder.push(packet, at, Math.min(1000, packet.length - at));
  assert.is(seen.length, 1);
  assert.equal(copied, payload);
  assert.ok(!decoder.pending);
});

test('a packet whole inside one chunk is decoded in place: the payload is a view of the pushed array', () => {
  const input = hex('20020000 3007 0003612f62 6869');
  let payloadBuffer: ArrayBufferLike | undefined;
  const decoder = new MqttDecoder({
    onPacket: (p) => {
      if (p.type === PACKET_TYPE.PUBLISH) payloadBuffer = p.payload.buffer;
    },
  });
  decoder.push(input);
  assert.is(payloadBuffer, input.buffer);
});

test('long topic names are checked in linear time, wildcards and NUL found in the bytes', () => {
  const topic = '\u00e9/'.repeat(4000) + 'end'; // 12,003 bytes
  const utf8 = concatBytes([[0x2e, 0xe3], Array.from({ length: 4000 }, () => [0xc3, 0xa9, 0x2f]).flat(), [0x65, 0x6e, 0x64]]);
  assert.is(utf8.length, 12005);
  const packet = concatBytes([hex('30 e5 5d'), utf8]); // remaining 2 + 12003 = 12005 = 0xe5 0x5d
  const r = decodeAll(packet);
  assert.is(r.code, undefined);
  assert.is((r.packets[0] as { topic: string }).topic, topic);
  packet[packet.length - 1] = 0x2b;
  assert.is(decodeAll(packet).code, 'MQTT_PROTOCOL_VIOLATION');
  packet[packet.length - 1] = 0x00;
  assert.is(decodeAll(packet).code, 'MQTT_MALFORMED');
});

const REFUSED: readonly [string, string, string][] = [
  ['reserved type 0 (§2.2.1)', '0000', 'MQTT_MALFORMED'],
  ['reserved type 15', 'f000', 'MQTT_MALFORMED'],
  ['CONNECT is client-to-server', '100c', 'MQTT_PROTOCOL_VIOLATION'],
  ['SUBSCRIBE is client-to-server', '8205', 'MQTT_PROTOCOL_VIOLATION'],
  ['UNSUBSCRIBE is client-to-server', 'a205', 'MQTT_PROTOCOL_VIOLATION'],
  ['PINGREQ is client-to-server', 'c000', 'MQTT_PROTOCOL_VIOLATION'],
  ['DISCONNECT is client-to-server', 'e000', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBREC: no QoS 2 flows', '50020001', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBREL: no QoS 2 flows', '62020001', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBCOMP: no QoS 2 flows', '70020001', 'MQTT_PROTOCOL_VIOLATION'],
  ['CONNACK flags ([MQTT-2.2.2-2])', '21020000', 'MQTT_MALFORMED'],
  ['PUBACK flags', '42020001', 'MQTT_MALFORMED'],
  ['SUBACK flags', '9803000100', 'MQTT_MALFORMED'],
  ['UNSUBACK flags', 'b1020001', 'MQTT_MALFORMED'],
  ['PINGRESP flags', 'd800', 'MQTT_MALFORMED'],
  ['PUBLISH QoS 3 ([MQTT-3.3.1-4])', '36080003612f620001ff', 'MQTT_MALFORMED'],
  ['PUBLISH QoS 2', '34080003612f620001ff', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBLISH QoS 0 with DUP ([MQTT-3.3.1-2])', '38050003612f62', 'MQTT_PROTOCOL_VIOLATION'],
  ['Remaining Length of five bytes (§2.2.3)', '30ffffffff01', 'MQTT_MALFORMED'],
  ['CONNACK of length 3', '2003000000', 'MQTT_MALFORMED'],
  ['CONNACK of length 1', '200100', 'MQTT_MALFORMED'],
  ['PUBACK of length 3', '4003000100', 'MQTT_MALFORMED'],
  ['UNSUBACK of length 0', 'b000', 'MQTT_MALFORMED'],
  ['PINGRESP of length 1', 'd00100', 'MQTT_MALFORMED'],
  ['SUBACK without return codes', '90020001', 'MQTT_MALFORMED'],
  ['PUBLISH too short for a topic', '30020000', 'MQTT_MALFORMED'],
  ['PUBLISH QoS 1 too short for its packet identifier', '3204000161 00', 'MQTT_MALFORMED'],
  ['CONNACK reserved acknowledge flags (§3.2.2.1)', '20020200', 'MQTT_MALFORMED'],
  ['CONNACK reserved return code 6 (§3.2.2.3)', '20020006', 'MQTT_PROTOCOL_VIOLATION'],
  ['CONNACK refusal with Session Present ([MQTT-3.2.2-4])', '20020105', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBACK packet identifier 0 ([MQTT-2.3.1-1])', '40020000', 'MQTT_PROTOCOL_VIOLATION'],
  ['SUBACK packet identifier 0', '9003000000', 'MQTT_PROTOCOL_VIOLATION'],
  ['UNSUBACK packet identifier 0', 'b0020000', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBLISH QoS 1 packet identifier 0', '32060001610000ff', 'MQTT_PROTOCOL_VIOLATION'],
  ['SUBACK reserved return code ([MQTT-3.9.3-2])', '9003000103', 'MQTT_PROTOCOL_VIOLATION'],
  ['SUBACK reserved return code 0x81', '9003000181', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBLISH topic length past the packet', '30050009612f62', 'MQTT_MALFORMED'],
  ['PUBLISH QoS 1 topic eats the packet identifier', '3206000361 2f62 00', 'MQTT_MALFORMED'],
  ['PUBLISH empty topic ([MQTT-4.7.3-1])', '3003000078', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBLISH topic with + ([MQTT-3.3.2-2])', '3005 0003612f2b', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBLISH topic with #', '3003 000123', 'MQTT_PROTOCOL_VIOLATION'],
  ['PUBLISH topic with U+0000 ([MQTT-1.5.3-2])', '3005 0003610062', 'MQTT_MALFORMED'],
  ['PUBLISH topic not UTF-8 ([MQTT-1.5.3-1])', '3004 0002c328', 'MQTT_MALFORMED'],
  ['PUBLISH topic with an encoded surrogate', '3005 0003eda080', 'MQTT_MALFORMED'],
  ['PUBLISH topic with an overlong form', '3004 0002c0af', 'MQTT_MALFORMED'],
];

test('every refusal has its named error, and the same one however the bytes are split', () => {
  for (const [name, h, code] of REFUSED) {
    const input = hex(h);
    for (let cut = 0; cut <= input.length; cut++) {
      const r = decodeAll(input, [cut]);
      assert.is(r.foreign, undefined, name);
      assert.is(r.code, code, `${name} (cut at ${cut})`);
      assert.equal(r.packets, [], name);
    }
  }
});

test('errors are raised as early as the bytes allow: flags on the first byte, sizes on the last length byte', () => {
  assert.is(decodeAll(hex('21')).code, 'MQTT_MALFORMED');
  assert.is(decodeAll(hex('10')).code, 'MQTT_PROTOCOL_VIOLATION');
  assert.is(decodeAll(hex('2003')).code, 'MQTT_MALFORMED');
  assert.is(decodeAll(hex('30ffffff')).code, undefined); // still a legal 4-byte length in progress
  assert.is(decodeAll(hex('3080808001'), [], (2 << 20) + 5).code, undefined); // 2 MiB announced, nothing buffered yet
  assert.is(decodeAll(hex('30ffffff80')).code, 'MQTT_MALFORMED');
});

test('maxPacketBytes bounds the whole packet, header included; the limit is checked before buffering', () => {
  const packet = hex('300b 0001 74 0102030405060708'); // 13 bytes
  assert.is(decodeAll(packet, [], 13).code, undefined);
  assert.is(decodeAll(packet, [], 12).code, 'MQTT_PACKET_TOO_LARGE');
  assert.is(decodeAll(hex('30ffff03'), [], 1024).code, 'MQTT_PACKET_TOO_LARGE');
  assert.is(decodeAll(hex('d000'), [], 2).code, undefined);
  for (const bad of [1, 0, -1, 1.5, 268435461]) assert.throws(() => new MqttDecoder({ onPacket: () => {}, maxPacketBytes: bad }), /maxPacketBytes/);
  assert.is(new MqttDecoder({ onPacket: () => {} }).maxPacketBytes, 16384);
});

test('packets before a bad one are delivered; then the decoder is unusable until reset()', () => {
  const packets: MqttInbound[] = [];
  const decoder = new MqttDecoder({ onPacket: (p) => packets.push(p) });
  assert.is(
    codeOf(() => decoder.push(hex('d000 40020001 21'))),
    'MQTT_MALFORMED',
  );
  assert.equal(
    packets.map((p) => p.type),
    [PACKET_TYPE.PINGRESP, PACKET_TYPE.PUBACK],
  );
  assert.is(
    codeOf(() => decoder.push(hex('d000'))),
    'MQTT_CALL_ORDER',
  );
  assert.is(packets.length, 2);
  decoder.reset();
  assert.ok(!decoder.pending);
  decoder.push(hex('d0'));
  assert.ok(decoder.pending);
  decoder.reset(); // drops the partial packet of the old connection
  decoder.push(hex('20020000'));
  assert.is(packets.length, 3);
  assert.is(packets[2]!.type, PACKET_TYPE.CONNACK);
});

test('onPacket may not re-enter the decoder; an exception from onPacket fails it', () => {
  let inner: string | undefined;
  const decoder: MqttDecoder = new MqttDecoder({
    onPacket: () => {
      inner = codeOf(() => decoder.push(hex('d000')));
      assert.is(
        codeOf(() => decoder.reset()),
        'MQTT_CALL_ORDER',
      );
    },
  });
  decoder.push(hex('d000'));
  assert.is(inner, 'MQTT_CALL_ORDER');
  const throwing = new MqttDecoder({
    onPacket: () => {
      throw new RangeError('consumer bug');
    },
  });
  assert.throws(() => throwing.push(hex('d000')), /consumer bug/);
  assert.is(
    codeOf(() => throwing.push(hex('d000'))),
    'MQTT_CALL_ORDER',
  );
});

test('wrong arguments are programmer errors (TypeError, RangeError) and leave the decoder usable', () => {
  const packets: MqttInbound[] = [];
  const decoder = new MqttDecoder({ onPacket: (p) => packets.push(p) });
  let thrown: unknown;
  try {
    decoder.push([0xd0, 0] as unknown as Uint8Array);
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof TypeError);
  assert.throws(() => decoder.push(hex('d000'), 1, 2), /outside/);
  decoder.push(hex('d000'));
  assert.is(packets.length, 1);
});

test('push checks its range', () => {
  const decoder = new MqttDecoder({ onPacket: () => {} });
  assert.throws(() => decoder.push(new Uint8Array(4), 2, 3), /offset/);
  assert.throws(() => decoder.push(new Uint8Array(4), -1, 1), /offset/);
  decoder.push(new Uint8Array(4), 4, 0);
  assert.ok(!decoder.pending);
});

test('with onOversizePublish, a PUBLISH past maxPacketBytes is skipped whatever the split: its head delivered, the stream goes on', () => {
  // 3 + 40 bytes: topic "a/b", Packet Identifier 9, a 36-byte payload; then a PINGRESP.
  const stream = concatBytes([hex('322b 0003612f62 0009'), new Uint8Array(36).fill(0xee), hex('d000')]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const oversize: Kept[] = [];
    const packets: MqttInbound[] = [];
    const decoder = new MqttDecoder({
      maxPacketBytes: 16,
      onPacket: (p) => packets.push(p),
      onOversizePublish: (p, n) => oversize.push({ topic: p.topic, qos: p.qos, packetId: p.packetId, kept: p.payload.length, n }),
    });
    decoder.push(stream, 0, cut);
    decoder.push(stream, cut, stream.length - cut);
    assert.equal(oversize, [{ topic: 'a/b', qos: 1, packetId: 9, kept: 7, n: 45 }], `cut at ${cut}`);
    assert.equal(
      packets.map((p) => p.type),
      [PACKET_TYPE.PINGRESP],
      `cut at ${cut}`,
    );
    assert.ok(!decoder.pending);
  }
  // Other packet types past the limit, and a topic longer than the kept head, still throw.
  const strict = (h: string) => codeOf(() => new MqttDecoder({ maxPacketBytes: 8, onPacket: () => {}, onOversizePublish: () => {} }).push(hex(h)));
  assert.is(strict('9008 0001 0101010101 01'), 'MQTT_PACKET_TOO_LARGE');
  assert.is(strict('300b 0008 6161616161616161 00'), 'MQTT_MALFORMED');
});

test.run();
