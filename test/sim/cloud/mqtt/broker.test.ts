// The local cloud's MQTT broker with devices on mTLS (mqtt.js 5, MQTT 3.1.1), provisioned through the
// unmodified IoT SDK with fieldcam's own IoT policy: the endpoint DescribeEndpoint names, the certificate and
// iot:Connect refusals, per-thing Publish / Subscribe / Receive authorization, retained messages and the Will.
import { DescribeEndpointCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { ensureCertificates } from '../../../../sim/cloud/tls/ensureCertificates.ts';
import { assert, suite } from '../../../harness/index.ts';
import { iotClient } from '../iot/iotKit.ts';
import { startTestCloud, tempStateDir } from '../support.ts';
import { connected, device, end, inbox, next, operatorClient, provisionDevice, subscribe } from './brokerKit.ts';

const test = suite('sim/cloud MQTT broker: devices over mTLS, IoT policy authorization');
const state = tempStateDir();
const other = tempStateDir();
const cloud = await startTestCloud(state.dir);
const cam1 = await provisionDevice(cloud, 'cam-1');
const cam2 = await provisionDevice(cloud, 'cam-2');
const { region, accountId } = cloud.ctx.config;
const iot = iotClient(cloud);

test.after(async () => {
  iot.destroy();
  await cloud.close();
  state.remove();
  other.remove();
});

function events(name: string): Record<string, unknown>[] {
  return cloud.events.filter((e) => e.event === name).map((e) => e.fields);
}

test('DescribeEndpoint iot:Data-ATS and iot:Data name the broker', async () => {
  for (const endpointType of ['iot:Data-ATS', 'iot:Data']) {
    const out = await iot.send(new DescribeEndpointCommand({ endpointType }));
    assert.is(out.endpointAddress, `127.0.0.1:${cloud.mqtt.port}`);
  }
  assert.is(cloud.mqtt.endpoint, `127.0.0.1:${cloud.mqtt.port}`);
});

test('a device connects as its thing, subscribes to its command topic and round-trips with an operator', async () => {
  const dev = await connected(cloud, cam1, { clientId: 'cam-1' });
  const op = await operatorClient(cloud);
  try {
    assert.equal(await subscribe(dev, ['fieldcam/cam-1/cmd', 'fieldcam/cam-1/config/desired']), [1, 1]);
    assert.equal(await subscribe(op, ['fieldcam/cam-1/result']), [1]);
    const devIn = inbox(dev);
    const opIn = inbox(op);
    await op.publishAsync('fieldcam/cam-1/cmd', 'status please', { qos: 1 });
    const cmd = await devIn.until('fieldcam/cam-1/cmd');
    assert.is(cmd.payload, 'status please');
    assert.is(cmd.qos, 1);
    await dev.publishAsync('fieldcam/cam-1/result', 'ok', { qos: 1 });
    assert.is((await opIn.until('fieldcam/cam-1/result')).payload, 'ok');
  } finally {
    await end(dev);
    await end(op);
  }
});

test('a client id other than the thing name → closed without CONNACK (iot:Connect denied), logged', async () => {
  const result = await device(cloud, cam1, { clientId: 'cam-2' });
  assert.ok('closed' in result, 'refused');
  const refusal = events('mqtt-connect-refused').find((f) => f.clientId === 'cam-2');
  assert.ok(refusal, 'logged');
  assert.ok(String(refusal.reason).includes(`iot:Connect on arn:aws:iot:${region}:${accountId}:client/cam-2`), String(refusal.reason));
});

test('an unregistered certificate of the cloud CA, a foreign CA, no certificate, and a revoked one → refused', async () => {
  const unregistered = await cloud.ctx.ca.createKeysAndCertificate();
  const r1 = await device(cloud, { certificatePem: unregistered.certificatePem, privateKeyPem: unregistered.privateKeyPem }, { clientId: 'cam-1' });
  assert.ok('closed' in r1, 'unregistered refused');
  assert.ok(
    events('mqtt-connect-refused').some((f) => String(f.reason).includes('is not registered')),
    'unregistered logged',
  );

  const foreign = await ensureCertificates(other.dir);
  const r2 = await device(cloud, { certificatePem: foreign.certPem, privateKeyPem: foreign.keyPem }, { clientId: 'cam-1' });
  assert.ok('closed' in r2, 'foreign CA refused');
  assert.ok(
    events('mqtt-connect-refused').some((f) => String(f.reason).includes("not issued by the cloud's CA")),
    'foreign logged',
  );

  const r3 = await device(cloud, { certificatePem: '', privateKeyPem: '' }, { clientId: 'cam-1', cert: undefined, key: undefined });
  assert.ok('closed' in r3, 'no certificate refused');

  const revoked = await provisionDevice(cloud, 'cam-revoked');
  const ok = await connected(cloud, revoked, { clientId: 'cam-revoked' });
  await end(ok);
  await iot.send(new UpdateCertificateCommand({ certificateId: revoked.certificateId, newStatus: 'REVOKED' }));
  const r4 = await device(cloud, revoked, { clientId: 'cam-revoked' });
  assert.ok('closed' in r4, 'revoked refused');
  assert.ok(
    events('mqtt-connect-refused').some((f) => String(f.reason).includes('is REVOKED, not ACTIVE')),
    'revoked logged',
  );
});

test("publishing to another thing's topic disconnects the client; others keep being served", async () => {
  const dev = await connected(cloud, cam1, { clientId: 'cam-1' });
  const dev2 = await connected(cloud, cam2, { clientId: 'cam-2' });
  try {
    assert.equal(await subscribe(dev2, ['fieldcam/cam-2/cmd']), [1]);
    const closed = next(dev, 'close');
    dev.publish('fieldcam/cam-2/cmd', 'hijack', { qos: 1 });
    await closed;
    assert.ok(
      events('mqtt-publish-refused').some((f) => f.clientId === 'cam-1' && f.topic === 'fieldcam/cam-2/cmd'),
      'logged',
    );
    // cam-2 never saw it, and is still served: a message of its own operator arrives.
    const in2 = inbox(dev2);
    const op = await operatorClient(cloud);
    await op.publishAsync('fieldcam/cam-2/cmd', 'legit', { qos: 1 });
    assert.is((await in2.until('fieldcam/cam-2/cmd')).payload, 'legit');
    assert.equal(
      in2.messages.map((m) => m.payload),
      ['legit'],
    );
    await end(op);
  } finally {
    await end(dev);
    await end(dev2);
  }
});

test('subscribing outside the policy → SUBACK 0x80 for that filter only; the connection stays up', async () => {
  const dev = await connected(cloud, cam1, { clientId: 'cam-1' });
  try {
    assert.equal(await subscribe(dev, ['fieldcam/cam-2/cmd', 'fieldcam/cam-1/cmd', 'fieldcam/#']), [128, 1, 128]);
    assert.ok(dev.connected, 'still connected');
    const devIn = inbox(dev);
    await dev.publishAsync('fieldcam/cam-1/cmd', 'echo', { qos: 1 });
    assert.is((await devIn.until('fieldcam/cam-1/cmd')).payload, 'echo');
  } finally {
    await end(dev);
  }
});

test('iot:Receive filters deliveries of an allowed subscription (checked per message)', async () => {
  // A watcher allowed to subscribe to every thing's topics but to receive only cam-1's.
  const arn = `arn:aws:iot:${region}:${accountId}`;
  const watcherCert = await provisionDevice(cloud, 'watcher', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/\${iot:Connection.Thing.ThingName}` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${arn}:topicfilter/fieldcam/+/telemetry` },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: `${arn}:topic/fieldcam/cam-1/telemetry` },
    ],
  });
  const watcher = await connected(cloud, watcherCert, { clientId: 'watcher' });
  const op = await operatorClient(cloud);
  try {
    assert.equal(await subscribe(watcher, ['fieldcam/+/telemetry']), [1]);
    const seen = inbox(watcher);
    // Published in this order on one connection: had cam-2's been delivered, it would arrive first.
    await op.publishAsync('fieldcam/cam-2/telemetry', 'two', { qos: 1 });
    await op.publishAsync('fieldcam/cam-1/telemetry', 'one', { qos: 1 });
    await seen.until('fieldcam/cam-1/telemetry');
    assert.equal(
      seen.messages.map((m) => m.topic),
      ['fieldcam/cam-1/telemetry'],
    );
  } finally {
    await end(watcher);
    await end(op);
  }
  // ${iot:Connection.Thing.ThingName} is only set for the thing's own client id.
  const r = await device(cloud, watcherCert, { clientId: 'not-a-thing' });
  assert.ok('closed' in r, 'client id that is no attached thing refused');
});

test('retained messages reach later subscribers; the Will is published when a device drops without DISCONNECT', async () => {
  const dev = await connected(cloud, cam1, {
    clientId: 'cam-1',
    will: { topic: 'fieldcam/cam-1/health', payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  await dev.publishAsync('fieldcam/cam-1/health', 'green', { qos: 1, retain: true });
  const op = await operatorClient(cloud);
  try {
    const opIn = inbox(op);
    assert.equal(await subscribe(op, ['fieldcam/cam-1/health']), [1]);
    const retained = await opIn.until('fieldcam/cam-1/health');
    assert.equal([retained.payload, retained.retain], ['green', true]);
    const will = new Promise<string>((done) =>
      op.on('message', (topic, payload) => topic === 'fieldcam/cam-1/health' && payload.toString() === 'offline' && done('offline')),
    );
    dev.stream.destroy(); // the network drops: no DISCONNECT
    assert.is(await will, 'offline');
  } finally {
    await end(dev);
    await end(op);
  }
  // The Will was retained too: a new subscriber sees "offline".
  const late = await operatorClient(cloud);
  const lateIn = inbox(late);
  await subscribe(late, ['fieldcam/cam-1/health']);
  assert.is((await lateIn.until('fieldcam/cam-1/health')).payload, 'offline');
  await end(late);
});

test('a retained publish needs iot:RetainPublish; a Will the policy does not allow refuses the CONNECT', async () => {
  const arn = `arn:aws:iot:${region}:${accountId}`;
  const plain = await provisionDevice(cloud, 'no-retain', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/no-retain` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${arn}:topic/fieldcam/no-retain/*` },
    ],
  });
  const dev = await connected(cloud, plain, { clientId: 'no-retain' });
  await dev.publishAsync('fieldcam/no-retain/telemetry', 'fine', { qos: 1 });
  const closed = next(dev, 'close');
  dev.publish('fieldcam/no-retain/health', 'kept?', { qos: 1, retain: true });
  await closed;
  await end(dev);
  assert.ok(
    events('mqtt-publish-refused').some((f) => f.clientId === 'no-retain' && String(f.reason).includes('iot:RetainPublish')),
    'logged',
  );
  const r = await device(cloud, plain, { clientId: 'no-retain', will: { topic: 'elsewhere/health', payload: Buffer.from('x'), qos: 0, retain: false } });
  assert.ok('closed' in r, 'Will outside the policy refused');
});

test.run();
