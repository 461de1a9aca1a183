// `fieldcam provision` updates what exists and differs (local cloud, the CLI as a child process): resources
// edited out of band with the unmodified SDK clients — the IoT policy (a new default version), the role
// policy, the role alias's duration, the stream's retention — are planned by --dry-run without a change,
// updated by a run, and left alone by the next; the five-version limit of IoT policies; the role's
// MaxSessionDuration raised for a longer --credential-duration; a fleet.
import { GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DescribeRoleAliasCommand,
  GetPolicyCommand,
  ListPolicyVersionsCommand,
  SetDefaultPolicyVersionCommand,
  UpdateRoleAliasCommand,
} from '@aws-sdk/client-iot';
import { DescribeStreamCommand, UpdateDataRetentionCommand } from '@aws-sdk/client-kinesis-video';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { awsCall } from '../../../host/lib/provision/awsCall.ts';
import { iotPolicyDocument, KVS_ROLE_POLICY, sameJson } from '../../../host/lib/provision/provisionNames.ts';
import type { RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, clients, credentialsCall, startLocalCloud, tempDir, type ProvisionJson } from './provisionKit.ts';

const test = suite('fieldcam provision updates what differs (local cloud)');
const state = tempDir('fieldcam-update-state-');
const work = tempDir('fieldcam-update-');
const cloud: RunningCloud = await startLocalCloud(state.dir);
const sdk = clients(cloud);
const THING = 'cam-u';
const POLICY = `fieldcam-${THING}`;
const ALIAS = 'fieldcam-camera-role-alias';
const ROLE = 'fieldcam-camera-role';
const bundle = join(work.dir, THING);

test.after(async () => {
  sdk.destroy();
  await cloud.close();
  state.remove();
  work.remove();
});

type Step = ProvisionJson['shared'][number];

async function provision(args: string[]): Promise<ProvisionJson> {
  const r = await cli(cloud, work.dir, ['provision', ...args, '--endpoint-url', cloud.endpoint, '--json']);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ProvisionJson;
}

function allSteps(run: ProvisionJson): Step[] {
  return [...run.shared, ...run.things.flatMap((t) => t.steps as Step[])];
}

/** resource → "action (detail)" of the steps that change something. */
function changes(run: ProvisionJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of allSteps(run))
    if (!['exists', 'ensured', 'would ensure'].includes(s.action)) out[`${s.resource} ${s.name}`] = `${s.action}${s.detail ? ` (${s.detail})` : ''}`;
  return out;
}

function nothingChanged(run: ProvisionJson): void {
  assert.equal(changes(run), {});
  assert.equal(run.totals, { things: run.things.length, created: 0, repaired: 0, updated: 0 });
}

async function expectedPolicy(thing: string): Promise<object> {
  const alias = (await sdk.iot.send(new DescribeRoleAliasCommand({ roleAlias: ALIAS }))).roleAliasDescription!;
  return iotPolicyDocument(thing, alias.roleAliasArn!, 'us-east-1', cloud.ctx.config.accountId);
}

async function policyVersions(name = POLICY): Promise<string[]> {
  const listed = await sdk.iot.send(new ListPolicyVersionsCommand({ policyName: name }));
  return (listed.policyVersions ?? []).map((v) => `${v.versionId}${v.isDefaultVersion ? '*' : ''}`).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
}

/** DescribeStream as an operator's script would call it right after provision: KVS's 5 calls per second per
 * stream may answer ClientLimitExceededException, which the SDK does not retry; awsCall backs off as provision does. */
async function describeStream(stream: string) {
  return (await awsCall(`DescribeStream ${stream}`, () => sdk.kvs.send(new DescribeStreamCommand({ StreamName: stream })))).StreamInfo!;
}

async function retention(stream: string): Promise<number> {
  return (await describeStream(stream)).DataRetentionInHours!;
}

/** Sets a stream's retention out of band, as an operator would with the SDK. */
async function setRetention(stream: string, hours: number): Promise<void> {
  const info = await describeStream(stream);
  const change = hours - info.DataRetentionInHours!;
  await sdk.kvs.send(
    new UpdateDataRetentionCommand({
      StreamName: stream,
      CurrentVersion: info.Version,
      Operation: change > 0 ? 'INCREASE_DATA_RETENTION' : 'DECREASE_DATA_RETENTION',
      DataRetentionChangeInHours: Math.abs(change),
    }),
  );
}

/** An IoT policy that lets the certificate connect but not fetch credentials. */
function connectOnly(n: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:us-east-1:${cloud.ctx.config.accountId}:client/other-${n}` }],
  });
}

const LOOSE_ROLE_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:*', Resource: '*' }] });

test.before(async () => {
  // setup: a provisioned camera whose credentials work
  const first = await provision(['--thing', THING, '--retention-hours', '6']);
  assert.is(first.totals.created, 10);
  assert.is((await credentialsCall(bundle, THING)).status, 200);
  assert.equal(await policyVersions(), ['1*']);
});

test('edited out of band: --dry-run plans each update with what differs and changes nothing', async () => {
  await sdk.iot.send(new CreatePolicyVersionCommand({ policyName: POLICY, policyDocument: connectOnly(1), setAsDefault: true }));
  await sdk.iot.send(new UpdateRoleAliasCommand({ roleAlias: ALIAS, credentialDurationSeconds: 900 }));
  await sdk.iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'fieldcam-kvs', PolicyDocument: LOOSE_ROLE_POLICY }));
  await setRetention(THING, 24);
  assert.is((await credentialsCall(bundle, THING)).status, 403, 'the edited policy no longer allows AssumeRoleWithCertificate');

  const plan = await provision(['--thing', THING, '--retention-hours', '6', '--credential-duration', '3600', '--dry-run']);
  assert.is(plan.dryRun, true);
  assert.equal(changes(plan), {
    [`IoT policy ${POLICY}`]: 'would update (default version 2: 4 statements missing, 1 statement provision does not write; a new version as the default)',
    'role policy fieldcam-kvs': 'would update (1 statement missing, 1 statement provision does not write)',
    [`role alias ${ALIAS}`]: 'would update (credential duration 900 s → 3600 s)',
    [`KVS stream ${THING}`]: 'would update (retention 24 h → 6 h: media older than 6 h is deleted at once)',
  });
  assert.equal(plan.totals, { things: 1, created: 0, repaired: 0, updated: 4 });

  assert.equal(await policyVersions(), ['1', '2*']);
  assert.is((await sdk.iot.send(new GetPolicyCommand({ policyName: POLICY }))).policyDocument, connectOnly(1));
  assert.is((await sdk.iot.send(new DescribeRoleAliasCommand({ roleAlias: ALIAS }))).roleAliasDescription!.credentialDurationSeconds, 900);
  assert.is(
    decodeURIComponent((await sdk.iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: 'fieldcam-kvs' }))).PolicyDocument!),
    LOOSE_ROLE_POLICY,
  );
  assert.is(await retention(THING), 24);
});

test('a run updates all four, the camera gets credentials again, and the next run changes nothing', async () => {
  const run = await provision(['--thing', THING, '--retention-hours', '6', '--credential-duration', '3600']);
  assert.equal(changes(run), {
    [`IoT policy ${POLICY}`]: 'updated (default version 2: 4 statements missing, 1 statement provision does not write; version 3 as the default)',
    'role policy fieldcam-kvs': 'updated (1 statement missing, 1 statement provision does not write)',
    [`role alias ${ALIAS}`]: 'updated (credential duration 900 s → 3600 s)',
    [`KVS stream ${THING}`]: 'updated (retention 24 h → 6 h: media older than 6 h is deleted at once)',
  });
  assert.equal(run.totals, { things: 1, created: 0, repaired: 0, updated: 4 });
  assert.equal(await policyVersions(), ['1', '2', '3*']);
  const policy = await sdk.iot.send(new GetPolicyCommand({ policyName: POLICY }));
  assert.ok(sameJson(JSON.parse(policy.policyDocument!), await expectedPolicy(THING)), policy.policyDocument);
  assert.is((await sdk.iot.send(new DescribeRoleAliasCommand({ roleAlias: ALIAS }))).roleAliasDescription!.credentialDurationSeconds, 3600);
  const rolePolicy = await sdk.iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: 'fieldcam-kvs' }));
  assert.ok(sameJson(JSON.parse(decodeURIComponent(rolePolicy.PolicyDocument!)), KVS_ROLE_POLICY));
  assert.is(await retention(THING), 6);
  assert.is((await credentialsCall(bundle, THING)).status, 200);

  nothingChanged(await provision(['--thing', THING, '--retention-hours', '6', '--credential-duration', '3600']));
  const human = await cli(cloud, work.dir, ['provision', '--thing', THING, '--retention-hours', '6', '--endpoint-url', cloud.endpoint]);
  assert.ok(/1 thing\(s\): 0 created, 0 repaired, 0 updated/.test(human.stdout), human.stdout);
});

test('at five versions the oldest version that is not the default is deleted first (the default cannot be)', async () => {
  await sdk.iot.send(new DeletePolicyVersionCommand({ policyName: POLICY, policyVersionId: '1' }));
  for (let n = 4; n <= 6; n++) await sdk.iot.send(new CreatePolicyVersionCommand({ policyName: POLICY, policyDocument: connectOnly(n) }));
  await sdk.iot.send(new SetDefaultPolicyVersionCommand({ policyName: POLICY, policyVersionId: '2' }));
  assert.equal(await policyVersions(), ['2*', '3', '4', '5', '6']);

  const plan = await provision(['--thing', THING, '--retention-hours', '6', '--dry-run']);
  assert.is(
    changes(plan)[`IoT policy ${POLICY}`],
    'would update (default version 2: 4 statements missing, 1 statement provision does not write; a new version as the default; oldest version 3 to be deleted first (5 versions at most))',
  );
  assert.equal(await policyVersions(), ['2*', '3', '4', '5', '6']);

  const run = await provision(['--thing', THING, '--retention-hours', '6']);
  assert.equal(changes(run), {
    [`IoT policy ${POLICY}`]:
      'updated (default version 2: 4 statements missing, 1 statement provision does not write; version 7 as the default; oldest version 3 deleted first (5 versions at most))',
  });
  assert.equal(await policyVersions(), ['2', '4', '5', '6', '7*']);
  assert.is((await credentialsCall(bundle, THING)).status, 200);
  nothingChanged(await provision(['--thing', THING, '--retention-hours', '6']));
});

test('without --retention-hours an existing retention is left as is and recorded in the bundle; crossing 0 is named', async () => {
  await setRetention(THING, 48);
  const left = await provision(['--thing', THING]);
  nothingChanged(left);
  const stream = left.things[0]!.steps.find((s) => s.resource === 'KVS stream')!;
  assert.is(stream.detail, 'retention 48 h, left as is: --retention-hours changes it');
  assert.is(await retention(THING), 48);
  assert.is((decodeCbor(readFileSync(join(bundle, 'device.cbor'))) as { retentionHours: number }).retentionHours, 48);

  const off = await provision(['--thing', THING, '--retention-hours', '0']);
  assert.equal(changes(off), {
    [`KVS stream ${THING}`]:
      'updated (retention 48 h → 0 h: stored media is deleted and fragments are no longer PERSISTED (cameras follow at their next session))',
  });
  assert.is(await retention(THING), 0);
  assert.is((decodeCbor(readFileSync(join(bundle, 'device.cbor'))) as { retentionHours: number }).retentionHours, 0);
  nothingChanged(await provision(['--thing', THING, '--retention-hours', '0']));

  const on = await provision(['--thing', THING, '--retention-hours', '6', '--dry-run']);
  assert.equal(changes(on), {
    [`KVS stream ${THING}`]: 'would update (retention 0 h → 6 h: fragments are stored and PERSISTED from now on (cameras follow at their next session))',
  });
  assert.is(await retention(THING), 0);
  assert.is((await provision(['--thing', THING, '--retention-hours', '6'])).totals.updated, 1);
  assert.is(await retention(THING), 6);
});

test("--credential-duration 7200 raises the role's MaxSessionDuration first; credentials last 7200 s; a run without the flag keeps it", async () => {
  const run = await provision(['--thing', THING, '--credential-duration', '7200']);
  assert.equal(changes(run), {
    [`IAM role ${ROLE}`]: "updated (MaxSessionDuration 3600 s → 7200 s, the role alias's credential duration)",
    [`role alias ${ALIAS}`]: 'updated (credential duration 3600 s → 7200 s)',
  });
  assert.is((await sdk.iam.send(new GetRoleCommand({ RoleName: ROLE }))).Role!.MaxSessionDuration, 7200);
  const before = Date.now();
  const answer = await credentialsCall(bundle, THING);
  assert.is(answer.status, 200, answer.body);
  const expires = Date.parse((JSON.parse(answer.body) as { credentials: { expiration: string } }).credentials.expiration);
  assert.ok(expires > before + 7200_000 - 2000 && expires <= Date.now() + 7200_000, `expiration ${new Date(expires).toISOString()}`);

  const kept = await provision(['--thing', THING]);
  nothingChanged(kept);
  assert.is(kept.shared.find((s) => s.resource === 'role alias')!.detail, '7200 s');

  const bad = await cli(cloud, work.dir, ['provision', '--thing', THING, '--credential-duration', '899', '--endpoint-url', cloud.endpoint]);
  assert.is(bad.status, 2);
  assert.ok(/error CLI_USAGE: provision: --credential-duration must be a number from 900 to 43200/.test(bad.stderr), bad.stderr);
});

test('a fleet run updates each thing that differs; a second run changes nothing', async () => {
  const created = await provision(['--count', '3', '--prefix', 'yard-', '--out', 'fleet']);
  assert.is(created.totals.created, 18);
  await sdk.iot.send(new CreatePolicyVersionCommand({ policyName: 'fieldcam-yard-002', policyDocument: connectOnly(2), setAsDefault: true }));
  await setRetention('yard-003', 30);

  const plan = await provision(['--count', '3', '--prefix', 'yard-', '--out', 'fleet', '--retention-hours', '24', '--dry-run']);
  assert.equal(
    plan.things.map((t) => t.updated),
    [0, 1, 1],
  );
  const r = await cli(cloud, work.dir, [
    'provision',
    '--count',
    '3',
    '--prefix',
    'yard-',
    '--out',
    'fleet',
    '--retention-hours',
    '24',
    '--endpoint-url',
    cloud.endpoint,
  ]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(/\] yard-002: 0 created, 0 repaired, 1 updated$/m.test(r.stderr), r.stderr);
  assert.ok(/^yard-003\s+0\s+0\s+1\s+[0-9a-f]{12}\s+up to date$/m.test(r.stdout), r.stdout);
  assert.ok(/3 thing\(s\): 0 created, 0 repaired, 2 updated/.test(r.stdout), r.stdout);
  assert.ok(
    sameJson(JSON.parse((await sdk.iot.send(new GetPolicyCommand({ policyName: 'fieldcam-yard-002' }))).policyDocument!), await expectedPolicy('yard-002')),
  );
  assert.is(await retention('yard-003'), 24);
  nothingChanged(await provision(['--count', '3', '--prefix', 'yard-', '--out', 'fleet', '--retention-hours', '24']));
});

test.run();
