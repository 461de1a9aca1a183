// The AWS IoT control plane of the local cloud, driven by the unmodified @aws-sdk/client-iot with an endpoint
// override: every operation, idempotent re-creates, the errors AWS models (as the SDK raises them), real
// X.509 certificates from the local CA, and persistence across a restart.
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreatePolicyCommand,
  CreateRoleAliasCommand,
  CreateThingCommand,
  CreateThingTypeCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeRoleAliasCommand,
  DescribeThingCommand,
  GetPolicyCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { createHash, createPrivateKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import { assert, suite } from '../../../harness/index.ts';
import { sdkError, signedPost, startTestCloud, tempStateDir } from '../support.ts';
import { createCertificate, iotClient } from './iotKit.ts';

const test = suite('sim/cloud IoT control plane (AWS SDK v3)');
const state = tempStateDir();
let cloud = await startTestCloud(state.dir);
let iot = iotClient(cloud);
const ARN = 'arn:aws:iot:us-east-1:123456789012';

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('CreateThingType and CreateThing: ARNs and ids; the same call again returns the same ids', async () => {
  const type = await iot.send(
    new CreateThingTypeCommand({ thingTypeName: 'camera', thingTypeProperties: { thingTypeDescription: 'Pi camera', searchableAttributes: ['site'] } }),
  );
  assert.is(type.thingTypeArn, `${ARN}:thingtype/camera`);
  assert.ok(/^[0-9a-f-]{36}$/.test(type.thingTypeId!), type.thingTypeId);
  const again = await iot.send(
    new CreateThingTypeCommand({ thingTypeName: 'camera', thingTypeProperties: { thingTypeDescription: 'Pi camera', searchableAttributes: ['site'] } }),
  );
  assert.is(again.thingTypeId, type.thingTypeId);

  const thing = await iot.send(new CreateThingCommand({ thingName: 'cam-1', thingTypeName: 'camera', attributePayload: { attributes: { site: 'barn' } } }));
  assert.is(thing.thingArn, `${ARN}:thing/cam-1`);
  assert.is(thing.thingName, 'cam-1');
  const repeat = await iot.send(new CreateThingCommand({ thingName: 'cam-1', thingTypeName: 'camera', attributePayload: { attributes: { site: 'barn' } } }));
  assert.is(repeat.thingId, thing.thingId, 'same name and configuration → same thing');
});

test('same name, different configuration → 409 ResourceAlreadyExistsException with resourceId and resourceArn', async () => {
  const err = await sdkError(
    iot.send(new CreateThingCommand({ thingName: 'cam-1' })),
    'ResourceAlreadyExistsException',
    409,
    /^Thing cam-1 already exists in account with different attributes$/,
  );
  const detail = err as unknown as { resourceId?: string; resourceArn?: string };
  assert.is(detail.resourceArn, `${ARN}:thing/cam-1`);
  assert.ok(/^[0-9a-f-]{36}$/.test(detail.resourceId ?? ''), 'resourceId is the thing id');
  await sdkError(
    iot.send(new CreateThingTypeCommand({ thingTypeName: 'camera', thingTypeProperties: { thingTypeDescription: 'other' } })),
    'ResourceAlreadyExistsException',
    409,
  );
});

test('DescribeThing, ListThings (filters, pages), not-found and validation errors', async () => {
  const d = await iot.send(new DescribeThingCommand({ thingName: 'cam-1' }));
  assert.is(d.thingTypeName, 'camera');
  assert.equal(d.attributes, { site: 'barn' });
  assert.is(d.version, 1);
  assert.is(d.defaultClientId, 'cam-1');
  for (const name of ['cam-2', 'cam-3']) await iot.send(new CreateThingCommand({ thingName: name }));
  const all = await iot.send(new ListThingsCommand({}));
  assert.equal(
    all.things!.map((t) => t.thingName),
    ['cam-1', 'cam-2', 'cam-3'],
  );
  const typed = await iot.send(new ListThingsCommand({ thingTypeName: 'camera' }));
  assert.equal(
    typed.things!.map((t) => t.thingName),
    ['cam-1'],
  );
  const byAttr = await iot.send(new ListThingsCommand({ attributeName: 'site', attributeValue: 'ba', usePrefixAttributeValue: true }));
  assert.equal(
    byAttr.things!.map((t) => t.thingName),
    ['cam-1'],
  );
  const first = await iot.send(new ListThingsCommand({ maxResults: 2 }));
  assert.equal(
    first.things!.map((t) => t.thingName),
    ['cam-1', 'cam-2'],
  );
  const second = await iot.send(new ListThingsCommand({ maxResults: 2, nextToken: first.nextToken }));
  assert.equal(
    second.things!.map((t) => t.thingName),
    ['cam-3'],
  );
  assert.is(second.nextToken, undefined);

  await sdkError(iot.send(new DescribeThingCommand({ thingName: 'nope' })), 'ResourceNotFoundException', 404, /nope/);
  await sdkError(
    iot.send(new CreateThingCommand({ thingName: 'bad name' })),
    'InvalidRequestException',
    400,
    /^1 validation error detected: Value 'bad name' at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9:_-\]\+$/,
  );
  await sdkError(iot.send(new CreateThingCommand({ thingName: 'x', thingTypeName: 'no-such-type' })), 'ResourceNotFoundException', 404);
  await sdkError(
    iot.send(new CreateThingCommand({ thingName: 'y', attributePayload: { attributes: { a: '1', b: '2', c: '3', d: '4' } } })),
    'InvalidRequestException',
    400,
    /at most 3 attributes/,
  );
});

test('CreateKeysAndCertificate: a real RSA 2048 X.509 client certificate from the local CA; id = SHA-256 of the DER', async () => {
  const cert = await createCertificate(iot, false);
  const x509 = new X509Certificate(cert.certificatePem);
  assert.ok(x509.verify(new X509Certificate(cloud.caPem).publicKey), 'signed by the cloud CA');
  assert.is(cert.certificateId, createHash('sha256').update(x509.raw).digest('hex'));
  assert.is(cert.certificateArn, `${ARN}:cert/${cert.certificateId}`);
  assert.ok(x509.checkPrivateKey(createPrivateKey(cert.privateKeyPem)), 'the key pair matches');
  assert.ok(cert.privateKeyPem.startsWith('-----BEGIN RSA PRIVATE KEY-----'), 'PKCS#1 private key, as AWS returns it');
  assert.is(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.is(x509.subject, 'CN=AWS IoT Certificate');
  assert.ok(/TLS Web Client Authentication|1\.3\.6\.1\.5\.5\.7\.3\.2/.test(x509.keyUsage?.join(',') ?? ''), `EKU clientAuth: ${String(x509.keyUsage)}`);

  const { certificateDescription: d } = await iot.send(new DescribeCertificateCommand({ certificateId: cert.certificateId }));
  assert.is(d!.status, 'INACTIVE', 'not active unless setAsActive');
  assert.is(d!.certificatePem, cert.certificatePem);
  assert.is(d!.ownedBy, '123456789012');
  assert.ok(d!.creationDate instanceof Date);
  assert.is(d!.validity!.notAfter!.toISOString(), '2049-12-31T23:59:59.000Z');
  assert.ok(!JSON.stringify(cloud.ctx.iot.list('certificates')).includes('PRIVATE KEY'), 'the private key is never stored');
});

test('UpdateCertificate: ACTIVE ↔ INACTIVE (idempotent); REVOKED stays revoked (406); internal statuses refused', async () => {
  const cert = await createCertificate(iot, false);
  const status = async (): Promise<string | undefined> =>
    (await iot.send(new DescribeCertificateCommand({ certificateId: cert.certificateId }))).certificateDescription!.status;
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'ACTIVE' }));
  assert.is(await status(), 'ACTIVE');
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'ACTIVE' }));
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'INACTIVE' }));
  assert.is(await status(), 'INACTIVE');
  await sdkError(iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'PENDING_TRANSFER' })), 'InvalidRequestException', 400);
  await iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'REVOKED' }));
  await sdkError(iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'ACTIVE' })), 'CertificateStateException', 406);
  assert.is(await status(), 'REVOKED');
  await sdkError(iot.send(new UpdateCertificateCommand({ certificateId: 'ab'.repeat(32), newStatus: 'ACTIVE' })), 'ResourceNotFoundException', 404);
  await sdkError(iot.send(new DescribeCertificateCommand({ certificateId: 'short' })), 'InvalidRequestException', 400, /certificateId/);
  await sdkError(
    iot.send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'GONE' as 'ACTIVE' })),
    'InvalidRequestException',
    400,
    /enum value set/,
  );
});

test('CreateCertificateFromCsr: certifies the CSR key and subject; a tampered or weak CSR is InvalidRequestException', async () => {
  const x509 = await import('@peculiar/x509');
  await import('reflect-metadata');
  x509.cryptoProvider.set(webcrypto as never);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=cam-csr', keys, signingAlgorithm: alg });
  const out = await iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.toString('pem'), setAsActive: true }));
  const cert = new X509Certificate(out.certificatePem!);
  assert.is(cert.subject, 'CN=cam-csr');
  assert.is(cert.publicKey.asymmetricKeyType, 'ec');
  assert.ok(cert.verify(new X509Certificate(cloud.caPem).publicKey));
  assert.is(out.certificateId, createHash('sha256').update(cert.raw).digest('hex'));
  const d = await iot.send(new DescribeCertificateCommand({ certificateId: out.certificateId }));
  assert.is(d.certificateDescription!.status, 'ACTIVE');

  await sdkError(iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'not a csr' })), 'InvalidRequestException', 400);
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const weakKeys = {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      weak.privateKey.export({ type: 'pkcs8', format: 'der' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      weak.publicKey.export({ type: 'spki', format: 'der' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['verify'],
    ),
  };
  const weakCsr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=weak',
    keys: weakKeys,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  });
  await sdkError(
    iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: weakCsr.toString('pem') })),
    'InvalidRequestException',
    400,
    /too weak/,
  );
});

test('CreatePolicy / GetPolicy / AttachPolicy: version 1, existing name → 409, malformed → MalformedPolicyException, idempotent attach', async () => {
  const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] });
  const created = await iot.send(new CreatePolicyCommand({ policyName: 'connect', policyDocument: doc }));
  assert.is(created.policyArn, `${ARN}:policy/connect`);
  assert.is(created.policyVersionId, '1');
  const got = await iot.send(new GetPolicyCommand({ policyName: 'connect' }));
  assert.is(got.policyDocument, doc);
  assert.is(got.defaultVersionId, '1');
  assert.ok(got.creationDate instanceof Date);
  const exists = await sdkError(
    iot.send(new CreatePolicyCommand({ policyName: 'connect', policyDocument: doc })),
    'ResourceAlreadyExistsException',
    409,
    /name already exists/,
  );
  assert.is((exists as unknown as { resourceArn?: string }).resourceArn, created.policyArn);
  await sdkError(iot.send(new CreatePolicyCommand({ policyName: 'bad', policyDocument: '{not json' })), 'MalformedPolicyException', 400, /invalid Json/);
  await sdkError(
    iot.send(new CreatePolicyCommand({ policyName: 'bad', policyDocument: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'iot:*' }] }) })),
    'MalformedPolicyException',
    400,
    /resources/,
  );
  await sdkError(iot.send(new GetPolicyCommand({ policyName: 'nope' })), 'ResourceNotFoundException', 404);

  const cert = await createCertificate(iot);
  await iot.send(new AttachPolicyCommand({ policyName: 'connect', target: cert.certificateArn }));
  await iot.send(new AttachPolicyCommand({ policyName: 'connect', target: cert.certificateArn }));
  assert.equal(
    cloud.ctx.iot.policiesOf(cert.certificateArn).map((p) => p.policyName),
    ['connect'],
  );
  await sdkError(iot.send(new AttachPolicyCommand({ policyName: 'nope', target: cert.certificateArn })), 'ResourceNotFoundException', 404);
  await sdkError(iot.send(new AttachPolicyCommand({ policyName: 'connect', target: `${ARN}:cert/${'0'.repeat(64)}` })), 'ResourceNotFoundException', 404);
});

test('AttachThingPrincipal / ListThingPrincipals: idempotent; unknown thing or principal → 404', async () => {
  const cert = await createCertificate(iot);
  await iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-2', principal: cert.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-2', principal: cert.certificateArn }));
  const listed = await iot.send(new ListThingPrincipalsCommand({ thingName: 'cam-2' }));
  assert.equal(listed.principals, [cert.certificateArn]);
  assert.equal((await iot.send(new ListThingPrincipalsCommand({ thingName: 'cam-3' }))).principals, []);
  await sdkError(iot.send(new AttachThingPrincipalCommand({ thingName: 'nope', principal: cert.certificateArn })), 'ResourceNotFoundException', 404);
  await sdkError(
    iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-2', principal: `${ARN}:cert/${'1'.repeat(64)}` })),
    'ResourceNotFoundException',
    404,
  );
  await sdkError(iot.send(new ListThingPrincipalsCommand({ thingName: 'nope' })), 'ResourceNotFoundException', 404);
});

test('CreateRoleAlias / DescribeRoleAlias: default 3600 s, range 900-43200, existing alias → 409', async () => {
  const roleArn = 'arn:aws:iam::123456789012:role/KvsRole';
  const created = await iot.send(new CreateRoleAliasCommand({ roleAlias: 'KvsAlias', roleArn }));
  assert.is(created.roleAliasArn, `${ARN}:rolealias/KvsAlias`);
  const { roleAliasDescription: d } = await iot.send(new DescribeRoleAliasCommand({ roleAlias: 'KvsAlias' }));
  assert.is(d!.credentialDurationSeconds, 3600);
  assert.is(d!.roleArn, roleArn);
  assert.is(d!.owner, '123456789012');
  assert.ok(d!.creationDate instanceof Date);
  await sdkError(iot.send(new CreateRoleAliasCommand({ roleAlias: 'KvsAlias', roleArn })), 'ResourceAlreadyExistsException', 409);
  await sdkError(
    iot.send(new CreateRoleAliasCommand({ roleAlias: 'Short', roleArn, credentialDurationSeconds: 600 })),
    'InvalidRequestException',
    400,
    /greater than or equal to 900/,
  );
  await sdkError(
    iot.send(new CreateRoleAliasCommand({ roleAlias: 'NotARole', roleArn: 'arn:aws:s3:::some-bucket-name' })),
    'InvalidRequestException',
    400,
    /role ARN/,
  );
  await sdkError(iot.send(new DescribeRoleAliasCommand({ roleAlias: 'nope' })), 'ResourceNotFoundException', 404);
});

test('DescribeEndpoint: iot:CredentialProvider and iot:Data-ATS are 127.0.0.1:<port> of this cloud; unknown types refused', async () => {
  const credentials = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:CredentialProvider' }));
  assert.is(`https://${credentials.endpointAddress}`, cloud.credentialsEndpoint);
  const data = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
  assert.is(data.endpointAddress, cloud.mqtt.endpoint); // the MQTT broker (sim/cloud/mqtt)
  const legacy = await iot.send(new DescribeEndpointCommand({}));
  assert.is(legacy.endpointAddress, data.endpointAddress);
  await sdkError(iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' })), 'InvalidRequestException', 400);
});

test('a request signed for another service is refused in the IoT error shape; state survives a restart', async () => {
  const wrong = await signedPost(cloud, '/things/cam-9', '{}', { service: 'kinesisvideo' });
  assert.is(wrong.status, 403);
  assert.is(wrong.headers['x-amzn-errortype'], 'InvalidSignatureException:');
  assert.equal(JSON.parse(wrong.body), { message: "Credential should be scoped to correct service: 'iot'. " });
  const signed = await signedPost(cloud, '/things/cam-9', '{}', { service: 'iot' });
  assert.is(signed.status, 200, signed.body);

  const before = (await iot.send(new DescribeThingCommand({ thingName: 'cam-1' }))).thingId;
  await cloud.close();
  cloud = await startTestCloud(state.dir);
  iot = iotClient(cloud);
  assert.is((await iot.send(new DescribeThingCommand({ thingName: 'cam-1' }))).thingId, before);
  assert.is((await iot.send(new DescribeRoleAliasCommand({ roleAlias: 'KvsAlias' }))).roleAliasDescription!.credentialDurationSeconds, 3600);
  assert.is((await iot.send(new GetPolicyCommand({ policyName: 'connect' }))).defaultVersionId, '1');
  assert.equal((await iot.send(new ListThingPrincipalsCommand({ thingName: 'cam-2' }))).principals!.length, 1);
});

test.run();
