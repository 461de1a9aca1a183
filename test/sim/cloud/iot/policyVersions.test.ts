// IoT policy versions and UpdateRoleAlias in the local cloud, driven by the unmodified @aws-sdk/client-iot:
// only the default version authorizes (checked through the credentials provider over mTLS and the registry
// accessors other servers read), the five-version limit, the undeletable default, ids never reused,
// persistence across a restart; UpdateRoleAlias changes the duration of the credentials issued next.
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DescribeRoleAliasCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListPolicyVersionsCommand,
  SetDefaultPolicyVersionCommand,
  UpdateRoleAliasCommand,
} from '@aws-sdk/client-iot';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, suite } from '../../../harness/index.ts';
import { sdkError, startTestCloud, tempStateDir } from '../support.ts';
import { assumeRolePolicy, fetchCredentials, iotClient, provisionRole, provisionThing } from './iotKit.ts';

const test = suite('sim/cloud IoT policy versions and UpdateRoleAlias (AWS SDK v3)');
const state = tempStateDir();
let cloud = await startTestCloud(state.dir);
let iot = iotClient(cloud);
const ALIAS_ARN = 'arn:aws:iot:us-east-1:123456789012:rolealias';
await provisionRole(cloud, { role: 'CamRole', alias: 'CamAlias', policy: 'CamPolicy', durationSeconds: 900 });
const cert = await provisionThing(cloud, 'cam-v', 'CamPolicy');

test.after(async () => {
  await cloud.close();
  state.remove();
});

function connectDoc(n: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:us-east-1:123456789012:client/c${n}` }],
  });
}

async function versionIds(policyName: string): Promise<string[]> {
  const out = await iot.send(new ListPolicyVersionsCommand({ policyName }));
  return (out.policyVersions ?? []).map((v) => `${v.versionId}${v.isDefaultVersion ? '*' : ''}`);
}

test('only the default version authorizes: a new version without setAsDefault changes nothing, with it the credentials provider refuses', async () => {
  const v1 = assumeRolePolicy(`${ALIAS_ARN}/CamAlias`);
  const otherAlias = assumeRolePolicy(`${ALIAS_ARN}/OtherAlias`);
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' })).status, 200);

  const v2 = await iot.send(new CreatePolicyVersionCommand({ policyName: 'CamPolicy', policyDocument: otherAlias }));
  assert.is(v2.policyVersionId, '2');
  assert.is(v2.isDefaultVersion, false);
  assert.is((await iot.send(new GetPolicyCommand({ policyName: 'CamPolicy' }))).policyDocument, v1);
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' })).status, 200);

  const v3 = await iot.send(new CreatePolicyVersionCommand({ policyName: 'CamPolicy', policyDocument: otherAlias, setAsDefault: true }));
  assert.is(v3.policyVersionId, '3');
  assert.is(v3.isDefaultVersion, true);
  const got = await iot.send(new GetPolicyCommand({ policyName: 'CamPolicy' }));
  assert.is(got.defaultVersionId, '3');
  assert.is(got.policyDocument, otherAlias);
  const refused = await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' });
  assert.is(refused.status, 403);
  assert.equal(refused.json, { message: 'Access Denied' });
  // The accessors another server (the MQTT broker) evaluates policies through see the default version.
  const attached = cloud.ctx.iot.policiesOf(cert.certificateArn);
  assert.equal(
    attached.map((p) => p.policyDocument),
    [otherAlias],
  );
  assert.ok(JSON.stringify(cloud.ctx.iot.document(attached[0]!)).includes('OtherAlias'));

  assert.equal(await versionIds('CamPolicy'), ['3*', '2', '1']);
  const old = await iot.send(new GetPolicyVersionCommand({ policyName: 'CamPolicy', policyVersionId: '1' }));
  assert.is(old.policyDocument, v1);
  assert.is(old.isDefaultVersion, false);

  await iot.send(new SetDefaultPolicyVersionCommand({ policyName: 'CamPolicy', policyVersionId: '1' }));
  assert.is((await iot.send(new GetPolicyCommand({ policyName: 'CamPolicy' }))).defaultVersionId, '1');
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' })).status, 200);
  assert.equal(await versionIds('CamPolicy'), ['3', '2', '1*']);
});

test('five versions at most; the default cannot be deleted; ids are never reused; bad input is named', async () => {
  await iot.send(new CreatePolicyCommand({ policyName: 'five', policyDocument: connectDoc(1) }));
  for (let n = 2; n <= 5; n++) await iot.send(new CreatePolicyVersionCommand({ policyName: 'five', policyDocument: connectDoc(n), setAsDefault: n === 5 }));
  await sdkError(
    iot.send(new CreatePolicyVersionCommand({ policyName: 'five', policyDocument: connectDoc(6) })),
    'VersionsLimitExceededException',
    409,
    /maximum of 5 versions/,
  );
  await sdkError(iot.send(new DeletePolicyVersionCommand({ policyName: 'five', policyVersionId: '5' })), 'DeleteConflictException', 409, /default version/);
  await iot.send(new DeletePolicyVersionCommand({ policyName: 'five', policyVersionId: '2' }));
  await sdkError(iot.send(new DeletePolicyVersionCommand({ policyName: 'five', policyVersionId: '2' })), 'ResourceNotFoundException', 404);
  await sdkError(iot.send(new GetPolicyVersionCommand({ policyName: 'five', policyVersionId: '2' })), 'ResourceNotFoundException', 404);
  const six = await iot.send(new CreatePolicyVersionCommand({ policyName: 'five', policyDocument: connectDoc(6), setAsDefault: true }));
  assert.is(six.policyVersionId, '6');
  assert.equal(await versionIds('five'), ['6*', '5', '4', '3', '1']);
  assert.is((await iot.send(new GetPolicyCommand({ policyName: 'five' }))).policyDocument, connectDoc(6));

  await sdkError(iot.send(new CreatePolicyVersionCommand({ policyName: 'nope', policyDocument: connectDoc(1) })), 'ResourceNotFoundException', 404);
  await sdkError(iot.send(new CreatePolicyVersionCommand({ policyName: 'CamPolicy', policyDocument: '{not json' })), 'MalformedPolicyException', 400);
  await sdkError(iot.send(new GetPolicyVersionCommand({ policyName: 'five', policyVersionId: 'x1' })), 'InvalidRequestException', 400);
});

test('UpdateRoleAlias: the next credentials last the new duration; bounds 900-43200; unknown alias → 404', async () => {
  const updated = await iot.send(new UpdateRoleAliasCommand({ roleAlias: 'CamAlias', credentialDurationSeconds: 1800 }));
  assert.is(updated.roleAliasArn, `${ALIAS_ARN}/CamAlias`);
  const described = (await iot.send(new DescribeRoleAliasCommand({ roleAlias: 'CamAlias' }))).roleAliasDescription!;
  assert.is(described.credentialDurationSeconds, 1800);
  assert.ok(described.roleArn!.endsWith(':role/CamRole'), described.roleArn);
  // CamRole's MaxSessionDuration is 3600: 1800 s credentials are issued.
  const before = Date.now();
  const answer = await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' });
  assert.is(answer.status, 200, JSON.stringify(answer.json));
  const expires = Date.parse((answer.json.credentials as Record<string, string>).expiration!);
  assert.ok(expires > before + 1800_000 - 2000 && expires <= Date.now() + 1800_000, `expiration ${new Date(expires).toISOString()}`);

  await sdkError(iot.send(new UpdateRoleAliasCommand({ roleAlias: 'CamAlias', credentialDurationSeconds: 899 })), 'InvalidRequestException', 400);
  await sdkError(iot.send(new UpdateRoleAliasCommand({ roleAlias: 'CamAlias', credentialDurationSeconds: 43201 })), 'InvalidRequestException', 400);
  await sdkError(iot.send(new UpdateRoleAliasCommand({ roleAlias: 'CamAlias', roleArn: 'not-a-role-arn-at-all' })), 'InvalidRequestException', 400);
  await sdkError(iot.send(new UpdateRoleAliasCommand({ roleAlias: 'NoAlias', credentialDurationSeconds: 900 })), 'ResourceNotFoundException', 404);
  assert.is((await iot.send(new DescribeRoleAliasCommand({ roleAlias: 'CamAlias' }))).roleAliasDescription!.credentialDurationSeconds, 1800);
});

test('versions, defaults and durations survive a restart', async () => {
  await cloud.close();
  cloud = await startTestCloud(state.dir);
  iot = iotClient(cloud);
  assert.equal(await versionIds('five'), ['6*', '5', '4', '3', '1']);
  assert.is((await iot.send(new GetPolicyCommand({ policyName: 'five' }))).policyDocument, connectDoc(6));
  assert.is((await iot.send(new CreatePolicyVersionCommand({ policyName: 'CamPolicy', policyDocument: connectDoc(9) }))).policyVersionId, '4');
  assert.is((await iot.send(new DescribeRoleAliasCommand({ roleAlias: 'CamAlias' }))).roleAliasDescription!.credentialDurationSeconds, 1800);
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' })).status, 200);
});

test('an iot.json written before policy versions: each policy has its one version, the default, and goes on from there', async () => {
  await iot.send(new CreatePolicyCommand({ policyName: 'older', policyDocument: connectDoc(1) }));
  await cloud.close();
  const file = join(state.dir, 'iot.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { policies: Record<string, unknown>[] };
  for (const p of saved.policies) {
    delete p.versions;
    delete p.lastVersionId;
  }
  writeFileSync(file, JSON.stringify(saved));
  cloud = await startTestCloud(state.dir);
  iot = iotClient(cloud);
  assert.equal(await versionIds('older'), ['1*']);
  // CamPolicy's default was version 1 (SetDefaultPolicyVersion above): its document, the one in effect, is kept.
  assert.equal(await versionIds('CamPolicy'), ['1*']);
  assert.is((await fetchCredentials(cloud, { cert, thingName: 'cam-v', roleAlias: 'CamAlias' })).status, 200);
  const next = await iot.send(new CreatePolicyVersionCommand({ policyName: 'older', policyDocument: connectDoc(2), setAsDefault: true }));
  assert.is(next.policyVersionId, '2');
  assert.is((await iot.send(new GetPolicyCommand({ policyName: 'older' }))).policyDocument, connectDoc(2));
});

test.run();
