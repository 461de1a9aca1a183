// Several cameras per device (issue 18), the configuration: the `cameras` list of the JSON configuration and of
// device.cbor (docs/device-bundle.md) read strictly — every refusal a CONFIG_INVALID naming its key — each camera's
// stream `<thing>-<camera>` (iotNames cameraStreamName), fd 3 + i from a bundle, and the device's pool budget
// checked before anything is allocated, the refusal naming the numbers.
import { cameraConfigs } from '../../firmware/app/cameraConfigs.ts';
import { join } from 'node:path';
import { loadDeviceBundle, readDeviceDocument, type DocumentBoard } from '../../firmware/app/DeviceBundle.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { writeDeviceBundle } from '../../sim/board/writeDeviceBundle.ts';
import { encodeDeviceConfig } from '../../host/lib/writeBundle.ts';
import { tempDir } from '../e2e/tools.ts';
import { parseDeviceBoard, parseDeviceConfig } from '../../firmware/app/DeviceConfig.ts';
import { planPools } from '../../firmware/app/poolBudget.ts';
import { encodeCbor } from '../../firmware/core/cbor/encodeCbor.ts';
import { derivePoolSizing } from '../../firmware/core/config/derivePoolSizing.ts';
import { isFieldcamError } from '../../firmware/core/errors.ts';
import { MAX_CAMERAS } from '../../firmware/core/iot/iotNames.ts';
import { BOARDS_DIR, loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('several cameras per device: the cameras list, stream names, fds and the pool budget');

type Json = Record<string, unknown>;

function jsonConfig(board: string, extra: Json): Json {
  const m = loadBoardManifest(board);
  return {
    version: 1,
    board: { name: m.name, pool: m.pool, stream: m.stream, ...(m.memory.poolBudgetBytes !== undefined ? { poolBudgetBytes: m.memory.poolBudgetBytes } : {}) },
    stream: { name: 'yard', region: 'us-east-1' },
    endpoint: { host: '127.0.0.1', port: 4590, caFile: '/ca.pem' },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    ...extra,
  };
}

const CAMERAS = [
  { name: 'gate', fd: 3, codec: 'h264', live: true },
  { name: 'barn', fd: 4, codec: 'h265', live: true },
  { name: 'door', fd: 5, codec: 'mjpeg', live: true, fps: { num: 10, den: 1 } },
];

function refused(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (err) {
    assert.ok(isFieldcamError(err) && err.code === 'CONFIG_INVALID', String(err));
    assert.ok(message.test((err as Error).message), (err as Error).message);
    return;
  }
  assert.ok(false, `accepted; expected ${String(message)}`);
}

test('JSON config: three cameras, each its own configuration, stream <device>-<camera>, pool and fd', () => {
  const config = parseDeviceConfig(JSON.stringify(jsonConfig('pi-zero-w', { cameras: CAMERAS })));
  const cams = cameraConfigs(config);
  assert.equal(
    cams.map((c) => [c.cameraName, c.stream.name, c.camera.fd, c.camera.codec]),
    [
      ['gate', 'yard-gate', 3, 'h264'],
      ['barn', 'yard-barn', 4, 'h265'],
      ['door', 'yard-door', 5, 'mjpeg'],
    ],
  );
  // The MJPEG camera's frame rate sizes its frame records; the others keep the board's.
  assert.equal(
    cams.map((c) => c.board.pool.fps),
    [15, 15, 10],
  );
  const plan = planPools(config.board, cams);
  const one = derivePoolSizing(config.board.pool);
  assert.is(plan.pools[0]!.bytes, one.slotCount * one.slotBytes);
  assert.equal(
    plan.pools.map((p) => p.offset),
    [0, plan.pools[0]!.bytes, plan.pools[0]!.bytes + plan.pools[1]!.bytes],
  );
  assert.is(plan.totalBytes, 3 * one.slotCount * one.slotBytes);
  assert.is(plan.budgetBytes, 40 * 1024 * 1024);
  // One camera: the device's own configuration, unchanged.
  const single = parseDeviceConfig(JSON.stringify(jsonConfig('pi-zero-w', { camera: { fd: 0, codec: 'h264', live: true } })));
  assert.equal(cameraConfigs(single), [single]);
});

test('JSON config refusals name the key', () => {
  const parse = (extra: Json) => () => parseDeviceConfig(JSON.stringify(jsonConfig('pi-zero-w', extra)));
  refused(parse({ cameras: CAMERAS, camera: { fd: 0, codec: 'h264', live: true } }), /camera and cameras exclude each other/);
  refused(parse({ cameras: [] }), new RegExp(`cameras must be a list of 1 to ${MAX_CAMERAS}`));
  refused(parse({ cameras: Array.from({ length: MAX_CAMERAS + 1 }, (_, i) => ({ ...CAMERAS[0], name: `c${i}` })) }), /cameras must be a list of 1 to 4/);
  refused(parse({ cameras: [CAMERAS[0], { ...CAMERAS[1], name: 'gate' }] }), /cameras\[1\]\.name "gate" is used twice/);
  refused(parse({ cameras: [{ ...CAMERAS[0], name: 'Gate' }] }), /cameras\[0\]\.name must be a string matching/);
  refused(parse({ cameras: [{ ...CAMERAS[0], zoom: 2 }] }), /unknown key cameras\[0\]\.zoom/);
  refused(parse({ cameras: [{ ...CAMERAS[0], codec: 'vp8' }] }), /cameras\[0\]\.codec must be/);
  refused(parse({ cameras: [{ ...CAMERAS[0], fd: 3.5 }] }), /cameras\[0\]\.fd must be an integer/);
  refused(parse({ cameras: 'gate' }), /cameras must be a list/);
});

test("the pool budget: refused at boot naming each camera's bytes, the total and the board's budget", () => {
  // pi-zero-w: 40 MiB for every pool; four cameras at 2000 kbit/s each need 4 × 18.5 MiB.
  const config = parseDeviceConfig(
    JSON.stringify(
      jsonConfig('pi-zero-w', {
        cameras: ['a', 'b', 'c', 'd'].map((name, i) => ({ name, fd: 3 + i, codec: 'h264', live: true, bitrateKbps: 2000 })),
      }),
    ),
  );
  const cams = cameraConfigs(config);
  const each = derivePoolSizing({ ...config.board.pool, bitrateKbps: 2000 });
  const bytes = each.slotCount * each.slotBytes;
  refused(
    () => planPools(config.board, cams),
    new RegExp(
      `need ${4 * bytes} bytes \\(a ${bytes}, b ${bytes}, c ${bytes}, d ${bytes}\\); board pi-zero-w allows ${40 * 1024 * 1024} \\(memory.poolBudgetBytes\\)`,
    ),
  );
  // Four at the board's own bitrate fit (the manifests' budget is four cameras' pools and some).
  const fits = parseDeviceConfig(
    JSON.stringify(jsonConfig('pi-zero-w', { cameras: ['a', 'b', 'c', 'd'].map((name, i) => ({ name, fd: 3 + i, codec: 'h264', live: true })) })),
  );
  assert.is(planPools(fits.board, cameraConfigs(fits)).pools.length, 4);
  // A board that states no budget (esp32-cam) runs one camera: two are refused, saying so.
  const esp = parseDeviceConfig(
    JSON.stringify(
      jsonConfig('esp32-cam', {
        cameras: [
          { name: 'a', fd: 3, codec: 'mjpeg', live: true },
          { name: 'b', fd: 4, codec: 'mjpeg', live: true },
        ],
      }),
    ),
  );
  refused(() => planPools(esp.board, cameraConfigs(esp)), /board esp32-cam allows \d+ \(memory.poolBudgetBytes, absent: one camera's pool\)/);
  assert.is(planPools(esp.board, cameraConfigs(esp).slice(0, 1)).pools.length, 1);
});

function documentBoard(name: string): DocumentBoard {
  const m = loadBoardManifest(name);
  const board = parseDeviceBoard(m as unknown as Json, 'board', undefined, m.memory.poolBudgetBytes);
  return { codec: m.camera.codec, fps: () => m.camera.fps, fragmentMs: m.stream.fragmentMs, maxFragmentMs: m.stream.maxFragmentMs, name, pool: board };
}

function document(extra: Json): Uint8Array {
  const scratch = new Uint8Array(4096);
  const n = encodeCbor(
    {
      version: 1,
      thingName: 'farm-7',
      region: 'us-east-1',
      roleAlias: 'FieldcamDeviceAlias',
      endpoints: { credentialProvider: 'c.example.com', kinesisVideo: 'https://kvs.example.com' },
      ...extra,
    },
    scratch,
  );
  return scratch.slice(0, n);
}

test("device.cbor: cameras read with the board's defaults; streams <thing>-<camera>; camera and streamName refused beside it", () => {
  const board = documentBoard('pi-zero-w');
  const doc = readDeviceDocument(
    document({
      cameras: [
        { name: 'gate', source: 'v4l2:/dev/video1' },
        { name: 'barn', codec: 'h265', source: { kind: 'rtsp' } },
        { name: 'door', codec: 'mjpeg' },
      ],
    }),
    'device.cbor',
    board,
  );
  assert.equal(
    doc.cameras!.map((c) => [c.name, c.streamName, c.codec, c.fps]),
    [
      ['gate', 'farm-7-gate', 'h264', undefined],
      ['barn', 'farm-7-barn', 'h265', undefined],
      ['door', 'farm-7-door', 'mjpeg', 15],
    ],
  );
  const read = (extra: Json) => () => readDeviceDocument(document(extra), 'device.cbor', board);
  refused(read({ cameras: [{ name: 'gate' }], camera: { codec: 'h264' } }), /device.cbor: camera must be absent when cameras is given/);
  refused(read({ cameras: [{ name: 'gate' }], streamName: 'farm-7' }), /device.cbor: streamName must be absent when cameras is given/);
  refused(read({ cameras: [{ name: 'gate', width: 640 }] }), /unknown key cameras\[0\]\.width/);
  refused(read({ cameras: [{ name: 'gate' }, { name: 'gate' }] }), /cameras\[1\]\.name "gate" is used twice/);
  refused(read({ cameras: [{ name: 'gate', source: 7 }] }), /cameras\[0\]\.source must be an object/);
  // A camera's own bitrate sizes its pool (the board's bitrate × seconds otherwise); out of range is refused by this reader.
  assert.equal(
    readDeviceDocument(document({ cameras: [{ name: 'gate', bitrateKbps: 500 }, { name: 'barn' }] }), 'device.cbor', board).cameras!.map(
      (c) => c.pool.bitrateKbps,
    ),
    [500, 1000],
  );
  refused(read({ cameras: [{ name: 'gate', bitrateKbps: 0 }] }), /cameras\[0\]\.bitrateKbps must be a number in \[1, 1000000\]/);
  refused(read({ cameras: [{ name: 'gate', bitrateKbps: '2M' }] }), /cameras\[0\]\.bitrateKbps must be a number/);
  // A thing name that is no stream name (':' is allowed in things, not in streams) cannot name camera streams.
  refused(
    () => readDeviceDocument(document({ thingName: 'farm:7', cameras: [{ name: 'gate' }] }), 'device.cbor', board),
    /cameras\[0\]\.name must be a name that makes "farm:7-gate" a KVS stream name/,
  );
  // What provision writes (host/lib/writeBundle.ts) is what the device reads.
  const provisioned = encodeDeviceConfig({
    version: 1,
    thingName: 'farm-7',
    region: 'us-east-1',
    roleAlias: 'FieldcamDeviceAlias',
    endpoints: { credentialProvider: 'c.example.com', iotData: 'd.example.com', kinesisVideo: 'https://kvs.example.com' },
    cameras: [{ name: 'gate' }, { name: 'barn', codec: 'h265', fps: 25, source: 'v4l2:/dev/video1' }],
  });
  assert.equal(
    readDeviceDocument(provisioned, 'device.cbor', board).cameras!.map((c) => [c.streamName, c.codec, c.fps]),
    [
      ['farm-7-gate', 'h264', undefined],
      ['farm-7-barn', 'h265', 25],
    ],
  );
  // Without cameras, nothing changed: the thing's stream, the camera map.
  const single = readDeviceDocument(document({ camera: { codec: 'h265' } }), 'device.cbor', board);
  assert.equal([single.streamName, single.codec, single.cameras], ['farm-7', 'h265', undefined]);
});

test("a bundle with cameras: camera i on fd 3 + i, live, the thing's streams; the pools checked against the manifest", () => {
  const tmp = tempDir('fieldcam-multicam-bundle-');
  try {
    const pem = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
    const bundle = writeDeviceBundle(join(tmp.dir, 'farm-7'), {
      device: {
        version: 1,
        thingName: 'farm-7',
        region: 'us-east-1',
        roleAlias: 'FieldcamDeviceAlias',
        endpoints: { credentialProvider: 'c.example.com', kinesisVideo: 'https://kvs.example.com' },
        cameras: [{ name: 'gate' }, { name: 'barn', codec: 'h265', bitrateKbps: 500 }, { name: 'door', codec: 'mjpeg', fps: 5 }],
      },
      certificatePem: pem('CERTIFICATE'),
      privateKeyPem: pem('PRIVATE KEY'),
      caPem: pem('CERTIFICATE'),
    });
    const config = loadDeviceBundle(nodeBoard({ print: () => {} }), { bundle, board: join(BOARDS_DIR, 'pi-zero-w.json'), recorded: true });
    const cams = cameraConfigs(config);
    assert.equal(
      cams.map((c) => [c.cameraName, c.stream.name, c.camera.fd, c.camera.codec, c.camera.live, c.camera.recorded, c.camera.fps?.num]),
      [
        ['gate', 'farm-7-gate', 3, 'h264', true, true, undefined],
        ['barn', 'farm-7-barn', 4, 'h265', true, true, undefined],
        ['door', 'farm-7-door', 5, 'mjpeg', true, true, 5],
      ],
    );
    assert.equal(
      cams.map((c) => [c.board.pool.bitrateKbps, c.board.pool.fps]),
      [
        [1000, 15],
        [500, 15],
        [1000, 5],
      ],
    );
    const plan = planPools(config.board, cams);
    assert.is(plan.budgetBytes, 40 * 1024 * 1024, "the manifest's memory.poolBudgetBytes");
    assert.is(plan.pools[2]!.bytes, plan.pools[0]!.bytes, "pools from the board's bitrate");
    assert.ok(plan.pools[1]!.bytes < plan.pools[0]!.bytes * 0.6, `barn's pool from its 500 kbit/s: ${plan.pools[1]!.bytes} of ${plan.pools[0]!.bytes}`);
    // Bitrates over the budget: refused before anything is allocated, naming every camera's bytes and the budget.
    const big = writeDeviceBundle(join(tmp.dir, 'farm-8'), {
      device: {
        version: 1,
        thingName: 'farm-8',
        region: 'us-east-1',
        roleAlias: 'FieldcamDeviceAlias',
        endpoints: { credentialProvider: 'c.example.com', kinesisVideo: 'https://kvs.example.com' },
        cameras: ['a', 'b', 'c'].map((name) => ({ name, bitrateKbps: 3000 })),
      },
      certificatePem: pem('CERTIFICATE'),
      privateKeyPem: pem('PRIVATE KEY'),
      caPem: pem('CERTIFICATE'),
    });
    const over = loadDeviceBundle(nodeBoard({ print: () => {} }), { bundle: big, board: join(BOARDS_DIR, 'pi-zero-w.json') });
    refused(
      () => planPools(over.board, cameraConfigs(over)),
      /frame pools of 3 camera\(s\) need \d+ bytes \(a \d+, b \d+, c \d+\); board pi-zero-w allows 41943040/,
    );
    // flash takes such a bundle (one capture per camera on fds 3..): test/host/flash/multiCameraRun.test.ts.
  } finally {
    tmp.remove();
  }
});

test.run();
