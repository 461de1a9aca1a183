// The cloud's TLS identity, and clients that trust it the AWS CLI way (AWS_CA_BUNDLE via host/aws/awsClientConfig).
import { ListStreamsCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { awsClientConfig } from '../../../host/aws/awsClientConfig.ts';
import { TEST_HOST_NAME } from '../../../sim/cloud/tls/ensureCertificates.ts';
import { assert, suite } from '../../harness/index.ts';
import { CREDENTIALS, startTestCloud, tempStateDir } from './support.ts';

const test = suite('sim/cloud TLS and AWS client configuration');
const state = tempStateDir();
let cloud = await startTestCloud(state.dir);

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('a CA and a server certificate for 127.0.0.1 and localhost; private keys are 0600', () => {
  assert.is(cloud.caFile, join(state.dir, 'ca.pem'));
  assert.is(readFileSync(cloud.caFile, 'utf8'), cloud.caPem);
  const ca = new X509Certificate(cloud.caPem);
  const server = new X509Certificate(readFileSync(join(state.dir, 'server.pem')));
  assert.ok(ca.ca, 'ca.pem is a CA certificate');
  assert.ok(!server.ca);
  assert.ok(server.verify(ca.publicKey), 'the server certificate is signed by the CA');
  assert.is(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.is(server.checkHost('localhost'), 'localhost');
  assert.is(server.checkHost(TEST_HOST_NAME), TEST_HOST_NAME); // the resolver fault suites' name for the cloud
  assert.ok(server.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'extended key usage serverAuth');
  for (const key of ['ca-key.pem', 'server-key.pem']) assert.is(statSync(join(state.dir, key)).mode & 0o777, 0o600, key);
});

test('restarts reuse the CA and server certificate; a missing server certificate is re-issued by the same CA', async () => {
  const serverPem = readFileSync(join(state.dir, 'server.pem'), 'utf8');
  await cloud.close();
  cloud = await startTestCloud(state.dir);
  assert.is(readFileSync(join(state.dir, 'server.pem'), 'utf8'), serverPem);
  const caPem = cloud.caPem;
  await cloud.close();
  rmSync(join(state.dir, 'server.pem'));
  cloud = await startTestCloud(state.dir);
  assert.is(cloud.caPem, caPem, 'same CA');
  const reissued = readFileSync(join(state.dir, 'server.pem'), 'utf8');
  assert.not(reissued, serverPem);
  assert.ok(new X509Certificate(reissued).verify(new X509Certificate(caPem).publicKey));
});

test('AWS_CA_BUNDLE makes an unmodified SDK client trust the cloud, by IP and by localhost', async () => {
  const env = { AWS_CA_BUNDLE: cloud.caFile, AWS_DEFAULT_REGION: 'us-east-1' };
  const viaIp = new KinesisVideoClient({ ...awsClientConfig({ env, endpointUrl: cloud.endpoint }), credentials: { ...CREDENTIALS }, maxAttempts: 1 });
  assert.ok(Array.isArray((await viaIp.send(new ListStreamsCommand({}))).StreamInfoList));
  const localhost = cloud.endpoint.replace('127.0.0.1', 'localhost');
  const viaName = new KinesisVideoClient({ ...awsClientConfig({ env, endpointUrl: localhost }), credentials: { ...CREDENTIALS }, maxAttempts: 1 });
  await viaName.send(new ListStreamsCommand({}));
});

test('without the CA the connection is refused (the certificate is not publicly trusted)', async () => {
  const client = new KinesisVideoClient({
    ...awsClientConfig({ env: {}, region: 'us-east-1', endpointUrl: cloud.endpoint }),
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
  });
  let err: unknown;
  try {
    await client.send(new ListStreamsCommand({}));
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call must fail');
  assert.ok(/certificate/i.test(String((err as Error).message) + String((err as { code?: string }).code)), String(err));
});

test('awsClientConfig: region precedence as the AWS CLI, endpoint and CA bundle checks', () => {
  assert.is(awsClientConfig({ env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' } }).region, 'eu-west-1');
  assert.is(awsClientConfig({ env: { AWS_DEFAULT_REGION: 'us-west-2' } }).region, 'us-west-2');
  assert.is(awsClientConfig({ region: 'ap-south-1', env: { AWS_REGION: 'eu-west-1' } }).region, 'ap-south-1');
  assert.is(awsClientConfig({ env: {} }).region, undefined, 'left to the SDK (profile region)');
  assert.is(awsClientConfig({ env: {} }).requestHandler, undefined, 'no CA bundle: the SDK default handler');
  assert.is(awsClientConfig({ env: {}, profile: 'lab' }).profile, 'lab');
  assert.equal(awsClientConfig({ env: {}, credentials: { accessKeyId: 'A', secretAccessKey: 'B' } }).credentials, { accessKeyId: 'A', secretAccessKey: 'B' });
  assert.throws(() => awsClientConfig({ env: {}, endpointUrl: 'not a url' }), 'CLI_USAGE');
  assert.throws(() => awsClientConfig({ env: {}, endpointUrl: 'ftp://x' }), 'CLI_USAGE');
  assert.throws(() => awsClientConfig({ env: { AWS_CA_BUNDLE: join(state.dir, 'absent.pem') } }), 'CLI_INPUT_NOT_FOUND');
  assert.throws(() => awsClientConfig({ env: { AWS_CA_BUNDLE: join(state.dir, 'server-key.pem') } }), 'CLI_INPUT_NOT_FOUND');
  assert.ok(awsClientConfig({ env: {}, caBundle: cloud.caFile }).requestHandler, '--ca-bundle overrides the environment');
});

test.run();
