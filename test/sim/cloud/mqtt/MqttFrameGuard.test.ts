// The broker's fixed-header guard on its own: packets made by mqtt-packet (an independent encoder) pass
// through byte-identical however the stream is cut; the limit is exact; a fifth Remaining Length byte and
// an oversized packet are caught as soon as their header is complete.
import { generate } from 'mqtt-packet';
import { PassThrough } from 'node:stream';
import { MqttFrameGuard } from '../../../../sim/cloud/mqtt/MqttFrameGuard.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('sim/cloud MqttFrameGuard (MQTT 3.1.1 fixed headers, size limit)');

/** Feeds `chunks` through a guard; returns what came out and the violation, if any. */
async function run(chunks: Buffer[], maxPacketBytes: number): Promise<{ out: Buffer; violation: string | undefined }> {
  const inner = new PassThrough();
  let violation: string | undefined;
  const guard = new MqttFrameGuard(inner, { maxPacketBytes, onViolation: (reason) => (violation = reason) });
  const out: Buffer[] = [];
  guard.on('data', (c: Buffer) => out.push(c));
  guard.on('error', () => {});
  const closed = new Promise<void>((done) => guard.once('close', () => done()));
  for (const c of chunks) inner.write(c);
  inner.end();
  await closed;
  return { out: Buffer.concat(out), violation };
}

const packets = Buffer.concat([
  generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: 'cam-1', keepalive: 30 }),
  generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fieldcam/cam-1/cmd', qos: 1 }] }),
  generate({ cmd: 'publish', topic: 'fieldcam/cam-1/telemetry', payload: Buffer.alloc(300, 7), qos: 1, messageId: 2, retain: false, dup: false }),
  generate({ cmd: 'pingreq' }),
  generate({ cmd: 'disconnect' }),
]);

test('valid packets pass unchanged at every cut point', async () => {
  for (let cut = 1; cut < packets.length; cut += 7) {
    const { out, violation } = await run([packets.subarray(0, cut), packets.subarray(cut)], 4096);
    assert.is(violation, undefined, `cut at ${cut}`);
    assert.ok(out.equals(packets), `bytes unchanged, cut at ${cut}`);
  }
  const byByte = await run(
    [...packets].map((b) => Buffer.from([b])),
    4096,
  );
  assert.ok(byByte.out.equals(packets) && byByte.violation === undefined, 'one byte at a time');
});

test('the limit counts the whole packet: exactly the limit passes, one byte more does not', async () => {
  const publish = (size: number): Buffer => {
    // 2-byte fixed header (remaining < 128) + 2-byte topic length + 1-byte topic + payload
    return generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(size - 5), qos: 0, retain: false, dup: false });
  };
  const exact = publish(120);
  assert.is(exact.length, 120);
  assert.is((await run([exact], 120)).violation, undefined);
  const over = publish(121);
  const result = await run([over.subarray(0, 2)], 120); // the header alone is enough to refuse it
  assert.is(result.violation, 'packet of 121 bytes exceeds the 120-byte limit');
  assert.is(result.out.length, 0, 'nothing of it passed');
});

test('a fifth Remaining Length byte is malformed (§2.2.3)', async () => {
  const result = await run([Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])], 1 << 30);
  assert.ok(result.violation?.includes('more than 4 bytes'), result.violation);
  // Four bytes are fine: 268,435,455 is the largest length MQTT can express.
  const four = await run([Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])], 1 << 30);
  assert.is(four.violation, undefined);
});

test.run();
