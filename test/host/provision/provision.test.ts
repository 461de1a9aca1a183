// `fieldcam provision` against the local cloud, as a child process: every resource it creates (checked with
// the unmodified SDK clients), the bundle on disk, a real credentials call with it, idempotence, repairs,
// --dry-run, a lost key, and a 25-device fleet.
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeRoleAliasCommand, DescribeThingCommand, ListThingPrincipalsCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { DescribeStreamCommand, DeleteStreamCommand } from '@aws-sdk/client-kinesis-video';
import { createHash, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import type { RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, clients, credentialsCall, startLocalCloud, tempDir, type ProvisionJson } from './provisionKit.ts';

const test = suite('fieldcam provision (local cloud)');
const state = tempDir('fieldcam-provision-state-');
const work = tempDir('fieldcam-provision-');
let cloud: RunningCloud = await startLocalCloud(state.dir);
const url = () => ['--endpoint-url', cloud.endpoint];

test.after(async () => {
  await cloud.close();
  state.remove();
  work.remove();
});

/** A restart on the same endpoints, so the bundles' endpoints stay right. */
function restartPorts(): { port: number; credentialsPort: number; iotDataEndpoint: string } {
  return {
    port: Number(new URL(cloud.endpoint).port),
    credentialsPort: Number(new URL(cloud.credentialsEndpoint).port),
    iotDataEndpoint: cloud.ctx.iotEndpoints['iot:Data-ATS']!,
  };
}

async function provision(args: string[]): Promise<ProvisionJson> {
  const r = await cli(cloud, work.dir, ['provision', ...args, ...url(), '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ProvisionJson;
}

test('usage errors exit 2; --help exits 0', async () => {
  assert.equal((await cli(cloud, work.dir, ['provision', '--help'])).status, 0);
  const none = await cli(cloud, work.dir, ['provision']);
  assert.equal(none.status, 2);
  assert.ok(/error CLI_USAGE: provision: --thing <name>/.test(none.stderr), none.stderr);
  assert.equal((await cli(cloud, work.dir, ['provision', '--thing', 'a', '--count', '2'])).status, 2);
  assert.equal((await cli(cloud, work.dir, ['provision', '--thing', 'bad name'])).status, 2);
});

test('no CA for the bundle: refused before anything is created', async () => {
  const r = await cli(cloud, work.dir, ['provision', '--thing', 'no-ca', ...url()], { AWS_CA_BUNDLE: '' });
  assert.equal(r.status, 1);
  assert.ok(/error PROVISION_NO_CA: .*--ca-file/.test(r.stderr), r.stderr);
});

test('--dry-run on an empty account plans every step and changes nothing', async () => {
  const plan = await provision(['--thing', 'cam-1', '--retention-hours', '6', '--dry-run']);
  assert.equal(plan.dryRun, true);
  assert.ok(
    plan.things[0]!.steps.every((s) => s.action === 'would create'),
    JSON.stringify(plan.things[0]!.steps),
  );
  assert.equal(plan.totals.created, 10);
  const c = clients(cloud);
  assert.equal((await c.iot.send(new ListThingsCommand({}))).things?.length ?? 0, 0);
  c.destroy();
  assert.throws(() => statSync(join(work.dir, 'cam-1')));
});

test('provision creates every resource and a bundle a device can use', async () => {
  const first = await provision(['--thing', 'cam-1', '--retention-hours', '6']);
  assert.equal(first.totals.created, 10);
  assert.equal(first.totals.repaired, 0);
  const c = clients(cloud);
  const thing = await c.iot.send(new DescribeThingCommand({ thingName: 'cam-1' }));
  assert.equal(thing.thingTypeName, 'fieldcam-camera');
  const principals = (await c.iot.send(new ListThingPrincipalsCommand({ thingName: 'cam-1' }))).principals ?? [];
  assert.equal(principals.length, 1);
  const policy = await c.iam.send(new GetRolePolicyCommand({ RoleName: 'fieldcam-camera-role', PolicyName: 'fieldcam-kvs' }));
  assert.ok(/stream\/\$\{credentials-iot:ThingName\}\/\*/.test(decodeURIComponent(policy.PolicyDocument!)), decodeURIComponent(policy.PolicyDocument!));
  const alias = await c.iot.send(new DescribeRoleAliasCommand({ roleAlias: 'fieldcam-camera-role-alias' }));
  assert.equal(alias.roleAliasDescription?.credentialDurationSeconds, 3600);
  const stream = await c.kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }));
  assert.equal(stream.StreamInfo?.DataRetentionInHours, 6);
  c.destroy();

  const dir = join(work.dir, 'cam-1');
  const mode = (f: string) => statSync(join(dir, f)).mode & 0o777;
  assert.equal(mode('private.key'), 0o600);
  assert.equal(mode('device.cbor'), 0o600);
  assert.equal(mode('certificate.pem'), 0o644);
  assert.equal(mode('ca.pem'), 0o644);
  assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), cloud.caPem);
  const config = decodeCbor(readFileSync(join(dir, 'device.cbor')));
  assert.equal(config, {
    version: 1,
    thingName: 'cam-1',
    streamName: 'cam-1',
    region: 'us-east-1',
    roleAlias: 'fieldcam-camera-role-alias',
    endpoints: { credentialProvider: new URL(cloud.credentialsEndpoint).host, iotData: cloud.ctx.iotEndpoints['iot:Data-ATS'], kinesisVideo: cloud.endpoint },
    retentionHours: 6,
  });
  const certPem = readFileSync(join(dir, 'certificate.pem'), 'utf8');
  const cert = new X509Certificate(certPem);
  const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
  assert.ok(spki(cert.publicKey).equals(spki(createPublicKey(readFileSync(join(dir, 'private.key'))))));
  const id = createHash('sha256').update(cert.raw).digest('hex');
  assert.equal(first.things[0]!.certificateId, id);
  assert.ok(principals[0]!.endsWith(`/${id}`));

  const answer = await credentialsCall(dir, 'cam-1');
  assert.equal(answer.status, 200, answer.body);
  assert.ok(/"accessKeyId":"ASIA/.test(answer.body), answer.body);
});

test('a second run creates nothing and rewrites nothing', async () => {
  const dir = join(work.dir, 'cam-1');
  const before = statSync(join(dir, 'device.cbor')).mtimeMs;
  const again = await provision(['--thing', 'cam-1', '--retention-hours', '6']);
  assert.equal(again.totals, { things: 1, created: 0, repaired: 0, updated: 0 });
  assert.equal(again.things[0]!.bundleFiles, []);
  assert.equal(statSync(join(dir, 'device.cbor')).mtimeMs, before);
  const human = await cli(cloud, work.dir, ['provision', '--thing', 'cam-1', '--retention-hours', '6', ...url()]);
  assert.ok(/1 thing\(s\): 0 created, 0 repaired/.test(human.stdout), human.stdout);
});

test('repairs a deleted role policy, a detached principal, a deleted stream and a loosened key mode', async () => {
  const c = clients(cloud);
  const arn = (await c.kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }))).StreamInfo!.StreamARN!;
  await c.kvs.send(new DeleteStreamCommand({ StreamARN: arn }));
  c.destroy();
  // The emulator has no DeleteRolePolicy / DetachThingPrincipal: edit its state while it is stopped, as
  // those calls would have left it, and restart it on the same ports.
  const ports = restartPorts();
  await cloud.close();
  const iamFile = join(state.dir, 'iam.json');
  const iam = JSON.parse(readFileSync(iamFile, 'utf8')) as { roles: { Policies: Record<string, string> }[] };
  for (const role of iam.roles) role.Policies = {};
  writeFileSync(iamFile, JSON.stringify(iam));
  const iotFile = join(state.dir, 'iot.json');
  const iot = JSON.parse(readFileSync(iotFile, 'utf8')) as { thingPrincipals: Record<string, string[]> };
  iot.thingPrincipals['cam-1'] = [];
  writeFileSync(iotFile, JSON.stringify(iot));
  cloud = await startLocalCloud(state.dir, ports);
  (await import('node:fs')).chmodSync(join(work.dir, 'cam-1', 'private.key'), 0o644);

  const plan = await provision(['--thing', 'cam-1', '--retention-hours', '6', '--dry-run']);
  assert.equal(plan.totals, { things: 1, created: 0, repaired: 3, updated: 0 });
  const repaired = await provision(['--thing', 'cam-1', '--retention-hours', '6']);
  assert.equal(repaired.totals, { things: 1, created: 0, repaired: 3, updated: 0 });
  const actions = [...repaired.shared, ...repaired.things[0]!.steps].filter((s) => s.action === 'repaired').map((s) => s.resource);
  assert.equal(actions.sort(), ['KVS stream', 'role policy', 'thing principal']);
  assert.equal(repaired.things[0]!.bundleFiles, ['private.key']);
  assert.equal(statSync(join(work.dir, 'cam-1', 'private.key')).mode & 0o777, 0o600);
  assert.equal((await credentialsCall(join(work.dir, 'cam-1'), 'cam-1')).status, 200);
  assert.equal((await provision(['--thing', 'cam-1', '--retention-hours', '6'])).totals.repaired, 0);
});

test('a lost key: a new certificate, the old one named and left ACTIVE', async () => {
  const dir = join(work.dir, 'cam-1');
  const oldId = createHash('sha256')
    .update(new X509Certificate(readFileSync(join(dir, 'certificate.pem'))).raw)
    .digest('hex');
  rmSync(join(dir, 'private.key'));
  const r = await cli(cloud, work.dir, ['provision', '--thing', 'cam-1', '--retention-hours', '6', ...url()]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(/certificate .* created \(the thing's ACTIVE certificate [0-9a-f]{12} has no key/.test(r.stdout), r.stdout);
  assert.ok(new RegExp(`warning: cam-1 keeps ACTIVE certificate ${oldId}`).test(r.stdout), r.stdout);
  const c = clients(cloud);
  assert.equal(((await c.iot.send(new ListThingPrincipalsCommand({ thingName: 'cam-1' }))).principals ?? []).length, 2);
  c.destroy();
  assert.equal((await credentialsCall(dir, 'cam-1')).status, 200);
});

test('--csr: a certificate for the CSR key (CreateCertificateFromCsr), no private.key; a second run creates nothing', async () => {
  const x509 = await import('@peculiar/x509');
  await import('reflect-metadata');
  x509.cryptoProvider.set(webcrypto as never);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=csr-cam-1', keys, signingAlgorithm: alg });
  const csrFile = join(work.dir, 'csr-cam-1.csr');
  writeFileSync(csrFile, csr.toString('pem'));
  const devicePublicKey = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const dir = join(work.dir, 'csr-cam-1');

  const refused = await cli(cloud, work.dir, ['provision', '--count', '2', '--prefix', 'csr-', '--csr', csrFile, ...url()]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.ok(/error CLI_USAGE: provision: --csr is for one thing/.test(refused.stderr), refused.stderr);

  const first = await provision(['--thing', 'csr-cam-1', '--csr', csrFile]);
  const certStep = first.things[0]!.steps.find((s) => s.resource === 'certificate')!;
  assert.equal(certStep.action, 'created', JSON.stringify(certStep));
  assert.equal(first.things[0]!.bundleFiles, ['ca.pem', 'certificate.pem', 'device.cbor']);
  assert.ok(!existsSync(join(dir, 'private.key')), 'provision wrote no private.key');
  const cert = new X509Certificate(readFileSync(join(dir, 'certificate.pem')));
  assert.ok(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(devicePublicKey), 'the certificate certifies the CSR key');
  assert.ok(cert.verify(new X509Certificate(cloud.caPem).publicKey));
  const id = createHash('sha256').update(cert.raw).digest('hex');
  assert.equal(first.things[0]!.certificateId, id);
  const c = clients(cloud);
  const principals = async () => (await c.iot.send(new ListThingPrincipalsCommand({ thingName: 'csr-cam-1' }))).principals ?? [];
  assert.equal((await principals()).length, 1);
  assert.ok((await principals())[0]!.endsWith(`/${id}`));

  // The key holder places the key: the device gets credentials with it.
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
    .toString('base64')
    .replace(/.{64}/g, '$&\n');
  writeFileSync(join(dir, 'private.key'), `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
  assert.equal((await credentialsCall(dir, 'csr-cam-1')).status, 200);
  rmSync(join(dir, 'private.key'));

  const again = await provision(['--thing', 'csr-cam-1', '--csr', csrFile]);
  assert.equal(again.totals, { things: 1, created: 0, repaired: 0, updated: 0 });
  assert.equal(again.things[0]!.certificateId, id);
  assert.equal(again.things[0]!.bundleFiles, []);
  // A lost bundle: the ACTIVE certificate attached to the thing with the CSR's public key is found and reused.
  rmSync(join(dir, 'certificate.pem'));
  const found = await provision(['--thing', 'csr-cam-1', '--csr', csrFile]);
  assert.equal(found.totals, { things: 1, created: 0, repaired: 0, updated: 0 });
  assert.equal(found.things[0]!.certificateId, id);
  assert.equal(found.things[0]!.bundleFiles, ['certificate.pem']);
  assert.ok(!existsSync(join(dir, 'private.key')));
  assert.equal((await principals()).length, 1, 'no second certificate');
  c.destroy();
});

test('a 25-device fleet in one command; a second run changes nothing', async () => {
  const r = await cli(cloud, work.dir, ['provision', '--count', '25', '--prefix', 'cam-', '--out', 'fleet', ...url()]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(/\[25\/25\] cam-\d{3}: 6 created, 0 repaired/.test(r.stderr), r.stderr);
  assert.ok(/^cam-025\s+6\s+0\s+0\s+[0-9a-f]{12}\s+wrote 4 file\(s\)$/m.test(r.stdout), r.stdout);
  assert.ok(/25 thing\(s\): 150 created, 0 repaired/.test(r.stdout), r.stdout);
  const again = await provision(['--count', '25', '--prefix', 'cam-', '--out', 'fleet']);
  assert.equal(again.totals, { things: 25, created: 0, repaired: 0, updated: 0 });
  assert.ok(again.things.every((t) => t.bundleFiles.length === 0));
  assert.equal((await credentialsCall(join(work.dir, 'fleet', 'cam-017'), 'cam-017')).status, 200);
});

test.run();
