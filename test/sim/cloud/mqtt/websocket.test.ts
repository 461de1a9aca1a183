// Operators on MQTT over WebSockets (wss://<iot:Data-ATS>/mqtt, same port as the devices) with SigV4 signed
// URLs made by an independent presigner: the example keys act as the account's administrator; a tampered
// signature, an expired URL, an unknown key or a missing session token are refused with 403 at the upgrade;
// temporary credentials from the IoT credentials provider are held to their role's inline policies.
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { request } from 'node:https';
import WebSocket from 'ws';
import { assert, suite } from '../../../harness/index.ts';
import { fetchCredentials, iamClient, provisionRole, provisionThing, sdkCredentials } from '../iot/iotKit.ts';
import { startTestCloud, tempStateDir } from '../support.ts';
import { connected, end, inbox, operator, operatorClient, presignedUrl, provisionDevice, subscribe } from './brokerKit.ts';

const test = suite('sim/cloud MQTT broker: operators over WSS with SigV4 URLs');
const state = tempStateDir();
const cloud = await startTestCloud(state.dir);
const region = cloud.ctx.config.region;
const host = cloud.mqtt.endpoint;
const cam = await provisionDevice(cloud, 'cam-w');

test.after(async () => {
  await cloud.close();
  state.remove();
});

/** The HTTP status and body the upgrade request to `url` gets (101 when it is accepted). */
function upgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url, 'mqtt', { ca: cloud.caPem });
    ws.on('open', () => {
      ws.terminate();
      done({ status: 101, body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        ws.terminate();
        done({ status: res.statusCode ?? 0, body });
      });
    });
    ws.on('error', (err) => fail(err));
  });
}

test('the example keys connect over WSS and exchange messages with a device', async () => {
  const op = await operatorClient(cloud);
  const dev = await connected(cloud, cam, { clientId: 'cam-w' });
  try {
    assert.equal(await subscribe(op, ['fieldcam/+/telemetry', '#']), [1, 1], 'the account administrator may subscribe to anything');
    assert.equal(await subscribe(dev, ['fieldcam/cam-w/cmd']), [1]);
    const opIn = inbox(op);
    const devIn = inbox(dev);
    await dev.publishAsync('fieldcam/cam-w/telemetry', 'seq 1', { qos: 0 });
    assert.is((await opIn.until('fieldcam/cam-w/telemetry')).payload, 'seq 1');
    await op.publishAsync('fieldcam/cam-w/cmd', 'start', { qos: 1 });
    assert.is((await devIn.until('fieldcam/cam-w/cmd')).payload, 'start');
  } finally {
    await end(op);
    await end(dev);
  }
});

test('a tampered signature, an expired URL, an unknown key, another service or a wrong path → 403/404 at the upgrade', async () => {
  const good = presignedUrl(host, region);
  assert.is((await upgrade(good)).status, 101);

  const tampered = good.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  const bad = await upgrade(tampered);
  assert.is(bad.status, 403);
  assert.ok(bad.body.includes('signature we calculated does not match'), bad.body);

  const expired = await upgrade(presignedUrl(host, region, undefined, { date: new Date(Date.now() - 2 * 3600_000), expiresS: 3600 }));
  assert.is(expired.status, 403);
  assert.ok(expired.body.includes('Signature expired'), expired.body);
  // The same age within a longer X-Amz-Expires is fine.
  assert.is((await upgrade(presignedUrl(host, region, undefined, { date: new Date(Date.now() - 2 * 3600_000), expiresS: 86400 }))).status, 101);

  const unknown = await upgrade(presignedUrl(host, region, { accessKeyId: 'AKIDUNKNOWN0000', secretAccessKey: 'x' }));
  assert.is(unknown.status, 403);
  assert.ok(unknown.body.includes('security token included in the request is invalid'), unknown.body);

  const otherService = await upgrade(good.replace('%2Fiotdevicegateway%2F', '%2Fiot%2F'));
  assert.is(otherService.status, 403);
  assert.ok(otherService.body.includes("'iotdevicegateway'"), otherService.body);

  assert.is((await upgrade(good.replace('/mqtt?', '/other?'))).status, 404);
  assert.ok(
    cloud.events.some((e) => e.event === 'mqtt-websocket-refused'),
    'refusals logged',
  );
  // mqtt.js sees the refusal as a failed connection.
  const refused = await operator(cloud, { url: tampered });
  assert.ok('closed' in refused, 'mqtt.js connection refused');
});

test('plain HTTPS on the broker port: /mqtt without Upgrade → 426, elsewhere → 404', async () => {
  const get = (path: string): Promise<number> =>
    new Promise((done, fail) => {
      const [hostname, port] = host.split(':');
      const req = request({ host: hostname, port, path, ca: cloud.caPem, agent: false }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      });
      req.on('error', fail);
      req.end();
    });
  assert.is(await get('/mqtt'), 426);
  assert.is(await get('/'), 404);
});

test('temporary credentials of the IoT credentials provider are held to their role: refused, then allowed by a PutRolePolicy', async () => {
  await provisionRole(cloud, { role: 'OpsRole', alias: 'OpsAlias', policy: 'OpsAssume' });
  const thingCert = await provisionThing(cloud, 'cam-ops', 'OpsAssume');
  const answer = await fetchCredentials(cloud, { cert: thingCert, thingName: 'cam-ops', roleAlias: 'OpsAlias' });
  assert.is(answer.status, 200, JSON.stringify(answer.json));
  const credentials = sdkCredentials(answer);
  const url = presignedUrl(host, region, credentials);

  // The role's KVS policy grants no iot:Connect: the CONNECT is refused (no CONNACK).
  const refused = await operator(cloud, { url, clientId: 'ops-1' });
  assert.ok('closed' in refused, 'iot:Connect denied');

  // Without the session token appended, the key is not accepted at all.
  const noToken = await upgrade(url.replace(/&X-Amz-Security-Token=[^&]*/, ''));
  assert.is(noToken.status, 403);

  const arn = `arn:aws:iot:${region}:${cloud.ctx.config.accountId}`;
  await iamClient(cloud).send(
    new PutRolePolicyCommand({
      RoleName: 'OpsRole',
      PolicyName: 'mqtt',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/ops-*` },
          { Effect: 'Allow', Action: ['iot:Subscribe'], Resource: `${arn}:topicfilter/fieldcam/\${credentials-iot:ThingName}/*` },
          { Effect: 'Allow', Action: ['iot:Receive'], Resource: `${arn}:topic/fieldcam/\${credentials-iot:ThingName}/*` },
        ],
      }),
    }),
  );
  const op = await operatorClient(cloud, { url, clientId: 'ops-1' });
  try {
    assert.equal(await subscribe(op, ['fieldcam/cam-ops/telemetry', 'fieldcam/cam-w/telemetry']), [1, 128]);
    // No iot:Publish in the role: publishing disconnects.
    const closed = new Promise<void>((done) => op.once('close', () => done()));
    op.publish('fieldcam/cam-ops/cmd', 'x', { qos: 1 });
    await closed;
  } finally {
    await end(op);
  }
});

test.run();
