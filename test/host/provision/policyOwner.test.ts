// Issue 11 item 17: one thing never gets another thing's IoT policy. Thing names may hold ':', policy names
// may not; the name map is injective (`cam:x` → fieldcam-cam.x, `cam_x` → fieldcam-cam_x), a policy an
// earlier fieldcam wrote for `cam:y` under the colliding name fieldcam-cam_y is refused for `cam_y` rather
// than rewritten, and a 128-character thing name still gets a valid policy name. Checked with the real CLI
// against the local cloud, and with real MQTT connections using the bundles' certificates.
import { CreatePolicyCommand, DescribeRoleAliasCommand, DescribeThingCommand, GetPolicyCommand, ListPolicyVersionsCommand } from '@aws-sdk/client-iot';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iotPolicyDocument, iotPolicyName, iotPolicyThing } from '../../../host/lib/provision/provisionNames.ts';
import type { RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { device, end, guard } from '../../sim/cloud/mqtt/brokerKit.ts';
import { cli, clients, startLocalCloud, tempDir } from './provisionKit.ts';

const test = suite('fieldcam provision: one IoT policy per thing (local cloud)');
const state = tempDir('fieldcam-policy-owner-state-');
const work = tempDir('fieldcam-policy-owner-');
const cloud: RunningCloud = await startLocalCloud(state.dir);
const sdk = clients(cloud);

test.after(async () => {
  sdk.destroy();
  await cloud.close();
  state.remove();
  work.remove();
});

async function provision(thing: string): Promise<{ status: number | null; stderr: string }> {
  // A stream name cannot hold ':' either.
  return cli(cloud, work.dir, [
    'provision',
    '--thing',
    thing,
    '--stream',
    thing.replaceAll(':', '-'),
    '--out',
    join(work.dir, thing.replaceAll(':', '+')),
    '--endpoint-url',
    cloud.endpoint,
  ]);
}

function bundleCert(thing: string): { certificatePem: string; privateKeyPem: string } {
  const dir = join(work.dir, thing.replaceAll(':', '+'));
  return { certificatePem: readFileSync(join(dir, 'certificate.pem'), 'utf8'), privateKeyPem: readFileSync(join(dir, 'private.key'), 'utf8') };
}

/** Whether `thing`'s certificate may connect with client id `clientId` (a real MQTT CONNECT). */
async function connects(thing: string, clientId: string): Promise<boolean> {
  const result = await guard(device(cloud, bundleCert(thing), { clientId }), `MQTT CONNECT of ${thing}'s certificate as ${clientId}`);
  if ('client' in result) {
    await end(result.client);
    return true;
  }
  return false;
}

async function policyOwner(policyName: string): Promise<string | undefined> {
  const policy = await sdk.iot.send(new GetPolicyCommand({ policyName }));
  return iotPolicyThing(JSON.parse(policy.policyDocument!));
}

test('cam:x and cam_x get a policy each; neither certificate connects as the other thing', async () => {
  const first = await provision('cam:x');
  assert.is(first.status, 0, first.stderr);
  const second = await provision('cam_x');
  assert.is(second.status, 0, second.stderr);
  assert.ok(!(await connects('cam:x', 'cam_x')), "cam:x's certificate must not connect as cam_x");
  assert.ok(!(await connects('cam_x', 'cam:x')), "cam_x's certificate must not connect as cam:x");
  assert.ok(await connects('cam:x', 'cam:x'), 'cam:x connects as itself');
  assert.ok(await connects('cam_x', 'cam_x'), 'cam_x connects as itself');
  assert.is(iotPolicyName('cam:x'), 'fieldcam-cam.x');
  assert.is(await policyOwner('fieldcam-cam.x'), 'cam:x');
  assert.is(await policyOwner('fieldcam-cam_x'), 'cam_x');
});

test('a policy an earlier fieldcam wrote for cam:y as fieldcam-cam_y is refused for cam_y, not rewritten; nothing is created', async () => {
  const alias = (await sdk.iot.send(new DescribeRoleAliasCommand({ roleAlias: 'fieldcam-camera-role-alias' }))).roleAliasDescription!;
  const legacy = JSON.stringify(iotPolicyDocument('cam:y', alias.roleAliasArn!, 'us-east-1', cloud.ctx.config.accountId));
  await sdk.iot.send(new CreatePolicyCommand({ policyName: 'fieldcam-cam_y', policyDocument: legacy }));
  const r = await provision('cam_y');
  assert.ok(r.status !== 0, 'provision cam_y must fail');
  assert.ok(/error PROVISION_CONFLICT: .*fieldcam-cam_y belongs to the thing cam:y/.test(r.stderr), r.stderr);
  const versions = await sdk.iot.send(new ListPolicyVersionsCommand({ policyName: 'fieldcam-cam_y' }));
  assert.is(versions.policyVersions?.length, 1, 'no new version');
  assert.is((await sdk.iot.send(new GetPolicyCommand({ policyName: 'fieldcam-cam_y' }))).policyDocument, legacy);
  let described = true;
  await sdk.iot.send(new DescribeThingCommand({ thingName: 'cam_y' })).catch(() => (described = false));
  assert.ok(!described, 'the thing cam_y was not created');
});

test("a 128-character thing name gets a policy name within IoT's 128 characters; a second run changes nothing", async () => {
  const thing = `long-${'x'.repeat(123)}`;
  assert.is(thing.length, 128);
  const name = iotPolicyName(thing);
  assert.ok(name.length <= 128 && /^[\w+=,.@-]+$/.test(name), name);
  const r = await provision(thing);
  assert.is(r.status, 0, r.stderr);
  assert.is(await policyOwner(name), thing);
  const again = await cli(cloud, work.dir, [
    'provision',
    '--thing',
    thing,
    '--out',
    join(work.dir, thing.replaceAll(':', '+')),
    '--endpoint-url',
    cloud.endpoint,
    '--json',
  ]);
  assert.is(again.status, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { totals: unknown }).totals, { things: 1, created: 0, repaired: 0, updated: 0 });
});

test.run();
