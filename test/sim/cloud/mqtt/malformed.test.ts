// Malformed and oversized packets on the broker: the offending connection is dropped and the reason logged,
// while a device connected all along keeps being served (MQTT 3.1.1 §4.8: a malformed packet closes the
// network connection; AWS IoT: 128 KiB message limit, CLIENT_ERROR disconnect).
import { generate } from 'mqtt-packet';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { MQTT_MAX_PACKET_BYTES } from '../../../../sim/cloud/mqtt/MqttFrameGuard.ts';
import { assert, suite } from '../../../harness/index.ts';
import { startTestCloud, tempStateDir } from '../support.ts';
import { connected, end, inbox, next, operatorClient, provisionDevice, subscribe } from './brokerKit.ts';

const test = suite('sim/cloud MQTT broker: malformed and oversized packets');
const state = tempStateDir();
const cloud = await startTestCloud(state.dir);
const cam = await provisionDevice(cloud, 'cam-m');
const bystanderCert = await provisionDevice(cloud, 'cam-b');
const bystander = await connected(cloud, bystanderCert, { clientId: 'cam-b' });
await subscribe(bystander, ['fieldcam/cam-b/cmd']);
const bystanderIn = inbox(bystander);

test.after(async () => {
  await end(bystander);
  await cloud.close();
  state.remove();
});

/** A raw mTLS connection with cam-m's certificate; resolves once the handshake is done. */
function rawDevice(): Promise<TLSSocket> {
  const [host, port] = cloud.mqtt.endpoint.split(':');
  return new Promise((done, fail) => {
    const socket = tlsConnect({ host, port: Number(port), ca: cloud.caPem, cert: cam.certificatePem, key: cam.privateKeyPem }, () => done(socket));
    socket.once('error', fail);
  });
}

/**
 * Writes `bytes` and resolves when the connection has closed, with everything the broker sent. `halfClose`
 * ends our side after writing (for garbage that may leave the broker waiting for the rest of a packet).
 */
async function sendUntilClosed(bytes: Buffer[], halfClose = false): Promise<Buffer> {
  const socket = await rawDevice();
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  socket.on('error', () => {});
  const closed = next(socket, 'close');
  for (const b of bytes) socket.write(b);
  if (halfClose) socket.end();
  await closed;
  return Buffer.concat(received);
}

const CONNECT = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'cam-m', keepalive: 30 });

/** The bystander still gets its commands: the broker serves others after each bad connection. */
async function bystanderServed(tag: string): Promise<void> {
  const op = await operatorClient(cloud);
  await op.publishAsync('fieldcam/cam-b/cmd', tag, { qos: 1 });
  await end(op);
  await bystanderIn.until('fieldcam/cam-b/cmd', tag);
}

test('a Remaining Length of five bytes (§2.2.3 allows four) → dropped before CONNECT, logged', async () => {
  const answer = await sendUntilClosed([Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])]);
  assert.is(answer.length, 0, 'no CONNACK');
  assert.ok(
    cloud.events.some((e) => e.event === 'mqtt-malformed' && String(e.fields.reason).includes('more than 4 bytes')),
    'logged',
  );
  await bystanderServed('after-length');
});

test('a reserved packet type after a good CONNECT → CONNACK, then the connection is dropped', async () => {
  const answer = await sendUntilClosed([CONNECT, Buffer.from([0x00, 0x00])]);
  assert.equal([...answer.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], 'CONNACK accepted first');
  await bystanderServed('after-reserved');
});

test('a PUBLISH larger than 128 KiB disconnects the client (mqtt.js), logged with its size', async () => {
  const dev = await connected(cloud, cam, { clientId: 'cam-m' });
  const closed = next(dev, 'close');
  dev.publish('fieldcam/cam-m/telemetry', Buffer.alloc(MQTT_MAX_PACKET_BYTES), { qos: 0 });
  await closed;
  await end(dev);
  assert.ok(
    cloud.events.some((e) => e.event === 'mqtt-malformed' && String(e.fields.reason).includes(`exceeds the ${MQTT_MAX_PACKET_BYTES}-byte limit`)),
    'logged',
  );
  // Just under the limit is delivered.
  const ok = await connected(cloud, cam, { clientId: 'cam-m' });
  await subscribe(ok, ['fieldcam/cam-m/telemetry']);
  const box = inbox(ok);
  const payload = Buffer.alloc(MQTT_MAX_PACKET_BYTES - 64, 0x61);
  await ok.publishAsync('fieldcam/cam-m/telemetry', payload, { qos: 1 });
  assert.is((await box.until('fieldcam/cam-m/telemetry')).payload.length, payload.length);
  await end(ok);
  await bystanderServed('after-oversize');
});

test('random bytes after CONNECT (seeded) never take the broker down', async () => {
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  for (let round = 0; round < 8; round++) {
    const garbage = Buffer.alloc(16 + Math.floor(random() * 48));
    for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
    // Garbage may end inside a packet the broker then waits for: our end of the stream closes that case.
    await sendUntilClosed([CONNECT, garbage], true);
  }
  await bystanderServed('after-fuzz');
});

test.run();
