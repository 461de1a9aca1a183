// The IoT credentials provider of the local cloud over real mTLS (node:https, as a device or curl uses it):
// every refusal AWS gives, in AWS's order and words; the fault knob; then KVS requests signed with the
// issued temporary credentials through the unmodified @aws-sdk/client-kinesis-video — allowed on the thing's
// stream by the role policy's ${credentials-iot:ThingName}, refused elsewhere — and their expiry.
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateRoleAliasCommand,
  CreateThingCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamCommand, GetDataEndpointCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis-video';
import { SignatureV4 } from '@smithy/signature-v4';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { mediaRoutes } from '../../../../sim/cloud/kvs/media/index.ts';
import { assert, suite } from '../../../harness/index.ts';
import { kvsClient, sdkError, startTestCloud, tempStateDir } from '../support.ts';
import {
  createCertificate,
  fetchCredentials,
  iamClient,
  iotClient,
  KVS_POLICY,
  provisionRole,
  provisionThing,
  sdkCredentials,
  type DeviceCertificate,
} from './iotKit.ts';

const test = suite('sim/cloud IoT credentials provider (mTLS) and KVS authorization');
const state = tempStateDir();
// The media routes too: PutMedia is authorized against the role like the control plane.
const withMedia = { routes: [...mediaRoutes] };
let cloud = await startTestCloud(state.dir, withMedia);
const iot = iotClient(cloud);
const ACCOUNT = '123456789012';
const DURATION_S = 900;
const { roleArn } = await provisionRole(cloud, { role: 'KVSCameraRole', alias: 'KvsAlias', policy: 'KvsAssume', durationSeconds: DURATION_S });
const cam1 = await provisionThing(cloud, 'cam-1', 'KvsAssume');
await provisionThing(cloud, 'cam-2', 'KvsAssume');
await kvsClient(cloud).send(new CreateStreamCommand({ StreamName: 'cam-2', DataRetentionInHours: 1 }));

test.after(async () => {
  await cloud.close();
  state.remove();
});

/** A certificate attached to cam-1 whose policy allows AssumeRoleWithCertificate on every alias. */
async function wildcardCertificate(): Promise<DeviceCertificate> {
  const cert = await createCertificate(iot);
  await iot.send(
    new CreatePolicyCommand({
      policyName: 'AnyAlias',
      policyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iot:AssumeRoleWithCertificate', Resource: `arn:aws:iot:us-east-1:${ACCOUNT}:rolealias/*` }],
      }),
    }),
  );
  await iot.send(new AttachPolicyCommand({ policyName: 'AnyAlias', target: cert.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-1', principal: cert.certificateArn }));
  return cert;
}

function refusal(answer: { status: number; errorType: string | undefined; json: Record<string, unknown> }, status: number, message: string): void {
  assert.is(answer.status, status, `status (${JSON.stringify(answer.json)})`);
  assert.equal(answer.json, { message });
}

test('the right certificate and thing → 200 with temporary credentials for the alias duration (kvs-reference.md §9.2)', async () => {
  const before = Date.now();
  const answer = await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' });
  assert.is(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(Object.keys(answer.json), ['credentials']);
  const c = answer.json.credentials as Record<string, string>;
  assert.equal(Object.keys(c), ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration']);
  assert.ok(/^ASIA[A-Z0-9]{16}$/.test(c.accessKeyId!), c.accessKeyId);
  assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(c.expiration!), c.expiration);
  const expires = Date.parse(c.expiration!);
  assert.ok(expires > before + DURATION_S * 1000 - 2000 && expires <= Date.now() + DURATION_S * 1000, `expiration ${c.expiration}`);
  const held = cloud.ctx.temporaryCredentials.get(c.accessKeyId!);
  assert.ok(held, 'registered with the cloud');
  assert.is(held.session!.roleArn, roleArn);
  assert.is(held.session!.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/KVSCameraRole/${cam1.certificateId}`);
  assert.equal(held.session!.variables, { 'credentials-iot:AwsCertificateId': cam1.certificateId, 'credentials-iot:ThingName': 'cam-1' });
});

test('a certificate not attached to the named thing, or an unknown thing → 403 "Invalid thing name passed"', async () => {
  refusal(await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-2', roleAlias: 'KvsAlias' }), 403, 'Invalid thing name passed');
  refusal(await fetchCredentials(cloud, { cert: cam1, thingName: 'no-such-thing', roleAlias: 'KvsAlias' }), 403, 'Invalid thing name passed');
});

test('no IoT policy allowing iot:AssumeRoleWithCertificate on the alias → 403 "Access Denied"; so is another alias', async () => {
  const bare = await createCertificate(iot);
  await iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-1', principal: bare.certificateArn }));
  const answer = await fetchCredentials(cloud, { cert: bare, thingName: 'cam-1', roleAlias: 'KvsAlias' });
  refusal(answer, 403, 'Access Denied');
  assert.is(answer.errorType, 'AccessDeniedException');
  refusal(await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'OtherAlias' }), 403, 'Access Denied');
});

test('revoked or inactive certificates are refused (403); reactivation restores access', async () => {
  const cert = await provisionThing(cloud, 'cam-3', 'KvsAssume');
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-3', roleAlias: 'KvsAlias' })).status, 200);
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'INACTIVE' }));
  refusal(await fetchCredentials(cloud, { cert, thingName: 'cam-3', roleAlias: 'KvsAlias' }), 403, 'Certificate is invalid on this endpoint');
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'ACTIVE' }));
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-3', roleAlias: 'KvsAlias' })).status, 200);
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'REVOKED' }));
  refusal(await fetchCredentials(cloud, { cert, thingName: 'cam-3', roleAlias: 'KvsAlias' }), 403, 'Certificate is invalid on this endpoint');
});

test('missing alias → 404; missing or untrusting role → 400; duration above the role MaxSessionDuration → 400', async () => {
  const cert = await wildcardCertificate();
  refusal(await fetchCredentials(cloud, { cert, thingName: 'cam-1', roleAlias: 'NoSuchAlias' }), 404, 'Role alias does not exist');
  await iot.send(new CreateRoleAliasCommand({ roleAlias: 'GhostAlias', roleArn: `arn:aws:iam::${ACCOUNT}:role/NoSuchRole` }));
  refusal(
    await fetchCredentials(cloud, { cert, thingName: 'cam-1', roleAlias: 'GhostAlias' }),
    400,
    'Unable to assume the role, or the role to assume does not exist',
  );
  await iot.send(new CreateRoleAliasCommand({ roleAlias: 'LongAlias', roleArn, credentialDurationSeconds: 7200 }));
  refusal(
    await fetchCredentials(cloud, { cert, thingName: 'cam-1', roleAlias: 'LongAlias' }),
    400,
    'The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role',
  );
});

test('TLS: no client certificate, or one from another CA, fails the handshake', async () => {
  await assert.rejects(() => fetchCredentials(cloud, { thingName: 'cam-1', roleAlias: 'KvsAlias' }), /certificate|alert|socket hang up|ECONNRESET/i);
  const x509 = await import('@peculiar/x509');
  await import('reflect-metadata');
  x509.cryptoProvider.set(webcrypto as never);
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const stranger = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=stranger',
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.UTC(2020, 0, 1)),
    notAfter: new Date(Date.UTC(2040, 0, 1)),
  });
  const privateKeyPem = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' }).export(
    { type: 'pkcs8', format: 'pem' },
  ) as string;
  await assert.rejects(
    () => fetchCredentials(cloud, { cert: { certificatePem: stranger.toString('pem'), privateKeyPem }, thingName: 'cam-1', roleAlias: 'KvsAlias' }),
    /certificate|alert|socket hang up|ECONNRESET/i,
  );
  assert.ok(
    new X509Certificate(cam1.certificatePem).checkIssued(new X509Certificate(cloud.caPem)),
    'while the provisioned certificate is issued by the cloud CA',
  );
});

test('fault credentialsDown: true → 503 ServiceUnavailableException; "reset" → the connection is dropped; cleared → 200', async () => {
  cloud.ctx.faults.credentialsDown = true;
  const down = await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' });
  assert.is(down.status, 503);
  assert.is(down.errorType, 'ServiceUnavailableException');
  cloud.ctx.faults.credentialsDown = 'reset';
  await assert.rejects(() => fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' }), /ECONNRESET|socket hang up|disconnected/i);
  cloud.ctx.faults.credentialsDown = undefined;
  assert.is((await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' })).status, 200);
});

/** A KVS client signing with the credentials the provider issued for cam-1. */
async function deviceKvs(options: { thingName?: string; systemClockOffset?: number } = {}): Promise<ReturnType<typeof kvsClient>> {
  const answer = await fetchCredentials(cloud, {
    cert: cam1,
    roleAlias: 'KvsAlias',
    ...(options.thingName !== undefined ? { thingName: options.thingName } : {}),
  });
  assert.is(answer.status, 200);
  return kvsClient(cloud, {
    credentials: sdkCredentials(answer),
    ...(options.systemClockOffset !== undefined ? { systemClockOffset: options.systemClockOffset } : {}),
  });
}

const denied = (action: string, resource: string): RegExp =>
  new RegExp(
    `^User: arn:aws:sts::${ACCOUNT}:assumed-role/KVSCameraRole/${cam1.certificateId} is not authorized to perform: kinesisvideo:${action} on resource: ${resource}$`,
  );

test("KVS with the temporary credentials: the thing's own stream works, any other stream is AccessDeniedException (403)", async () => {
  const kvs = await deviceKvs({ thingName: 'cam-1' });
  const created = await kvs.send(new CreateStreamCommand({ StreamName: 'cam-1', DataRetentionInHours: 2 }));
  const described = await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }));
  assert.is(described.StreamInfo!.StreamARN, created.StreamARN);
  assert.is((await kvs.send(new DescribeStreamCommand({ StreamARN: created.StreamARN }))).StreamInfo!.StreamName, 'cam-1');
  assert.is((await kvs.send(new GetDataEndpointCommand({ StreamName: 'cam-1', APIName: 'PUT_MEDIA' }))).DataEndpoint, cloud.endpoint);

  await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'cam-2' })), 'AccessDeniedException', 403, denied('DescribeStream', 'cam-2'));
  await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'cam-10' })), 'AccessDeniedException', 403, denied('DescribeStream', 'cam-10'));
  await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'cam-3' })), 'AccessDeniedException', 403, denied('CreateStream', 'cam-3'));
  await sdkError(kvs.send(new ListStreamsCommand({})), 'AccessDeniedException', 403, denied('ListStreams', '\\*'));
  await sdkError(
    kvs.send(new DeleteStreamCommand({ StreamARN: created.StreamARN })),
    'AccessDeniedException',
    403,
    /not authorized to perform: kinesisvideo:DeleteStream/,
  );
  // The example root keys keep full access.
  assert.is((await kvsClient(cloud).send(new DescribeStreamCommand({ StreamName: 'cam-2' }))).StreamInfo!.StreamName, 'cam-2');
});

/** A raw PutMedia request head signed with `credentials` (session token included); resolves with the status and body. */
async function putMedia(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
  stream: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(cloud.endpoint);
  const signer = new SignatureV4({ service: 'kinesisvideo', region: 'us-east-1', credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/putMedia',
    body: '',
    headers: { host: url.host, 'x-amzn-stream-name': stream, 'x-amzn-fragment-timecode-type': 'ABSOLUTE', 'x-amzn-fragment-acknowledgment-required': '1' },
  });
  return new Promise((done, fail) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/putMedia',
        headers: { ...signed.headers, 'transfer-encoding': 'chunked' },
        ca: cloud.caPem,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

test("PutMedia with the temporary credentials: accepted on the thing's stream, 403 AccessDeniedException on another", async () => {
  const answer = await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' });
  const creds = sdkCredentials(answer);
  const own = await putMedia(creds, 'cam-1');
  assert.is(own.status, 200, own.body);
  const other = await putMedia(creds, 'cam-2');
  assert.is(other.status, 403);
  assert.ok(denied('PutMedia', 'cam-2').test(JSON.parse(other.body).Message), other.body);
});

test('without x-amzn-iot-thingname the session has no ThingName, so ${credentials-iot:ThingName} matches nothing', async () => {
  const kvs = await deviceKvs();
  await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' })), 'AccessDeniedException', 403);
});

test('role policy changes apply to credentials already issued; IoT and IAM calls are held to the role too', async () => {
  const answer = await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' });
  const kvs = kvsClient(cloud, { credentials: sdkCredentials(answer) });
  const narrower = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:GetDataEndpoint', Resource: '*' }] });
  await iamClient(cloud).send(new PutRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs', PolicyDocument: narrower }));
  await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' })), 'AccessDeniedException', 403);
  await iamClient(cloud).send(new PutRolePolicyCommand({ RoleName: 'KVSCameraRole', PolicyName: 'kvs', PolicyDocument: KVS_POLICY }));
  assert.is((await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }))).StreamInfo!.StreamName, 'cam-1');

  await sdkError(
    iotClient(cloud, sdkCredentials(answer)).send(new CreateThingCommand({ thingName: 'rogue' })),
    'AccessDeniedException',
    403,
    /iot:CreateThing on resource: arn:aws:iot:us-east-1:123456789012:thing\/rogue/,
  );
  await sdkError(iamClient(cloud, sdkCredentials(answer)).send(new GetRoleCommand({ RoleName: 'KVSCameraRole' })), 'AccessDenied', 403, /iam:GetRole/);
});

test('expired temporary credentials are refused with ExpiredTokenException; issued ones survive a cloud restart', async () => {
  const skew = (DURATION_S + 60) * 1000;
  const kvs = await deviceKvs({ thingName: 'cam-1', systemClockOffset: skew });
  cloud.ctx.faults.clockSkewMs = skew; // both clocks move past the expiration: only the token is stale
  try {
    await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' })), 'ExpiredTokenException', 403, /expired/);
  } finally {
    cloud.ctx.faults.clockSkewMs = undefined;
  }
  const answer = await fetchCredentials(cloud, { cert: cam1, thingName: 'cam-1', roleAlias: 'KvsAlias' });
  await cloud.close();
  cloud = await startTestCloud(state.dir, withMedia);
  const kvsAfter = kvsClient(cloud, { credentials: sdkCredentials(answer) });
  assert.is((await kvsAfter.send(new DescribeStreamCommand({ StreamName: 'cam-1' }))).StreamInfo!.StreamName, 'cam-1');
  await sdkError(kvsAfter.send(new DescribeStreamCommand({ StreamName: 'cam-2' })), 'AccessDeniedException', 403);
});

test.run();
