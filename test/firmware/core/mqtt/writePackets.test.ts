// Golden bytes for every packet the client sends, written out by hand from the OASIS MQTT 3.1.1 figures.
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { remainingLengthSize, writeRemainingLength } from '../../../../firmware/core/mqtt/remainingLength.ts';
import { writeConnect } from '../../../../firmware/core/mqtt/writeConnect.ts';
import { writeDisconnect } from '../../../../firmware/core/mqtt/writeDisconnect.ts';
import { writePingreq } from '../../../../firmware/core/mqtt/writePingreq.ts';
import { writePuback } from '../../../../firmware/core/mqtt/writePuback.ts';
import { writePublish, writePublishHead } from '../../../../firmware/core/mqtt/writePublish.ts';
import { writeSubscribe } from '../../../../firmware/core/mqtt/writeSubscribe.ts';
import { assert, suite } from '../../../harness/index.ts';
import { ascii, codeOf, hex, toHex } from './mqttKit.ts';

const test = suite('MQTT packet writers');
const out = new Uint8Array(1024);
const written = (n: number): string => toHex(out.subarray(0, n));

test('Remaining Length: the §2.2.3 Table 2.4 boundaries, 1 to 4 bytes', () => {
  const table: [number, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2097151, 'ffff7f'],
    [2097152, '80808001'],
    [268435455, 'ffffff7f'],
  ];
  for (const [n, expected] of table) {
    const end = writeRemainingLength(n, out, 0);
    assert.is(written(end), expected, String(n));
    assert.is(remainingLengthSize(n), end, String(n));
  }
  assert.is(
    codeOf(() => remainingLengthSize(268435456)),
    'MQTT_PACKET_TOO_LARGE',
  );
});

test('CONNECT (§3.1): minimal clean session, keep-alive 60', () => {
  const n = writeConnect({ clientId: 'cam-1', cleanSession: true, keepAliveSeconds: 60 }, out);
  // 10 | remaining 17 | 00 04 "MQTT" | level 4 | flags 0x02 | keep alive 60 | 00 05 "cam-1"
  assert.is(written(n), '1011' + '00044d515454' + '04' + '02' + '003c' + '0005' + '63616d2d31');
});

test('CONNECT (§3.1): persistent session with will, user name and password, fields in §3.1.3 order', () => {
  const n = writeConnect(
    {
      clientId: 'd',
      cleanSession: false,
      keepAliveSeconds: 30,
      will: { topic: 'w/t', payload: Uint8Array.of(1, 2), qos: 1, retain: true },
      username: 'u',
      password: Uint8Array.of(0x70),
    },
    out,
  );
  // flags: user name 0x80 | password 0x40 | will retain 0x20 | will QoS 1 << 3 | will 0x04 = 0xec
  assert.is(written(n), '101c' + '00044d515454' + '04' + 'ec' + '001e' + '000164' + '0003772f74' + '00020102' + '000175' + '000170');
  const anonymous = writeConnect({ clientId: '', cleanSession: true, keepAliveSeconds: 0, username: 'é' }, out);
  assert.is(written(anonymous), '1010' + '00044d515454' + '04' + '82' + '0000' + '0000' + '0002c3a9');
});

test('CONNECT refuses what §3.1 forbids before writing', () => {
  out.fill(0xaa);
  assert.throws(() => writeConnect({ clientId: '', cleanSession: false, keepAliveSeconds: 1 }, out), /MQTT-3.1.3-7/);
  assert.throws(() => writeConnect({ clientId: 'a', cleanSession: true, keepAliveSeconds: 1, password: Uint8Array.of(1) }, out), /MQTT-3.1.2-22/);
  for (const keepAliveSeconds of [-1, 65536, 1.5, NaN]) {
    assert.throws(() => writeConnect({ clientId: 'a', cleanSession: true, keepAliveSeconds }, out), /keepAliveSeconds/);
  }
  assert.is(
    codeOf(() => writeConnect({ clientId: 'a\u0000', cleanSession: true, keepAliveSeconds: 1 }, out)),
    'MQTT_STRING_INVALID',
  );
  assert.is(
    codeOf(() => writeConnect({ clientId: '\ud800', cleanSession: true, keepAliveSeconds: 1 }, out)),
    'MQTT_STRING_INVALID',
  );
  assert.is(
    codeOf(() => writeConnect({ clientId: 'x'.repeat(65536), cleanSession: true, keepAliveSeconds: 1 }, new Uint8Array(70000))),
    'MQTT_STRING_INVALID',
  );
  const will = { topic: 'a/+', payload: new Uint8Array(0), qos: 0 as const, retain: false };
  assert.is(
    codeOf(() => writeConnect({ clientId: 'a', cleanSession: true, keepAliveSeconds: 1, will }, out)),
    'MQTT_TOPIC_INVALID',
  );
  assert.throws(() => writeConnect({ clientId: 'a', cleanSession: true, keepAliveSeconds: 1, will: { ...will, topic: 'w', qos: 2 as 0 } }, out), /will.qos/);
  assert.is(
    codeOf(() => writeConnect({ clientId: 'cam-1', cleanSession: true, keepAliveSeconds: 60 }, out.subarray(0, 18))),
    'MQTT_BUFFER_TOO_SMALL',
  );
  assert.is(out[0], 0xaa, 'nothing written');
  assert.is(writeConnect({ clientId: 'cam-1', cleanSession: true, keepAliveSeconds: 60 }, out.subarray(0, 19)), 19);
});

test('PUBLISH (§3.3): QoS 0, then QoS 1 with DUP, RETAIN and a packet identifier', () => {
  assert.is(written(writePublish({ topic: 'a/b', qos: 0 }, ascii('hi'), out)), '3007' + '0003612f62' + '6869');
  assert.is(
    written(writePublish({ topic: 'a/b', qos: 1, dup: true, retain: true, packetId: 10 }, Uint8Array.of(0xff), out)),
    '3b08' + '0003612f62' + '000a' + 'ff',
  );
  assert.is(written(writePublish({ topic: 't', qos: 0, retain: true }, new Uint8Array(0), out)), '3103' + '000174');
  // A two-byte Remaining Length: 2 + 1 + 200 = 203 = 0xcb 0x01.
  const n = writePublish({ topic: 't', qos: 0 }, new Uint8Array(200).fill(7), out);
  assert.is(n, 206);
  assert.is(written(6), '30cb01000174');
});

test('PUBLISH head for a gather write: head in scratch, payload by reference, same bytes as writePublish', () => {
  const payload = new Uint8Array(300).map((_, i) => i & 0xff);
  const scratch = new Uint8Array(32);
  const head = writePublishHead({ topic: 'fieldcam/cam-1/telemetry', qos: 1, packetId: 0x1234 }, payload.length, scratch);
  const list = new ViewList(4);
  list.push(scratch, 0, head);
  list.push(payload, 0, payload.length);
  const gathered = new Uint8Array(list.byteLength);
  let at = 0;
  for (let i = 0; i < list.count; i++) {
    gathered.set(list.sources[i]!.subarray(list.offsets[i]!, list.offsets[i]! + list.lengths[i]!), at);
    at += list.lengths[i]!;
  }
  const whole = writePublish({ topic: 'fieldcam/cam-1/telemetry', qos: 1, packetId: 0x1234 }, payload, out);
  assert.is(gathered.length, whole);
  assert.equal(gathered, out.slice(0, whole));
  // The head scratch only needs room for the head.
  // 1 MiB of payload: a three-byte Remaining Length, so a 32-byte head.
  assert.is(writePublishHead({ topic: 'fieldcam/cam-1/telemetry', qos: 1, packetId: 0x1234 }, 1 << 20, scratch), 32);
  assert.is(
    codeOf(() => writePublishHead({ topic: 'fieldcam/cam-1/telemetry', qos: 1, packetId: 1 }, 1 << 20, scratch.subarray(0, 31))),
    'MQTT_BUFFER_TOO_SMALL',
  );
  assert.is(
    codeOf(() => writePublishHead({ topic: 't', qos: 0 }, 268435455, scratch)),
    'MQTT_PACKET_TOO_LARGE',
  );
});

test('PUBLISH refuses wildcard or empty topics, QoS 2, DUP at QoS 0 and bad packet identifiers', () => {
  for (const topic of ['', 'a/+', '#', 'a/#', 'x+y', 'nul\u0000']) {
    assert.is(
      codeOf(() => writePublish({ topic, qos: 0 }, new Uint8Array(0), out)),
      'MQTT_TOPIC_INVALID',
      JSON.stringify(topic),
    );
  }
  assert.throws(() => writePublish({ topic: 't', qos: 2 as 1, packetId: 1 }, new Uint8Array(0), out), /qos/);
  assert.throws(() => writePublish({ topic: 't', qos: 0, dup: true }, new Uint8Array(0), out), /MQTT-3.3.1-2/);
  assert.throws(() => writePublish({ topic: 't', qos: 0, packetId: 3 }, new Uint8Array(0), out), /packetId/);
  for (const packetId of [undefined, 0, 65536, 1.5]) {
    assert.throws(() => writePublish({ topic: 't', qos: 1, packetId }, new Uint8Array(0), out), /MQTT-2.3.1-1/);
  }
  assert.is(
    codeOf(() => writePublish({ topic: 't', qos: 0 }, new Uint8Array(5), out.subarray(0, 9))),
    'MQTT_BUFFER_TOO_SMALL',
  );
  assert.is(writePublish({ topic: 't', qos: 0 }, new Uint8Array(5), out.subarray(0, 10)), 10);
});

test('PUBACK (§3.4), PINGREQ (§3.12), DISCONNECT (§3.14)', () => {
  assert.is(written(writePuback(0x1234, out)), '40021234');
  assert.is(written(writePingreq(out)), 'c000');
  assert.is(written(writeDisconnect(out)), 'e000');
  assert.throws(() => writePuback(0, out), /packetId/);
  assert.is(
    codeOf(() => writePingreq(out.subarray(0, 1))),
    'MQTT_BUFFER_TOO_SMALL',
  );
  assert.is(writeDisconnect(out, 7), 2);
  assert.equal(out.subarray(7, 9), hex('e000'));
});

test('SUBSCRIBE (§3.8): reserved flags 0010, filters in order', () => {
  const n = writeSubscribe(
    1,
    [
      { filter: 'a/+', qos: 1 },
      { filter: '#', qos: 0 },
    ],
    out,
  );
  assert.is(written(n), '820c' + '0001' + '0003612f2b' + '01' + '000123' + '00');
  assert.throws(() => writeSubscribe(1, [], out), /MQTT-3.8.3-3/);
  assert.throws(() => writeSubscribe(1, [{ filter: 'a', qos: 2 as 1 }], out), /qos/);
  for (const filter of ['', 'a/#/b', 'a#', 'a+', '+a/b', 'a/b#', '##']) {
    assert.is(
      codeOf(() => writeSubscribe(1, [{ filter, qos: 0 }], out)),
      'MQTT_TOPIC_INVALID',
      JSON.stringify(filter),
    );
  }
  assert.is(
    codeOf(() => writeSubscribe(1, [{ filter: 'a/+', qos: 1 }], out.subarray(0, 9))),
    'MQTT_BUFFER_TOO_SMALL',
  );
});

test.run();
