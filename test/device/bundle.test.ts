// A provisioned device: the pi-zero-w image under `qemu-arm -cpu arm1176` started with a device bundle
// (--bundle DIR --board board.json) against the local cloud. Provisioning is done with the unmodified AWS SDK
// clients; the firmware gets temporary credentials from the IoT credentials provider over mTLS (mbedTLS with
// the device certificate) and streams to the thing's stream. Judged from stored fragments and GetMedia.
import { UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { iotClient } from '../sim/cloud/iot/iotKit.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { distinctTimestamps, getMedia } from './storedMedia.ts';
import { provisionDevice, provisionFleetRole } from './bundleKit.ts';

const test = suite('provisioned device: pi-zero-w image under qemu-arm with a device bundle (IoT credentials over mTLS)');
const tmp = tempDir('fieldcam-bundle-image-');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const BOARD = 'pi-zero-w';
let image: ImageManifest;
let cloud: RunningCloud;

type Rec = Record<string, unknown>;

function boot(bundle: string, onRecord: (r: Rec) => void = () => {}): Promise<{ code: number; stderr: string; records: Rec[] }> {
  const records: Rec[] = [];
  const booted = bootBoard({
    image: { dir: imageDir(BOARD), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) },
    config: { bundle },
    video: GOP10,
    loop: false,
    bytesPerSecond: 0,
    cwd: ROOT,
    onRecord: (r) => {
      records.push(r);
      onRecord(r);
    },
  });
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 240_000);
  return booted.exited.then(({ code, stderr }) => {
    clearTimeout(guard);
    return { code, stderr, records };
  });
}

const notStatus = (records: Rec[]) => JSON.stringify(records.filter((r) => r.type !== 'status'));

test.before(async () => {
  // build the pi-zero-w image; start the local cloud; provision the role, alias and policies with the SDK
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  assert.is(image.qemuCpu, 'arm1176');
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  await provisionFleetRole(cloud);
});

test("credentials over mTLS, the thing's stream created, every fragment PERSISTED, GetMedia decodes all 100 frames", async () => {
  const { bundle } = await provisionDevice(cloud, tmp.dir, 'pi-cam-1');
  const { code, stderr, records } = await boot(bundle);
  assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${notStatus(records)}`);
  assert.ok(
    records.some((r) => r.event === 'credentials'),
    'credentials event',
  );
  const s = records.find((r) => r.type === 'summary')!;
  assert.equal([s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped], [100, 10, 10, 0]);
  const ts = distinctTimestamps(cloud, 'pi-cam-1');
  assert.is(ts.length, 10);
  const out = await getMedia(cloud, 'pi-cam-1', tmp.dir);
  assert.is(decodeErrors(out), '');
  assert.is(decodedFrameCount(out), 100);
});

test('streamName ≠ thingName: KVS refuses (AccessDeniedException) → UPLOAD_AUTH_FAILED, not retried, exit UPLOAD', async () => {
  const { bundle } = await provisionDevice(cloud, tmp.dir, 'pi-cam-2', { streamName: 'someone-elses-stream' });
  const { code, records } = await boot(bundle);
  assert.is(code, DEVICE_EXIT.UPLOAD, notStatus(records));
  const error = records.find((r) => r.type === 'error');
  assert.is(error?.code, 'UPLOAD_AUTH_FAILED', notStatus(records));
  assert.ok(/AccessDeniedException/.test(String(error?.message)), String(error?.message));
  assert.ok(
    records.some((r) => r.event === 'credentials'),
    'the credentials themselves were issued',
  );
  assert.is(cloud.ctx.streams.get('someone-elses-stream'), undefined);
});

test('a revoked certificate → IOT_CERTIFICATE_REFUSED, exit UPLOAD, nothing streamed', async () => {
  const { bundle, cert } = await provisionDevice(cloud, tmp.dir, 'pi-cam-3');
  await iotClient(cloud).send(new UpdateCertificateCommand({ certificateId: cert.certificateId, newStatus: 'REVOKED' }));
  const { code, records } = await boot(bundle);
  assert.is(code, DEVICE_EXIT.UPLOAD, notStatus(records));
  assert.is(records.find((r) => r.type === 'error')?.code, 'IOT_CERTIFICATE_REFUSED', notStatus(records));
  assert.is(cloud.ctx.streams.get('pi-cam-3'), undefined);
});

test('credentials provider down at boot, then restored: frames are buffered, then everything is uploaded', async () => {
  const { bundle } = await provisionDevice(cloud, tmp.dir, 'pi-cam-4');
  cloud.ctx.faults.credentialsDown = true;
  let restore: ReturnType<typeof setTimeout> | undefined;
  let retries = 0;
  try {
    const { code, stderr, records } = await boot(bundle, (r) => {
      if (r.event !== 'credentials-retry') return;
      retries++;
      // Down for a few seconds after the first refusal (503), as a provider outage at boot looks.
      restore ??= setTimeout(() => (cloud.ctx.faults.credentialsDown = undefined), 4000);
    });
    assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${notStatus(records)}`);
    assert.ok(retries >= 1, 'the device retried the provider');
    const retry = records.find((r) => r.event === 'credentials-retry')!;
    assert.is(retry.code, 'IOT_PROVIDER_UNAVAILABLE');
    assert.ok(
      records.some((r) => r.event === 'retry' && r.code === 'UPLOAD_NO_CREDENTIALS'),
      'the session waited for credentials',
    );
    const s = records.find((r) => r.type === 'summary')!;
    assert.equal([s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped], [100, 10, 10, 0]);
  } finally {
    if (restore) clearTimeout(restore);
    cloud.ctx.faults.credentialsDown = undefined;
  }
  assert.is(distinctTimestamps(cloud, 'pi-cam-4').length, 10, 'no frame lost');
  assert.is(decodedFrameCount(await getMedia(cloud, 'pi-cam-4', tmp.dir)), 100);
});

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test.run();
