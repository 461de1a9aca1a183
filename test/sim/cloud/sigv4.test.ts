// SigV4 verification of the local cloud (kvs-reference.md §10): the unmodified SDK for the ordinary cases, and
// requests signed by hand with @smithy/signature-v4 for the device conventions the SDK does not produce.
import { CreateStreamCommand, DescribeStreamCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis-video';
import { assert, suite } from '../../harness/index.ts';
import type { TemporaryCredentials } from '../../../sim/cloud/types.ts';
import { CREDENTIALS, kvsClient, rawRequest, sdkError, signedPost, startTestCloud, tempStateDir } from './support.ts';

const test = suite('sim/cloud SigV4 authentication');
const state = tempStateDir();
// Quotas off: these tests describe one stream many times a second (quotas are tested in controlPlane.test.ts).
let cloud = await startTestCloud(state.dir, { config: { enforceTps: false } });
await kvsClient(cloud).send(new CreateStreamCommand({ StreamName: 'cam' }));
const DESCRIBE = JSON.stringify({ StreamName: 'cam' });
const HOURS_2 = 2 * 3600_000;

/** SDK credentials from the cloud's temporary credentials (the SDK wants a Date expiration). */
function sdkCredentials(c: TemporaryCredentials): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date } {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
}

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('a correctly signed SDK request passes', async () => {
  const out = await kvsClient(cloud).send(new DescribeStreamCommand({ StreamName: 'cam' }));
  assert.is(out.StreamInfo!.StreamName, 'cam');
});

test('wrong secret → 403 InvalidSignatureException; the log shows the canonical request we expected', async () => {
  cloud.events.length = 0;
  await sdkError(
    kvsClient(cloud, { credentials: { ...CREDENTIALS, secretAccessKey: 'not-the-secret' } }).send(new DescribeStreamCommand({ StreamName: 'cam' })),
    'InvalidSignatureException',
    403,
    /^The request signature we calculated does not match the signature you provided/,
  );
  const mismatch = cloud.events.find((e) => e.event === 'sigv4-mismatch');
  assert.ok(mismatch, 'a sigv4-mismatch event is logged');
  const canonical = String(mismatch.fields.expectedCanonicalRequest);
  assert.ok(canonical.startsWith('POST\n/describeStream\n\n'), canonical);
  assert.ok(/\nhost:127\.0\.0\.1:\d+\n/.test(canonical), canonical);
});

test('unknown access key → 403 UnrecognizedClientException', async () => {
  await sdkError(
    kvsClient(cloud, { credentials: { accessKeyId: 'AKIAUNKNOWN0000000', secretAccessKey: 'x' } }).send(new ListStreamsCommand({})),
    'UnrecognizedClientException',
    403,
    /security token included in the request is invalid/,
  );
});

test('wrong region in the credential scope → 403 with KVS\'s "scoped to a valid region" message', async () => {
  await sdkError(
    kvsClient(cloud, { region: 'eu-west-1' }).send(new ListStreamsCommand({})),
    'InvalidSignatureException',
    403,
    /^Credential should be scoped to a valid region, not 'eu-west-1'\./,
  );
});

test('client clock 2 h ahead → 403 "Signature not yet current"; 2 h behind → 403 "Signature expired"', async () => {
  await sdkError(
    kvsClient(cloud, { systemClockOffset: HOURS_2 }).send(new ListStreamsCommand({})),
    'InvalidSignatureException',
    403,
    /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
  );
  await sdkError(
    kvsClient(cloud, { systemClockOffset: -HOURS_2 }).send(new ListStreamsCommand({})),
    'InvalidSignatureException',
    403,
    /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
  );
  // Within ±5 minutes is accepted.
  await kvsClient(cloud, { systemClockOffset: 4 * 60_000 }).send(new ListStreamsCommand({}));
  await kvsClient(cloud, { systemClockOffset: -4 * 60_000 }).send(new ListStreamsCommand({}));
});

test('faults.clockSkewMs moves the server clock: Date header, the skew check, and the SDK corrects itself from Date', async () => {
  cloud.ctx.faults.clockSkewMs = HOURS_2;
  try {
    const raw = await rawRequest(cloud, 'POST', '/listStreams', {});
    assert.ok(Math.abs(Date.parse(String(raw.headers.date)) - (Date.now() + HOURS_2)) < 5000, `Date ${raw.headers.date} is 2 h ahead`);
    assert.ok(Math.abs(cloud.ctx.now() - (Date.now() + HOURS_2)) < 1000);
    await sdkError(kvsClient(cloud).send(new ListStreamsCommand({})), 'InvalidSignatureException', 403, /^Signature expired: /);
    // With retries the SDK takes the offset from the Date header of the 403 and succeeds on the next attempt.
    const client = kvsClient(cloud, { maxAttempts: 3 });
    const out = await client.send(new ListStreamsCommand({}));
    assert.is(out.$metadata.attempts, 2);
    assert.ok(Math.abs((client.config.systemClockOffset ?? 0) - HOURS_2) < 5000, 'the SDK adopted the server clock');
  } finally {
    cloud.ctx.faults.clockSkewMs = 0;
  }
});

test('device conventions: headers listed in SignedHeaders are verified, including user-agent and connection', async () => {
  const res = await signedPost(cloud, '/describeStream', DESCRIBE, {
    headers: { 'user-agent': 'fieldcam/0.1 XS', connection: 'keep-alive' },
    signable: ['user-agent', 'connection'],
  });
  assert.is(res.status, 200, res.body);
  assert.ok(res.signedHeaders.includes('user-agent') && res.signedHeaders.includes('connection'), res.signedHeaders.join(';'));
  assert.ok(!res.signedHeaders.includes('x-amz-content-sha256'), 'no x-amz-content-sha256: the server hashes the body itself');
  const tampered = await signedPost(cloud, '/describeStream', DESCRIBE, { sendBody: JSON.stringify({ StreamName: 'cam', x: 1 }) });
  assert.is(tampered.status, 403, 'a body other than the signed one fails the payload hash');
  assert.is(tampered.headers['x-amzn-errortype'], 'InvalidSignatureException:');
});

test('the query string is part of the signature: percent-encoding, repeated keys', async () => {
  const query = { z: 'a+b c', a: ['2', '1'] };
  const ok = await signedPost(cloud, '/listStreams', '{}', { query });
  assert.is(ok.status, 200, ok.body);
  const tampered = await signedPost(cloud, '/listStreams', '{}', { query, sendQuery: 'z=a%2Bb%20c&a=2&a=3' });
  assert.is(tampered.status, 403);
});

test('temporary credentials: session token signed (SDK, embedded-C) and unsigned (producer-c) both accepted', async () => {
  const temporary = cloud.ctx.temporaryCredentials.issue(3600_000);
  assert.ok(/^ASIA[A-Z2-7]{16}$/.test(temporary.accessKeyId), temporary.accessKeyId);
  const out = await kvsClient(cloud, { credentials: sdkCredentials(temporary) }).send(new DescribeStreamCommand({ StreamName: 'cam' }));
  assert.is(out.StreamInfo!.StreamName, 'cam');

  const signedToken = await signedPost(cloud, '/describeStream', DESCRIBE, { credentials: temporary });
  assert.is(signedToken.status, 200, signedToken.body);
  assert.ok(signedToken.signedHeaders.includes('x-amz-security-token'));

  const unsignedToken = await signedPost(cloud, '/describeStream', DESCRIBE, { credentials: temporary, unsignable: ['x-amz-security-token'] });
  assert.is(unsignedToken.status, 200, unsignedToken.body);
  assert.ok(!unsignedToken.signedHeaders.includes('x-amz-security-token'));
});

test('temporary credentials: missing or wrong token → UnrecognizedClientException; a token with a static key too', async () => {
  const temporary = cloud.ctx.temporaryCredentials.issue(3600_000);
  const noToken = await signedPost(cloud, '/describeStream', DESCRIBE, {
    credentials: { accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey },
  });
  assert.is(noToken.status, 403);
  assert.is(noToken.headers['x-amzn-errortype'], 'UnrecognizedClientException:');
  assert.equal(JSON.parse(noToken.body), { message: 'The security token included in the request is invalid.' });
  await sdkError(
    kvsClient(cloud, { credentials: { ...sdkCredentials(temporary), sessionToken: 'forged' } }).send(new ListStreamsCommand({})),
    'UnrecognizedClientException',
    403,
  );
  await sdkError(
    kvsClient(cloud, { credentials: { ...CREDENTIALS, sessionToken: 'stray' } }).send(new ListStreamsCommand({})),
    'UnrecognizedClientException',
    403,
  );
});

test('expired temporary credentials → 403 ExpiredTokenException; faults.expireTokensBefore expires older tokens', async () => {
  const now = Date.now();
  const expired: TemporaryCredentials = {
    accessKeyId: 'ASIAEXPIREDTEST00001',
    secretAccessKey: 'expired-secret',
    sessionToken: 'expired-token',
    issuedAt: now - 3600_000,
    expiration: now - 1000,
  };
  cloud.ctx.temporaryCredentials.register(expired);
  const res = await signedPost(cloud, '/describeStream', DESCRIBE, { credentials: expired });
  assert.is(res.status, 403);
  assert.is(res.headers['x-amzn-errortype'], 'ExpiredTokenException:');
  assert.equal(JSON.parse(res.body), { message: 'The security token included in the request is expired' });

  const fresh = cloud.ctx.temporaryCredentials.issue(3600_000);
  const client = kvsClient(cloud, { credentials: sdkCredentials(fresh) });
  await client.send(new ListStreamsCommand({}));
  cloud.ctx.faults.expireTokensBefore = cloud.ctx.now() + 1;
  try {
    await sdkError(client.send(new ListStreamsCommand({})), 'ExpiredTokenException', 403, /expired/);
    await new Promise((r) => setTimeout(r, 5)); // credentials issued after the cutoff are unaffected
    const reissued = cloud.ctx.temporaryCredentials.issue(3600_000);
    await kvsClient(cloud, { credentials: sdkCredentials(reissued) }).send(new ListStreamsCommand({}));
  } finally {
    delete cloud.ctx.faults.expireTokensBefore;
  }
});

test('missing or malformed Authorization → 403 MissingAuthenticationToken / IncompleteSignature', async () => {
  const none = await rawRequest(cloud, 'POST', '/listStreams', { 'content-type': 'application/json' }, '{}');
  assert.is(none.status, 403);
  assert.is(none.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException:');
  const basic = await rawRequest(cloud, 'POST', '/listStreams', { authorization: 'Basic Zm9vOmJhcg==' }, '{}');
  assert.is(basic.status, 403);
  assert.is(basic.headers['x-amzn-errortype'], 'IncompleteSignatureException:');
  const partial = await rawRequest(
    cloud,
    'POST',
    '/listStreams',
    { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/kinesisvideo/aws4_request' },
    '{}',
  );
  assert.is(partial.headers['x-amzn-errortype'], 'IncompleteSignatureException:');
  assert.ok(/requires 'SignedHeaders' parameter.*requires 'Signature' parameter/.test(JSON.parse(partial.body).message));
  const otherService = await signedPost(cloud, '/listStreams', '{}', { service: 'kinesis' });
  assert.is(otherService.status, 403);
  assert.ok(/scoped to correct service: 'kinesisvideo'/.test(JSON.parse(otherService.body).message));
});

test('registered temporary credentials survive a restart of the cloud', async () => {
  const temporary = cloud.ctx.temporaryCredentials.issue(3600_000);
  await cloud.close();
  cloud = await startTestCloud(state.dir, { config: { enforceTps: false } });
  assert.equal(cloud.ctx.temporaryCredentials.get(temporary.accessKeyId), temporary);
  await kvsClient(cloud, { credentials: sdkCredentials(temporary) }).send(new DescribeStreamCommand({ StreamName: 'cam' }));
});

test.run();
