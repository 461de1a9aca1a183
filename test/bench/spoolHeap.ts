// The JS heap a camera's spool takes on a board, measured on the device: the board's image booted twice under
// QEMU (time-scaled) with the manifest's own pool and spool budget, once with a spool and once without, and the heap
// of each boot line and summary compared. The camera is the board's codec: the 10-s H.264 reference fixture, or the
// 3-s MJPEG fixture looped to 9 s (esp32-cam). The first 3 device-seconds have no network, so the spool takes the
// first fragments and drains them (its read path runs). Prints one JSON line per run; `appHeapBytes` (peak − the
// heap when the app took its budget) where the board has an app heap budget.
//   nice node --import tsx test/bench/spoolHeap.ts [board]      (default pi-zero-w)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';

const name = process.argv[2] ?? 'pi-zero-w';
const SCALE = 4;
const manifest = loadBoardManifest(name);
const image = await buildImage(manifest, { typecheck: false });
const tmp = tempDir('fieldcam-spool-heap-');
const origin = Date.now();
const cloudConfig = { stateDir: join(tmp.dir, 'cloud'), routes: [...mediaRoutes], config: { timeScale: SCALE, timeOrigin: origin } };
let cloud = await startCloud({ ...cloudConfig, port: 0 });
const port = Number(new URL(cloud.endpoint).port);
const mjpeg = manifest.camera?.codec === 'mjpeg';
const video = join(tmp.dir, mjpeg ? 'camera.mjpeg' : 'camera.h264');
const fixture = readFileSync(join(FIXTURES, mjpeg ? 'mjpeg-320x240-10fps.mjpeg' : 'h264-320x240-10fps-gop10.h264'));
writeFileSync(video, mjpeg ? Buffer.concat([fixture, fixture, fixture]) : fixture);
const seconds = mjpeg ? 9 : 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  for (const spool of [false, true]) {
    const config = join(tmp.dir, `${spool}.json`);
    writeDeviceConfig(config, {
      board: manifest,
      streamName: `heap-${spool}`,
      region: 'us-east-1',
      endpoint: { host: '127.0.0.1', port, caFile: cloud.caFile },
      credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
      codec: mjpeg ? 'mjpeg' : 'h264',
      ...(mjpeg ? { fps: { num: 10, den: 1 } } : {}),
      live: true,
      recorded: true,
      createRetentionHours: 24,
      statusIntervalMs: 1000,
      ...(spool ? { spool: { dir: join(tmp.dir, 'spool') } } : {}),
    });
    const records: Record<string, unknown>[] = [];
    await cloud.close(); // no network for the first 3 device-seconds
    const board = bootBoard({
      image: {
        dir: imageDir(name),
        ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
        runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)],
      },
      config,
      video,
      loop: false,
      cwd: ROOT,
      bytesPerSecond: readFileSync(video).length / seconds,
      rate: SCALE,
      onRecord: (r) => records.push(r),
    });
    await sleep(3000 / SCALE);
    cloud = await startCloud({ ...cloudConfig, port });
    const { code } = await board.exited;
    const boot = records.find((r) => r.type === 'boot') ?? {};
    const summary = records.find((r) => r.type === 'summary') ?? {};
    process.stdout.write(
      `${JSON.stringify({
        board: name,
        spool,
        code,
        bootHeapBytes: boot.heapBytes,
        peakHeapBytes: summary.peakHeapBytes,
        ...(Number(summary.baselineHeapBytes) > 0 ? { appHeapBytes: Number(summary.peakHeapBytes) - Number(summary.baselineHeapBytes) } : {}),
        // What the engine had in use at its peak (the heap figures above count whole blocks it took from the system).
        peakChunkBytes: summary.peakHeapChunkBytes,
        peakSlotBytes: summary.peakHeapSlotBytes,
        framesIn: summary.framesIn,
        framesDropped: summary.framesDropped,
        spoolFragmentsSpooled: summary.spoolFragmentsSpooled,
        spoolBudget: spool ? manifest.spool : null,
      })}\n`,
    );
  }
} finally {
  await cloud.close();
  tmp.remove();
}
