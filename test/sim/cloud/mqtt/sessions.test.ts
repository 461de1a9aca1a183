// Persistent sessions (clean session 0) and retained messages of the local cloud's broker: a QoS 1 command
// published while the device is away is delivered when it reconnects, and so is one published across a
// broker restart(), which keeps the session store and the retained messages on the same port (as AWS IoT
// keeps them when the broker node a device was on goes away).
import mqtt from 'mqtt';
import { assert, suite } from '../../../harness/index.ts';
import { startTestCloud, tempStateDir } from '../support.ts';
import { connected, end, inbox, next, operatorClient, provisionDevice, subscribe } from './brokerKit.ts';

const test = suite('sim/cloud MQTT broker: persistent sessions, retained messages, restart()');
const state = tempStateDir();
const cloud = await startTestCloud(state.dir);
const cam = await provisionDevice(cloud, 'cam-s');

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('clean session 0: subscriptions and a QoS 1 message published while away are there on reconnect', async () => {
  const first = await connected(cloud, cam, { clientId: 'cam-s', clean: false });
  assert.equal(await subscribe(first, ['fieldcam/cam-s/cmd']), [1]);
  await end(first);

  const op = await operatorClient(cloud);
  await op.publishAsync('fieldcam/cam-s/cmd', 'while-away', { qos: 1 });
  await end(op);

  // The message is sent right after the CONNACK: listen before the handshake completes.
  const again = await connectedWithInbox({ clean: false });
  assert.ok(again.sessionPresent, 'CONNACK session present');
  assert.is((await again.inbox.until('fieldcam/cam-s/cmd')).payload, 'while-away');
  await end(again.client);

  // clean session 1 discards it: nothing queued is delivered, no session present.
  const clean = await connectedWithInbox({ clean: true });
  assert.is(clean.sessionPresent, false, 'no session after clean start');
  await end(clean.client);
});

test('restart(): connections end, the port stays, QoS 1 queued for the persistent session and retained messages survive', async () => {
  const dev = await connected(cloud, cam, {
    clientId: 'cam-s',
    clean: false,
    will: { topic: 'fieldcam/cam-s/health', payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  assert.equal(await subscribe(dev, ['fieldcam/cam-s/cmd']), [1]);
  await dev.publishAsync('fieldcam/cam-s/config/reported', 'v7', { qos: 1, retain: true });
  const port = cloud.mqtt.port;
  const dropped = next(dev, 'close');
  await cloud.mqtt.restart();
  await dropped;
  await end(dev);
  assert.is(cloud.mqtt.port, port);
  assert.ok(
    cloud.events.some((e) => e.event === 'mqtt-broker-restart'),
    'logged',
  );

  // A command while the device is away (after the restart, on the same port).
  const op = await operatorClient(cloud);
  const opIn = inbox(op);
  await op.publishAsync('fieldcam/cam-s/cmd', 'after-restart', { qos: 1 });
  // Retained messages survived, and the broker published the device's Will when it dropped the connection.
  await subscribe(op, ['fieldcam/cam-s/config/reported', 'fieldcam/cam-s/health']);
  assert.is((await opIn.until('fieldcam/cam-s/config/reported')).payload, 'v7');
  assert.is((await opIn.until('fieldcam/cam-s/health')).payload, 'offline');
  await end(op);

  const back = await connectedWithInbox({ clean: false });
  assert.ok(back.sessionPresent, 'session survived the restart');
  const cmd = await back.inbox.until('fieldcam/cam-s/cmd');
  assert.equal([cmd.payload, cmd.qos], ['after-restart', 1]);
  await end(back.client);
});

/** Connects cam-s with an inbox attached before the CONNACK, so messages sent right after it are kept. */
async function connectedWithInbox(options: {
  clean: boolean;
}): Promise<{ client: Awaited<ReturnType<typeof connected>>; sessionPresent: boolean; inbox: ReturnType<typeof inbox> }> {
  const client = mqtt.connect(`mqtts://${cloud.mqtt.endpoint}`, {
    ca: cloud.caPem,
    cert: cam.certificatePem,
    key: cam.privateKeyPem,
    clientId: 'cam-s',
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: options.clean,
  });
  const box = inbox(client);
  const [connack] = await next<[{ sessionPresent: boolean }]>(client, 'connect');
  return { client, sessionPresent: connack.sessionPresent, inbox: box };
}

test.run();
