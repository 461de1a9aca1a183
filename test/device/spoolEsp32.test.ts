// Issue 15's proof for the esp32-cam profile: the spool works with a small flash budget within the 162 KiB app heap.
// The esp32-cam image (MJPEG, the 32-bit ARM build under `qemu-arm -cpu arm1176`, its runtime heap limit and app
// heap budget enforced) with its manifest's own pool (8 s) and spool (1 MiB cap, 512 KiB records, a 64 KiB read
// buffer beside the pool, outside the JS heap), time-scaled. It boots with no network for 12 device-seconds — longer
// than its RAM pool — then the cloud comes. Judged from what the local cloud stored (fragment records, GetMedia,
// ffmpeg), the spool folder, and the device's own heap figures (peak − the heap when the app took its budget).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest, type BoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { decodedFrameCount, FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia, storedFragments } from './storedMedia.ts';
import { offlineFromBoot } from './offlineFromBoot.ts';

const test = suite('esp32-cam under QEMU, time-scaled: a 12-s outage from boot through its 1 MiB spool, within the 162 KiB app heap');
const tmp = tempDir('fieldcam-spool-esp32-');
const SCALE = 4;
const FIXTURE = readFileSync(join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg')); // 30 JPEGs, 10 fps
const LOOPS = 6; // 18 s, 180 frames
const OUTAGE_S = 12;
let image: ImageManifest;
let manifest: BoardManifest;

test.after(() => tmp.remove());

test('build the esp32-cam image: its manifest has a small spool', async () => {
  manifest = loadBoardManifest('esp32-cam');
  assert.equal(manifest.spool, { maxBytes: 1 << 20, minFreeBytes: 64 << 10, drainKbps: 4000, maxRecordBytes: 512 << 10 });
  image = await buildImage(manifest, { typecheck: false });
});

test('an outage longer than the RAM pool from boot: every frame stored once, in order; the spool empties; app heap within budget', async () => {
  const name = 'spool-esp32';
  const stateDir = join(tmp.dir, 'cloud');
  const origin = Date.now();
  const cloudConfig = { timeScale: SCALE, timeOrigin: origin };
  let cloud: RunningCloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes], config: cloudConfig });
  const port = Number(new URL(cloud.endpoint).port);
  const caFile = cloud.caFile;
  await cloud.close(); // the device boots with nothing to talk to
  const spoolDir = join(tmp.dir, 'spool');
  const configPath = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(configPath, {
    board: manifest,
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: '127.0.0.1', port, caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'mjpeg',
    fps: { num: 10, den: 1 },
    live: true,
    recorded: true,
    createRetentionHours: 24,
    statusIntervalMs: 500,
    spool: { dir: spoolDir }, // the manifest's budget
  });
  const camera = join(tmp.dir, `${name}.mjpeg`);
  writeFileSync(camera, Buffer.concat(Array.from({ length: LOOPS }, () => FIXTURE)));
  const records: Record<string, unknown>[] = [];
  const board = bootBoard({
    image: {
      dir: imageDir('esp32-cam'),
      qemuCpu: image.qemuCpu!,
      runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)],
    },
    config: configPath,
    video: camera,
    loop: false,
    cwd: ROOT,
    bytesPerSecond: FIXTURE.length / 3,
    rate: SCALE,
    onRecord: (r) => records.push(r),
  });
  const guard = setTimeout(() => board.child.kill('SIGKILL'), 180_000);
  try {
    const held = await offlineFromBoot(records, OUTAGE_S, SCALE);
    cloud = await startCloud({ stateDir, port, routes: [...mediaRoutes], config: cloudConfig });
    const { code, stderr } = await board.exited;
    clearTimeout(guard);
    const s = records.find((r) => r.type === 'summary') ?? {};
    assert.is(code, 0, `${stderr}\n${JSON.stringify(s)}`);
    const app = Number(s.peakHeapBytes) - Number(s.baselineHeapBytes);
    const budget = manifest.memory.appHeapBudgetBytes!;
    process.stdout.write(
      `\n# during the outage: ${JSON.stringify({ spoolFragments: held.spoolFragments, spoolBytes: held.spoolBytes, poolSlotsInUse: held.poolSlotsInUse })}` +
        `\n# app heap peak ${app} B of ${budget} B; runtime heap peak ${String(s.peakHeapBytes)} B of ${image.sizes.heapLimitBytes} B; summary: ${JSON.stringify(s)}\n`,
    );
    assert.ok(Number(held.spoolFragments) >= 8, `the outage went to the spool: ${JSON.stringify(held)}`);
    assert.ok(Number(held.spoolBytes) <= manifest.spool!.maxBytes, 'within its 1 MiB');
    assert.is(s.framesIn, LOOPS * 30);
    assert.is(s.framesDropped, 0, `nothing dropped: ${JSON.stringify(s.drops)}`);
    assert.is(s.spoolFragments, 0, 'the spool is empty');
    assert.equal(
      readdirSync(spoolDir).filter((n) => n.endsWith('.seg')),
      [],
      'its segment files are gone',
    );
    assert.ok(Number(s.baselineHeapBytes) > 0 && app > 0 && app <= budget, `app heap ${app} B within ${budget} B`);
    assert.ok(Number(s.peakHeapBytes) <= image.sizes.heapLimitBytes, 'within the runtime heap limit');
    const stamps = storedFragments(cloud, name).map((f) => f.producerTimestampMs);
    assert.is(new Set(stamps).size, stamps.length, 'no fragment stored twice');
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, `in order: ${stamps[i - 1]} then ${stamps[i]}`);
    assert.is(decodedFrameCount(await getMedia(cloud, name, tmp.dir)), LOOPS * 30, 'GetMedia decodes to every frame fed');
  } finally {
    clearTimeout(guard);
    await cloud.close();
  }
});

test.run();
