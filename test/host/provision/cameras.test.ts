// The proof of issue 18's "one certificate, four streams" (user-needs row 14) against the local cloud, with the
// CLI as a child process and the unmodified SDK v3 clients: `provision --cameras` makes one stream per camera and
// a bundle listing them; the device's certificate gets credentials from the IoT credentials provider, and with
// them DescribeStream, GetDataEndpoint and PutMedia are allowed on `<thing>` and its three `<thing>-<camera>`
// streams and refused (AccessDeniedException) on another thing's stream and on names outside the pattern. A camera
// name outside CAMERA_NAME is refused locally, before any AWS call. A role with the policy of one stream per
// thing is updated by the next run (and said so); doctor checks each camera's stream and warns of the prefix caveat.
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateThingCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  KinesisVideoClient,
  ListTagsForStreamCommand,
} from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { KVS_ROLE_POLICY_ONE_STREAM } from '../../../host/lib/provision/provisionNames.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { assert, suite } from '../../harness/index.ts';
import { sdkError } from '../../sim/cloud/support.ts';
import { cli, clients, credentialsCall, startLocalCloud, tempDir, type ProvisionJson } from './provisionKit.ts';

const test = suite('several cameras per device: one certificate, four streams (local cloud)');
const state = tempDir('fieldcam-cameras-state-');
const work = tempDir('fieldcam-cameras-');
// The media routes too: PutMedia is authorized against the role like the control plane.
const cloud = await startLocalCloud(state.dir, { routes: [...mediaRoutes] });
const url = ['--endpoint-url', cloud.endpoint];
const sdk = clients(cloud);
const THING = 'gate';
const bundle = join(work.dir, THING);

test.after(async () => {
  sdk.destroy();
  await cloud.close();
  state.remove();
  work.remove();
});

interface Json extends ProvisionJson {
  things: (ProvisionJson['things'][number] & { cameras?: { name: string; streamName: string }[]; streamName?: string })[];
  warnings: { thing: string; message: string; fix: string }[];
}

async function provision(args: string[]): Promise<Json> {
  const r = await cli(cloud, work.dir, ['provision', ...args, ...url, '--json']);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Json;
}

interface Row {
  check: string;
  status: string;
  cause: string;
  fix?: string;
}

async function doctor(): Promise<{ status: number | null; rows: Row[] }> {
  const r = await cli(cloud, work.dir, ['doctor', '--bundle', bundle, ...url, '--json']);
  return { status: r.status, rows: (JSON.parse(r.stdout) as { checks: Row[] }).checks };
}

/** A KVS client signing with the temporary credentials the bundle's certificate gets for `thing`. */
async function deviceCredentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> {
  const answer = await credentialsCall(bundle, THING);
  assert.is(answer.status, 200, answer.body);
  const c = (JSON.parse(answer.body) as { credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } }).credentials;
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
}

function deviceKvs(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): KinesisVideoClient {
  return new KinesisVideoClient({
    region: 'us-east-1',
    endpoint: cloud.endpoint,
    credentials: { ...credentials },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: cloud.caPem }) }),
  });
}

/** A PutMedia request (no SDK client has PutMedia) signed with `credentials`: its status and body. */
async function putMedia(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
  stream: string,
): Promise<{ status: number; errorType: string | undefined; body: string }> {
  const endpoint = new URL(cloud.endpoint);
  const signer = new SignatureV4({ service: 'kinesisvideo', region: 'us-east-1', credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: endpoint.hostname,
    port: Number(endpoint.port),
    path: '/putMedia',
    body: '',
    headers: { host: endpoint.host, 'x-amzn-stream-name': stream, 'x-amzn-fragment-timecode-type': 'ABSOLUTE', 'x-amzn-fragment-acknowledgment-required': '1' },
  });
  return new Promise((done, fail) => {
    const req = request(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        method: 'POST',
        path: '/putMedia',
        headers: { ...signed.headers, 'transfer-encoding': 'chunked' },
        ca: cloud.caPem,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => done({ status: res.statusCode ?? 0, errorType: res.headers['x-amzn-errortype'] as string | undefined, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

test('refused locally: a camera name outside CAMERA_NAME, a count or list out of range — a named error, nothing created', async () => {
  const bad = await cli(cloud, work.dir, ['provision', '--thing', THING, '--cameras', 'front,Back', ...url]);
  assert.is(bad.status, 1, bad.stderr);
  assert.ok(/^fieldcam: error PROVISION_CAMERA_INVALID: --cameras: 'Back' is not a camera name \(1-32 of a-z 0-9 _ -/m.test(bad.stderr), bad.stderr);
  const five = await cli(cloud, work.dir, ['provision', '--thing', THING, '--cameras', '5', ...url]);
  assert.ok(/error PROVISION_CAMERA_INVALID: --cameras 5: a device runs 1 to 4 cameras/.test(five.stderr), five.stderr);
  const both = await cli(cloud, work.dir, ['provision', '--thing', THING, '--cameras', '2', '--stream', 'x', ...url]);
  assert.is(both.status, 2);
  assert.ok(/error CLI_USAGE: provision: --stream names the one stream/.test(both.stderr), both.stderr);
  // A --stream the role policy does not allow: provision warns (dry run here, so nothing is created either).
  const outside = await cli(cloud, work.dir, ['provision', '--thing', THING, '--stream', 'gatex', '--dry-run', ...url]);
  assert.is(outside.status, 0, outside.stderr);
  assert.ok(
    /^warning: gate: stream 'gatex' is neither 'gate' nor 'gate-…', which is all the role policy allows: KVS will refuse the device \(AccessDeniedException\)$/m.test(
      outside.stdout,
    ),
    outside.stdout,
  );
  // No AWS call was made by the refused runs, and the dry run changed nothing: no thing, no role.
  assert.equal((await sdk.iot.send(new ListThingsCommand({}))).things ?? [], []);
  await sdkError(sdk.iam.send(new GetRoleCommand({ RoleName: 'fieldcam-camera-role' })), 'NoSuchEntityException', 404);
});

test('provision --cameras a,b,c: a stream <thing>-<camera> per camera, tagged, and device.cbor lists the cameras', async () => {
  const run = await provision(['--thing', THING, '--cameras', 'a,b,c', '--retention-hours', '2']);
  assert.equal(run.things[0]!.cameras, [
    { name: 'a', streamName: 'gate-a' },
    { name: 'b', streamName: 'gate-b' },
    { name: 'c', streamName: 'gate-c' },
  ]);
  assert.is(run.things[0]!.streamName, undefined);
  assert.equal(
    run.things[0]!.steps.filter((s) => s.resource === 'KVS stream').map((s) => `${(s as { name?: string }).name} ${s.action}`),
    ['gate-a created', 'gate-b created', 'gate-c created'],
  );
  for (const camera of ['a', 'b', 'c']) {
    const stream = `gate-${camera}`;
    assert.is((await sdk.kvs.send(new DescribeStreamCommand({ StreamName: stream }))).StreamInfo?.DataRetentionInHours, 2);
    assert.equal((await sdk.kvs.send(new ListTagsForStreamCommand({ StreamName: stream }))).Tags, { 'fieldcam:thing': THING, 'fieldcam:camera': camera });
  }
  await sdkError(sdk.kvs.send(new DescribeStreamCommand({ StreamName: THING })), 'ResourceNotFoundException', 404);
  const config = decodeCbor(readFileSync(join(bundle, 'device.cbor'))) as Record<string, unknown>;
  assert.equal(config.cameras, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  assert.is(config.streamName, undefined);
  assert.is(config.retentionHours, 2);
  assert.equal(run.warnings, []);
  // Another device, whose stream the first must not reach.
  await provision(['--thing', 'other']);
  // A fleet: every thing gets the cameras, `--cameras 2` names them cam1 and cam2.
  const fleet = await provision(['--count', '2', '--prefix', 'yard-', '--cameras', '2', '--out', 'fleet']);
  assert.equal(
    fleet.things.map((t) => t.cameras?.map((c) => c.streamName)),
    [
      ['yard-001-cam1', 'yard-001-cam2'],
      ['yard-002-cam1', 'yard-002-cam2'],
    ],
  );
  assert.equal((decodeCbor(readFileSync(join(work.dir, 'fleet', 'yard-002', 'device.cbor'))) as { cameras: unknown }).cameras, [
    { name: 'cam1' },
    { name: 'cam2' },
  ]);
  assert.is((await sdk.kvs.send(new DescribeStreamCommand({ StreamName: 'yard-002-cam2' }))).StreamInfo?.StreamName, 'yard-002-cam2');
  // A camera added later is created (not a repair); one deleted is repaired.
  await sdk.kvs.send(
    new DeleteStreamCommand({ StreamARN: (await sdk.kvs.send(new DescribeStreamCommand({ StreamName: 'yard-001-cam1' }))).StreamInfo!.StreamARN! }),
  );
  const grown = await provision(['--count', '2', '--prefix', 'yard-', '--cameras', '3', '--out', 'fleet']);
  const streamSteps = (t: Json['things'][number]) =>
    t.steps.filter((s) => s.resource === 'KVS stream' && s.action !== 'exists').map((s) => `${(s as { name?: string }).name} ${s.action}`);
  assert.equal(grown.things.map(streamSteps), [['yard-001-cam1 repaired', 'yard-001-cam3 created'], ['yard-002-cam3 created']]);
  // Idempotent: a second run creates nothing and rewrites nothing.
  const again = await provision(['--thing', THING, '--cameras', 'a,b,c']);
  assert.equal(again.totals, { things: 1, created: 0, repaired: 0, updated: 0 });
  assert.equal(again.things[0]!.bundleFiles, []);
});

test("one certificate, four streams: <thing> and <thing>-a/-b/-c allowed; another thing's stream and names outside the pattern refused", async () => {
  const credentials = await deviceCredentials();
  const kvs = deviceKvs(credentials);
  try {
    // The fourth stream, `<thing>` itself, made by the device with its own credentials (the role allows CreateStream).
    await kvs.send(new CreateStreamCommand({ StreamName: THING, DataRetentionInHours: 1 }));
    for (const stream of [THING, 'gate-a', 'gate-b', 'gate-c']) {
      assert.is((await kvs.send(new DescribeStreamCommand({ StreamName: stream }))).StreamInfo?.StreamName, stream);
      assert.is((await kvs.send(new GetDataEndpointCommand({ StreamName: stream, APIName: 'PUT_MEDIA' }))).DataEndpoint, cloud.endpoint);
      const put = await putMedia(credentials, stream);
      assert.is(put.status, 200, `PutMedia ${stream}: ${put.body}`);
    }
    const denied = (action: string, stream: string) => new RegExp(`is not authorized to perform: kinesisvideo:${action} on resource: ${stream}$`);
    await sdk.kvs.send(new CreateStreamCommand({ StreamName: 'gatex', DataRetentionInHours: 1 }));
    await sdk.kvs.send(new CreateStreamCommand({ StreamName: 'gate0-a', DataRetentionInHours: 1 }));
    // 'other': another device's stream; 'gatex', 'gate0-a', 'other-a': outside stream/gate and stream/gate-*.
    for (const stream of ['other', 'gatex', 'gate0-a', 'other-a']) {
      await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: stream })), 'AccessDeniedException', 403, denied('DescribeStream', stream));
      await sdkError(
        kvs.send(new GetDataEndpointCommand({ StreamName: stream, APIName: 'PUT_MEDIA' })),
        'AccessDeniedException',
        403,
        denied('GetDataEndpoint', stream),
      );
      const put = await putMedia(credentials, stream);
      assert.is(put.status, 403, `PutMedia ${stream}: ${put.body}`);
      assert.ok(put.errorType?.startsWith('AccessDeniedException'), `x-amzn-ErrorType ${put.errorType}`);
      assert.ok(denied('PutMedia', stream).test(JSON.parse(put.body).Message), put.body);
    }
    await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'othercam' })), 'AccessDeniedException', 403, denied('CreateStream', 'othercam'));
  } finally {
    kvs.destroy();
  }
});

test('a role with the one-stream policy: the cameras are refused, doctor names why, the next provision updates it and says so', async () => {
  await sdk.iam.send(
    new PutRolePolicyCommand({ RoleName: 'fieldcam-camera-role', PolicyName: 'fieldcam-kvs', PolicyDocument: JSON.stringify(KVS_ROLE_POLICY_ONE_STREAM) }),
  );
  const before = await doctor();
  assert.is(before.status, 1);
  const cameraRows = before.rows.filter((r) => r.check.startsWith('stream'));
  assert.equal(
    cameraRows.map((r) => `${r.check} ${r.status}`),
    ['stream (a) FAIL', 'stream (b) FAIL', 'stream (c) FAIL'],
  );
  assert.ok(
    /stream 'gate-a' was refused \(AccessDeniedException\): the role policy allows only stream\/\$\{credentials-iot:ThingName\}, not stream\/\$\{credentials-iot:ThingName\}-\*/.test(
      cameraRows[0]!.cause,
    ),
    cameraRows[0]!.cause,
  );
  assert.ok(/fieldcam provision` again .*updates the role policy fieldcam-kvs/.test(cameraRows[0]!.fix ?? ''), cameraRows[0]!.fix);

  const human = await cli(cloud, work.dir, ['provision', '--thing', THING, '--cameras', 'a,b,c', ...url]);
  assert.is(human.status, 0, human.stderr);
  assert.ok(
    /^ {2}role policy +fieldcam-kvs +updated \(the one-stream policy; now also stream\/\$\{credentials-iot:ThingName\}-\*, the cameras of each device\)$/m.test(
      human.stdout,
    ),
    human.stdout,
  );
  assert.ok(/^gate \(cameras a → gate-a, b → gate-b, c → gate-c\)$/m.test(human.stdout), human.stdout);
  assert.ok(/^1 thing\(s\): 0 created, 0 repaired, 1 updated$/m.test(human.stdout), human.stdout);

  // A thing named '<thing>-…' joins the fleet: doctor passes every check and warns of the overlap.
  await sdk.iot.send(new CreateThingCommand({ thingName: 'gate-z', thingTypeName: 'fieldcam-camera' }));
  const after = await doctor();
  assert.is(after.status, 0, JSON.stringify(after.rows));
  assert.equal(
    after.rows.filter((r) => r.status !== 'PASS').map((r) => `${r.check} ${r.status}`),
    ['thing names WARN'],
  );
  assert.equal(
    after.rows.filter((r) => r.check.startsWith('stream')).map((r) => r.check),
    ['stream (a)', 'stream (b)', 'stream (c)'],
  );
  const warn = after.rows.find((r) => r.check === 'thing names')!;
  assert.is(warn.cause, "the certificate of 'gate' can also use the streams of 'gate-z' ('gate-z' begins with 'gate-')");
  assert.ok(/rename one of the things/.test(warn.fix ?? ''), warn.fix);
  assert.ok(after.rows.find((r) => r.check === 'device.cbor')!.cause.includes('cameras a → gate-a, b → gate-b, c → gate-c'));

  // provision warns too, for the thing of the run.
  const plan = await provision(['--thing', 'gate-z', '--dry-run']);
  assert.equal(
    plan.warnings.map((w) => [w.thing, w.message]),
    [['gate-z', "the certificate of 'gate' can also use the streams of 'gate-z' ('gate-z' begins with 'gate-')"]],
  );
  assert.ok(/^rename one of the things/.test(plan.warnings[0]!.fix), plan.warnings[0]!.fix);
});

test.run();
