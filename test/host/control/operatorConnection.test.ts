// The operator's connection to the local cloud's broker, in process: the presigned URL (token appended after
// signing, as AWS IoT wants), temporary credentials accepted, and each failure named — a bad signature
// refused (CLI_BROKER_REFUSED), a closed port and an unverified certificate unreachable (CLI_BROKER_UNREACHABLE).
import { createServer } from 'node:net';
import { isFieldcamError } from '../../../host/shared/hostErrors.ts';
import { OperatorConnection } from '../../../host/lib/control/OperatorConnection.ts';
import { presignMqttUrl, type MqttEndpoint } from '../../../host/lib/control/presignMqttUrl.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { startLocalCloud, tempDir } from './controlKit.ts';

const test = suite('OperatorConnection: MQTT over WSS with a SigV4 presigned URL');
const state = tempDir('fieldcam-operator-state-');
const cloud: RunningCloud = await startLocalCloud(state.dir);
const [host, port] = cloud.mqtt.endpoint.split(':') as [string, string];
const endpoint: MqttEndpoint = { host, port: Number(port) };
const admin = { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY };

test.after(async () => {
  await cloud.close();
  state.remove();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

test('presign: the session token is appended after the signature and not signed', async () => {
  const date = new Date(Date.UTC(2026, 10, 21, 10, 0, 0));
  const plain = new URL(await presignMqttUrl({ endpoint, region: 'us-east-1', credentials: admin, date }));
  const withToken = new URL(await presignMqttUrl({ endpoint, region: 'us-east-1', credentials: { ...admin, sessionToken: 'tok/en+=' }, date }));
  assert.is(plain.protocol, 'wss:');
  assert.is(plain.host, cloud.mqtt.endpoint);
  assert.is(plain.pathname, '/mqtt');
  assert.is(plain.searchParams.get('X-Amz-SignedHeaders'), 'host');
  assert.is(plain.searchParams.get('X-Amz-Credential'), `${EXAMPLE_ACCESS_KEY_ID}/20261121/us-east-1/iotdevicegateway/aws4_request`);
  assert.is(plain.searchParams.get('X-Amz-Security-Token'), null);
  assert.is(withToken.searchParams.get('X-Amz-Signature'), plain.searchParams.get('X-Amz-Signature'), 'the token is not part of the signature');
  const names = [...withToken.searchParams.keys()];
  assert.is(names.at(-1), 'X-Amz-Security-Token');
  assert.is(withToken.searchParams.get('X-Amz-Security-Token'), 'tok/en+=');
});

test('temporary credentials (key id, secret and session token) connect; publish and subscribe work', async () => {
  const temporary = cloud.ctx.temporaryCredentials.issue(3_600_000);
  const credentials = { accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey, sessionToken: temporary.sessionToken };
  const got: string[] = [];
  const connection = await OperatorConnection.open({
    signUrl: () => presignMqttUrl({ endpoint, region: 'us-east-1', credentials }),
    ca: cloud.caPem,
    onMessage: (m) => got.push(`${m.topic} ${Buffer.from(m.payload).toString()}`),
  });
  try {
    assert.ok(/^fieldcam-cli-[0-9a-f]{12}$/.test(connection.clientId), connection.clientId);
    await connection.subscribe(['fieldcam/cam-x/result']);
    const arrived = new Promise<void>((done) => {
      const poll = setInterval(() => got.length > 0 && (clearInterval(poll), done()), 10);
    });
    await connection.publish('fieldcam/cam-x/result', new TextEncoder().encode('hello'));
    await arrived;
    assert.equal(got, ['fieldcam/cam-x/result hello']);
  } finally {
    await connection.close();
  }
});

test('a wrong secret: the upgrade is refused (403) → CLI_BROKER_REFUSED', async () => {
  const err = await failure(
    OperatorConnection.open({
      signUrl: () => presignMqttUrl({ endpoint, region: 'us-east-1', credentials: { ...admin, secretAccessKey: 'not-the-secret' } }),
      ca: cloud.caPem,
      onMessage: () => {},
    }),
  );
  assert.ok(isFieldcamError(err, 'CLI_BROKER_REFUSED'), String(err));
  assert.ok((err as Error).message.includes('HTTP 403'), (err as Error).message);
});

test('nothing listening → CLI_BROKER_UNREACHABLE; an unverified certificate → CLI_BROKER_UNREACHABLE naming AWS_CA_BUNDLE', async () => {
  // A port that was free a moment ago (listen on 0, close).
  const free = await new Promise<number>((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const p = (server.address() as { port: number }).port;
      server.close(() => done(p));
    });
  });
  const closed = await failure(
    OperatorConnection.open({
      signUrl: () => presignMqttUrl({ endpoint: { host: '127.0.0.1', port: free }, region: 'us-east-1', credentials: admin }),
      onMessage: () => {},
    }),
  );
  assert.ok(isFieldcamError(closed, 'CLI_BROKER_UNREACHABLE'), String(closed));
  assert.ok((closed as Error).message.includes('ECONNREFUSED'), (closed as Error).message);

  const untrusted = await failure(
    OperatorConnection.open({
      signUrl: () => presignMqttUrl({ endpoint, region: 'us-east-1', credentials: admin }),
      onMessage: () => {},
    }),
  );
  assert.ok(isFieldcamError(untrusted, 'CLI_BROKER_UNREACHABLE'), String(untrusted));
  assert.ok((untrusted as Error).message.includes('AWS_CA_BUNDLE'), (untrusted as Error).message);
});

test.run();
