// Several cameras per device (issue 18), the parts that need no cloud: `--cameras` read with the one camera-name
// rule (named errors), device.cbor's `cameras` as provision writes it, the role policy's two stream patterns
// judged by the local cloud's IAM evaluator at the edges of `${credentials-iot:ThingName}-*`, and the prefix
// caveat finder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../firmware/core/cbor/encodeCbor.ts';
import { cameraStreamName, MAX_CAMERAS } from '../../../firmware/core/iot/iotNames.ts';
import { readBundle } from '../../../host/lib/doctor/readBundle.ts';
import { parseCameraList } from '../../../host/lib/provision/parseCameraList.ts';
import { KVS_ROLE_POLICY, KVS_ROLE_POLICY_ONE_STREAM, roleAllowsStream } from '../../../host/lib/provision/provisionNames.ts';
import { describePrefixOverlap, prefixOverlaps } from '../../../host/lib/provision/thingPrefixOverlap.ts';
import { encodeDeviceConfig, type DeviceDocument } from '../../../host/lib/writeBundle.ts';
import { evaluatePolicies } from '../../../sim/cloud/iam/evaluatePolicies.ts';
import { parsePolicyDocument } from '../../../sim/cloud/iam/PolicyDocument.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('several cameras per device: names, bundle, role policy (no cloud)');

test('--cameras N gives cam1…camN; names are kept in order; anything else is PROVISION_CAMERA_INVALID', () => {
  assert.equal(parseCameraList('3'), ['cam1', 'cam2', 'cam3']);
  assert.equal(parseCameraList(String(MAX_CAMERAS)).length, MAX_CAMERAS);
  assert.equal(parseCameraList(' front, back ,yard_2 '), ['front', 'back', 'yard_2']);
  assert.equal(parseCameraList('a'), ['a']);
  const refused: [string, RegExp][] = [
    ['0', /--cameras 0: a device runs 1 to 4 cameras/],
    [String(MAX_CAMERAS + 1), /a device runs 1 to 4 cameras/],
    ['Front', /'Front' is not a camera name/],
    ['front,', /'' is not a camera name/],
    ['-x', /'-x' is not a camera name/],
    ['a.b', /'a\.b' is not a camera name/],
    ['a'.repeat(33), /is not a camera name/],
    ['a,b,a', /'a' is named twice/],
    ['a,b,c,d,e', /5 cameras named; a device runs at most 4/],
  ];
  for (const [raw, message] of refused) {
    assert.throws(() => parseCameraList(raw), 'PROVISION_CAMERA_INVALID', raw);
    assert.throws(() => parseCameraList(raw), message, raw);
  }
});

const BASE: DeviceDocument = {
  version: 1,
  thingName: 'gate',
  region: 'us-east-1',
  roleAlias: 'fieldcam-camera-role-alias',
  endpoints: { credentialProvider: 'c.example:443', iotData: 'd.example:8883', kinesisVideo: 'https://k.example' },
};

test('device.cbor: `cameras` in place of `streamName`, in a fixed key order; what the device refuses is never written', () => {
  const bytes = encodeDeviceConfig({ ...BASE, cameras: [{ name: 'front' }, { name: 'back', codec: 'h265', fps: 15 }], retentionHours: 6 });
  const decoded = decodeCbor(bytes) as Record<string, unknown>;
  assert.equal(Object.keys(decoded), ['version', 'thingName', 'cameras', 'region', 'roleAlias', 'endpoints', 'retentionHours']);
  assert.equal(decoded.cameras, [{ name: 'front' }, { name: 'back', codec: 'h265', fps: 15 }]);
  assert.equal(Object.keys(decodeCbor(encodeDeviceConfig({ ...BASE, streamName: 'gate' })) as object), [
    'version',
    'thingName',
    'streamName',
    'region',
    'roleAlias',
    'endpoints',
  ]);
  const refused: [Partial<DeviceDocument>, RegExp][] = [
    [{ streamName: 'gate', cameras: [{ name: 'a' }] }, /cameras or streamName, not both/],
    [{}, /needs streamName or cameras/],
    [{ cameras: [] }, /0 cameras; 1 to 4/],
    [{ cameras: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name })) }, /5 cameras; 1 to 4/],
    [{ cameras: [{ name: 'Front' }] }, /'Front' is not a camera name/],
    [{ cameras: [{ name: 'a' }, { name: 'a' }] }, /'a' is named twice/],
  ];
  for (const [edit, message] of refused) assert.throws(() => encodeDeviceConfig({ ...BASE, ...edit }), message, JSON.stringify(edit));
});

test('doctor reads `cameras` from device.cbor with the same rule, and names what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-cameras-bundle-'));
  try {
    const write = (config: Record<string, unknown>) => {
      const out = new Uint8Array(4096);
      writeFileSync(join(dir, 'device.cbor'), out.slice(0, encodeCbor(config, out)));
    };
    writeFileSync(join(dir, 'device.cbor'), encodeDeviceConfig({ ...BASE, cameras: [{ name: 'front' }, { name: 'back', fps: 10 }] }));
    const good = readBundle(dir);
    assert.is(good.configProblem, undefined);
    // Read by the device's own reader: the board's codec (any board: h264) filled in.
    assert.equal(good.config?.cameras, [
      { name: 'front', codec: 'h264' },
      { name: 'back', codec: 'h264', fps: 10 },
    ]);
    assert.is(good.config?.streamName, undefined);
    const plain = { ...BASE, version: 1 } as Record<string, unknown>;
    const refused: [unknown, RegExp][] = [
      [[{ name: 'Front' }], /cameras\[0\]\.name must be a string matching/],
      [[{ name: 'a' }, { name: 'a' }], /cameras\[1\]\.name "a" is used twice/],
      [[], /a list of 1 to 4 camera maps/],
      [['a'], /cameras\[0\] must be an object/],
      [[{ name: 'a', lens: 'wide' }], /unknown key cameras\[0\]\.lens/],
    ];
    for (const [cameras, message] of refused) {
      write({ ...plain, cameras });
      const r = readBundle(dir);
      assert.is(r.config, undefined, JSON.stringify(cameras));
      assert.ok(message.test(r.configProblem ?? ''), `${JSON.stringify(cameras)}: ${r.configProblem}`);
    }
    write({ ...plain, streamName: 'gate', cameras: [{ name: 'a' }] });
    assert.ok(/streamName must be absent when cameras is given/.test(readBundle(dir).configProblem ?? ''), readBundle(dir).configProblem);
    write({ ...plain, camera: { codec: 'h264' }, cameras: [{ name: 'a' }] });
    assert.ok(/camera must be absent when cameras is given/.test(readBundle(dir).configProblem ?? ''), readBundle(dir).configProblem);
    // The rest of device.cbor is still the device reader's to judge.
    write({ ...plain, region: 'Not A Region', cameras: [{ name: 'a' }] });
    assert.ok(/region/.test(readBundle(dir).configProblem ?? ''), readBundle(dir).configProblem);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const ARN = (stream: string) => `arn:aws:kinesisvideo:us-east-1:123456789012:stream/${stream}/1700000000000`;
const rolePolicy = parsePolicyDocument(JSON.stringify(KVS_ROLE_POLICY), 'identity');
function decide(thing: string, stream: string, action = 'kinesisvideo:PutMedia', policy = rolePolicy): string {
  return evaluatePolicies([policy], { action, resource: ARN(stream), variables: new Map([['credentials-iot:ThingName', thing]]) });
}

test('the role policy allows <thing> and <thing>-*, exactly: the edges of the `-*` pattern in the local IAM evaluator', () => {
  const cases: [thing: string, stream: string, decision: 'allow' | 'implicit-deny'][] = [
    ['cam1', 'cam1', 'allow'],
    ['cam1', cameraStreamName('cam1', 'x'), 'allow'],
    ['cam1', 'cam10-x', 'implicit-deny'], // `cam1-*` needs the '-' right after the thing name
    ['cam1', 'cam10', 'implicit-deny'],
    ['cam1', 'cam1x', 'implicit-deny'],
    ['cam1', 'cam', 'implicit-deny'],
    ['cam1', 'CAM1-x', 'implicit-deny'], // resources match case-sensitively
    ['cam1', 'xcam1-a', 'implicit-deny'],
    ['cam1', 'cam1-', 'allow'], // `*` matches the empty string: a stream named 'cam1-' is the thing's too
    ['a', 'a-b-c', 'allow'], // 'a-' + 'b-c'
    ['a', 'a-b', 'allow'], // the caveat: thing 'a' reaches thing 'a-b's own stream…
    ['a-b', 'a-b-x', 'allow'],
    ['a', 'a-b-x', 'allow'], // …and its cameras'
    ['a-b', 'a', 'implicit-deny'], // but never the other way round
    ['a-b', 'a-c', 'implicit-deny'],
    ['a', 'ab', 'implicit-deny'],
  ];
  for (const [thing, stream, decision] of cases) {
    assert.is(decide(thing, stream), decision, `thing ${thing}, stream ${stream}`);
    assert.is(roleAllowsStream(thing, stream), decision === 'allow', `roleAllowsStream(${thing}, ${stream})`);
  }
  for (const action of ['kinesisvideo:DescribeStream', 'kinesisvideo:GetDataEndpoint', 'kinesisvideo:CreateStream', 'kinesisvideo:TagStream']) {
    assert.is(decide('cam1', 'cam1-x', action), 'allow', action);
  }
  assert.is(decide('cam1', 'cam1-x', 'kinesisvideo:DeleteStream'), 'implicit-deny');
  assert.is(decide('cam1', 'cam1-x', 'kinesisvideo:GetMedia'), 'implicit-deny');
  // The policy of one stream per thing, which provision replaces: the thing's stream only.
  const old = parsePolicyDocument(JSON.stringify(KVS_ROLE_POLICY_ONE_STREAM), 'identity');
  assert.is(decide('cam1', 'cam1', 'kinesisvideo:PutMedia', old), 'allow');
  assert.is(decide('cam1', 'cam1-x', 'kinesisvideo:PutMedia', old), 'implicit-deny');
});

test("prefix caveat: a thing whose name is another's followed by '-' is named on both sides; nothing else is", () => {
  const overlapOf = prefixOverlaps(['a', 'a-b', 'a-b-c', 'ab', 'a-', 'b', 'cam1', 'cam10', 'cam1x', '-a', '-a-b']);
  assert.equal(overlapOf('a'), { reachedBy: [], reaches: ['a-', 'a-b', 'a-b-c'] });
  assert.equal(overlapOf('a-b'), { reachedBy: ['a'], reaches: ['a-b-c'] });
  assert.equal(overlapOf('a-b-c'), { reachedBy: ['a', 'a-b'], reaches: [] });
  assert.equal(overlapOf('ab'), { reachedBy: [], reaches: [] });
  assert.equal(overlapOf('cam1'), { reachedBy: [], reaches: [] });
  assert.equal(overlapOf('-a-b'), { reachedBy: ['-a'], reaches: [] });
  assert.equal(overlapOf('new'), { reachedBy: [], reaches: [] }, 'a name not in the index');
  assert.is(describePrefixOverlap('cam1', overlapOf('cam1')), undefined);
  assert.is(
    describePrefixOverlap('a-b', overlapOf('a-b')),
    "the certificate of 'a' can also use the streams of 'a-b' ('a-b' begins with 'a-'); the certificate of 'a-b' can also use the streams of 'a-b-c' ('a-b-c' begins with 'a-b-')",
  );
  // A fleet of 10 000 numbered things overlaps nothing; a thing named like their common prefix reaches them all.
  const fleet = Array.from({ length: 10_000 }, (_, i) => `yard-${String(i).padStart(5, '0')}`);
  const fleetOverlap = prefixOverlaps(fleet);
  assert.ok(fleet.every((t) => fleetOverlap(t).reachedBy.length === 0 && fleetOverlap(t).reaches.length === 0));
  assert.equal(prefixOverlaps([...fleet, 'yard'])('yard').reaches.length, 10_000);
});

test.run();
