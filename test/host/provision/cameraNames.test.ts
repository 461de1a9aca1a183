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
import { flashCameras } from '../../../host/lib/flash/flashCameras.ts';
import { parseCameraFlags, readCameraUrls } from '../../../host/lib/provision/parseCameraFlags.ts';
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

test("--camera NAME=SOURCE,codec=,fps=,bitrate=: the source by flash's parser, the rest by the device's reader, named errors", () => {
  const flags = parseCameraFlags(['front=rpicam:0', 'gate=rtsp,codec=h265', 'yard=v4l2:/dev/video1:h264,bitrate=1500,fps=15', 'spare']);
  assert.equal(
    flags.map((f) => [f.entry, f.given]),
    [
      [{ name: 'front', source: 'rpicam:0' }, true],
      [{ name: 'gate', source: 'rtsp', codec: 'h265' }, true],
      [{ name: 'yard', source: 'v4l2:/dev/video1:h264', bitrateKbps: 1500, fps: 15 }, true],
      [{ name: 'spare' }, false],
    ],
  );
  // What provision writes, flash reads back with the same parser: the source flash will start for each camera.
  const bundle = mkdtempSync(join(tmpdir(), 'fieldcam-camera-flags-'));
  try {
    writeFileSync(join(bundle, 'device.cbor'), encodeDeviceConfig({ ...BASE, cameras: flags.slice(0, 3).map((f) => f.entry) }));
    writeFileSync(join(bundle, 'camera-url-gate'), 'rtsp://192.0.2.1/s\n');
    const read = flashCameras({ camera: { codec: 'h264', fps: 30 } }, bundle)!;
    assert.equal(
      read.map((c) => [c.name, c.source, c.codec, c.bitrateKbps]),
      [
        ['front', { kind: 'rpicam', camera: 0 }, 'h264', undefined],
        ['gate', { kind: 'rtsp' }, 'h265', undefined],
        ['yard', { kind: 'v4l2', device: '/dev/video1', format: 'h264' }, 'h264', 1500],
      ],
    );
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
  const refused: [string[], RegExp][] = [
    [['Front=rpicam'], /--camera Front=rpicam: 'Front' is not a camera name/],
    [['a=foo'], /--camera a=foo: camera\.source\.kind must be "rpicam", "v4l2", "rtsp", "mjpeg-http"/],
    [['a=v4l2:/dev/video1:vp8'], /camera\.source\.format must be one of mjpeg, h264, yuyv422/],
    [['a=rtsp:rtsp://192.0.2.1/s'], /the URL goes in a file: --camera-url-file/],
    [['a,codec=vp8'], /--camera a: codec must be "h264", "h265" or "mjpeg"/],
    [['a,bitrate=0'], /--camera a: bitrate \(kbit\/s\) must be a number in \[1, 1000000\]/],
    [['a,bitrate=fast'], /--camera a: bitrate \(kbit\/s\) must be a number/],
    [['a,fps=1001'], /--camera a: fps must be a number in \[1, 1000\]/],
    [['a,size=3'], /'size=3' is not one of codec=, fps=, bitrate=/],
    [['a,fps=1,fps=2'], /fps= is given twice/],
    [['a', 'a=rpicam:1'], /'a' is named twice/],
    [['a', 'b', 'c', 'd', 'e'], /5 cameras named; a device runs at most 4/],
    [['a=rpicam', 'b=rpicam:0'], /cameras a and b both capture from the Raspberry Pi camera 0 .*source "rpicam:1"/],
    [['a=v4l2', 'b=v4l2:/dev/video0:h264'], /cameras a and b both capture from the V4L2 device \/dev\/video0/],
  ];
  for (const [raws, message] of refused) {
    assert.throws(() => parseCameraFlags(raws), 'PROVISION_CAMERA_INVALID', raws.join(' '));
    assert.throws(() => parseCameraFlags(raws), message, raws.join(' '));
  }
});

test('--camera-url-file NAME=FILE: read and checked as flash checks it; required for a URL camera unless the bundle has it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-camera-urls-'));
  try {
    const cameras = parseCameraFlags(['gate=rtsp', 'door=mjpeg-http', 'front=rpicam']).map((f) => f.entry);
    writeFileSync(join(dir, 'gate.url'), 'rtsp://viewer:pw@192.0.2.7/s1\n');
    writeFileSync(join(dir, 'door.url'), 'http://192.0.2.8/video.mjpg\n');
    writeFileSync(join(dir, 'same.url'), 'rtsp://viewer:pw@192.0.2.7/s1\n');
    writeFileSync(join(dir, 'bad.url'), 'ftp://192.0.2.8/x\n');
    const urls = readCameraUrls([`gate=${join(dir, 'gate.url')}`, `door=${join(dir, 'door.url')}`], cameras, () => false);
    assert.equal(
      [...urls],
      [
        ['gate', 'rtsp://viewer:pw@192.0.2.7/s1'],
        ['door', 'http://192.0.2.8/video.mjpg'],
      ],
    );
    // door's URL is in the bundle already (an earlier run): not asked again.
    assert.equal([...readCameraUrls([`gate=${join(dir, 'gate.url')}`], cameras, (n) => n === 'door').keys()], ['gate']);
    assert.throws(
      () => readCameraUrls([`gate=${join(dir, 'gate.url')}`], cameras, () => false),
      /camera door is an mjpeg-http camera and its URL is not known: pass --camera-url-file door=FILE/,
    );
    assert.throws(() => readCameraUrls([`front=${join(dir, 'gate.url')}`], cameras, () => true), /camera front is not an rtsp or mjpeg-http camera/);
    assert.throws(() => readCameraUrls([`back=${join(dir, 'gate.url')}`], cameras, () => true), /no --camera back/);
    assert.throws(() => readCameraUrls([`gate=${join(dir, 'bad.url')}`], cameras, () => true), /not a rtsp:\/\/ or rtsps:\/\/ URL/);
    assert.throws(() => readCameraUrls([`gate=${join(dir, 'none.url')}`], cameras, () => true), 'CLI_INPUT_NOT_FOUND');
    const two = parseCameraFlags(['a=rtsp', 'b=rtsp']).map((f) => f.entry);
    assert.throws(
      () => readCameraUrls([`a=${join(dir, 'gate.url')}`, `b=${join(dir, 'same.url')}`], two, () => false),
      /cameras a and b both capture from the URL rtsp:\/\/\*\*\*@192\.0\.2\.7\/s1/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
