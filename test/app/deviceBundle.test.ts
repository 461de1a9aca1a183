// The device app started from a device bundle (docs/device-bundle.md) on the Node board, against the local
// cloud's IoT credentials provider and KVS: credentials over mTLS, the stream named after the thing; every
// malformed bundle refused with a named CONFIG_INVALID and exit CONFIG before anything is streamed.
import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { copyFileSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCbor } from '../../firmware/core/cbor/encodeCbor.ts';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import type { BundleSource } from '../../firmware/app/DeviceBundle.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { BOARDS_DIR } from '../../host/shared/loadBoardManifest.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { iotClient } from '../sim/cloud/iot/iotKit.ts';
import { provisionDevice, provisionFleetRole } from '../device/bundleKit.ts';
import { FIXTURES, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('device app from a device bundle (Node board, local IoT credentials provider and KVS)');
const tmp = tempDir('fieldcam-bundle-');
const BOARD = join(BOARDS_DIR, 'pi-zero-w.json');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
let cloud: RunningCloud;

type Rec = Record<string, unknown>;

async function run(source: BundleSource): Promise<{ code: number; records: Rec[] }> {
  const records: Rec[] = [];
  const board = nodeBoard({ print: (line) => records.push(JSON.parse(line) as Rec), onStop: () => {} });
  const code = await runDevice(board, source);
  return { code, records };
}

const notStatus = (records: Rec[]) => JSON.stringify(records.filter((r) => r.type !== 'status'));

test.before(async () => {
  // start the local cloud; provision the role, alias and policies
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  await provisionFleetRole(cloud);
});

test('a provisioned bundle: credentials from the provider, stream = thing name, every fragment PERSISTED', async () => {
  const { bundle } = await provisionDevice(cloud, tmp.dir, 'app-cam-1');
  const { code, records } = await run({ bundle, board: BOARD, cameraFd: openSync(GOP10, 'r') });
  assert.is(code, DEVICE_EXIT.OK, notStatus(records));
  const credentials = records.find((r) => r.event === 'credentials');
  assert.ok(credentials && /^\d{4}-\d\d-\d\dT/.test(String(credentials.expiration)), notStatus(records));
  assert.ok(!JSON.stringify(records).includes('secretAccessKey'), 'no secret printed');
  const summary = records.find((r) => r.type === 'summary')!;
  assert.equal([summary.framesIn, summary.fragmentsIn, summary.fragmentsPersisted, summary.framesDropped], [100, 10, 10, 0]);
  const stored = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get('app-cam-1')!).list();
  assert.is(new Set(stored.map((f) => f.producerTimestampMs)).size, 10);
});

test('a revoked certificate → IOT_CERTIFICATE_REFUSED, exit UPLOAD, no stream created', async () => {
  const { bundle, cert } = await provisionDevice(cloud, tmp.dir, 'app-cam-revoked');
  await iotClient(cloud).send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'REVOKED' }));
  const { code, records } = await run({ bundle, board: BOARD, cameraFd: openSync(GOP10, 'r') });
  assert.is(code, DEVICE_EXIT.UPLOAD, notStatus(records));
  const error = records.find((r) => r.type === 'error');
  assert.is(error?.code, 'IOT_CERTIFICATE_REFUSED', notStatus(records));
  assert.ok(/revoked/.test(String(error?.remedy)));
  assert.is(cloud.ctx.streams.get('app-cam-revoked'), undefined);
});

test('bundle problems: named CONFIG_INVALID, exit CONFIG, nothing streamed', async () => {
  const { bundle } = await provisionDevice(cloud, tmp.dir, 'app-cam-bad');
  const good = join(tmp.dir, 'good-device.cbor');
  copyFileSync(join(bundle, 'device.cbor'), good);
  const base = {
    version: 1,
    thingName: 'app-cam-bad',
    region: 'us-east-1',
    roleAlias: 'FieldcamDeviceAlias',
    endpoints: { credentialProvider: '127.0.0.1:1', kinesisVideo: cloud.endpoint },
  };
  const cbor = (value: unknown) => {
    const out = new Uint8Array(4096);
    return out.slice(0, encodeCbor(value, out));
  };
  const cases: [Uint8Array | undefined, RegExp][] = [
    [cbor({ ...base, version: 2 }), /version must be 1/],
    [cbor({ ...base, thingname: 'typo' }), /unknown key thingname/],
    [cbor({ ...base, endpoints: { ...base.endpoints, mqtt: 'x' } }), /unknown key endpoints\.mqtt/],
    [cbor({ ...base, camera: { codec: 'vp9' } }), /camera\.codec/],
    [cbor({ ...base, thingName: 'bad thing' }), /thingName/],
    [cbor({ ...base, endpoints: { ...base.endpoints, kinesisVideo: 'http://127.0.0.1:1' } }), /kinesisVideo/],
    [cbor({ ...base, roleAlias: undefined }), /roleAlias/],
    [cbor([1, 2]), /an object/],
    [new Uint8Array([0xa1, 0x61]), /not a valid CBOR document \(CBOR_TRUNCATED/],
    [undefined, /cannot read .*device\.cbor/],
  ];
  for (const [bytes, message] of cases) {
    if (bytes) writeFileSync(join(bundle, 'device.cbor'), bytes);
    else rmSync(join(bundle, 'device.cbor'));
    const { code, records } = await run({ bundle, board: BOARD, cameraFd: 0 });
    assert.is(code, DEVICE_EXIT.CONFIG, String(message));
    assert.is(records.length, 1, JSON.stringify(records));
    assert.is(records[0]!.code, 'CONFIG_INVALID');
    assert.ok(message.test(String(records[0]!.message)), `${String(message)}: ${String(records[0]!.message)}`);
  }
  copyFileSync(good, join(bundle, 'device.cbor'));
  writeFileSync(join(bundle, 'private.key'), 'not a key');
  const badKey = await run({ bundle, board: BOARD, cameraFd: 0 });
  assert.is(badKey.code, DEVICE_EXIT.CONFIG);
  assert.ok(/private\.key is not a PEM private key/.test(String(badKey.records[0]!.message)), JSON.stringify(badKey.records));
  const noBoard = await run({ bundle, board: join(tmp.dir, 'missing-board.json'), cameraFd: 0 });
  assert.is(noBoard.code, DEVICE_EXIT.CONFIG);
  assert.ok(/missing-board\.json/.test(String(noBoard.records[0]!.message)));
  mkdirSync(join(tmp.dir, 'empty'), { recursive: true });
  const empty = await run({ bundle: join(tmp.dir, 'empty'), board: BOARD, cameraFd: 0 });
  assert.is(empty.code, DEVICE_EXIT.CONFIG);
  assert.is(cloud.ctx.streams.get('app-cam-bad'), undefined);
});

test.after(async () => {
  // stop the local cloud
  await cloud.close();
  tmp.remove();
});

test.run();
