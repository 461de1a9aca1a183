// The JS heap of a device with N cameras on a board, measured on the device: the board's image booted under QEMU
// (time-scaled) with 1..4 H.264 cameras fed the 10-s reference fixture, the manifest's pool, no spool; each run's
// boot line (heap held once every camera is built) and summary (peak while streaming) printed as one JSON line,
// with the boot check's estimate (firmware/app/heapBudget.ts) beside them.
//   nice node --import tsx test/bench/cameraHeapBoot.ts [board] [counts] [spool]   (default pi-zero-w 1,2,4; `spool`: the
//   manifest's spool, one folder per camera, as a flashed board has it)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';

const name = process.argv[2] ?? 'pi-zero-w';
const counts = (process.argv[3] ?? '1,2,4').split(',').map(Number);
const spool = process.argv[4] === 'spool';
const SCALE = 4;
const manifest = loadBoardManifest(name);
const image = await buildImage(manifest, { typecheck: false });
const tmp = tempDir('fieldcam-camera-heap-');
const origin = Date.now();
const cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes], config: { timeScale: SCALE, timeOrigin: origin } });
const video = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const rate = readFileSync(video).length / 10;
try {
  for (const n of counts) {
    const config = join(tmp.dir, `${n}.json`);
    writeDeviceConfig(config, {
      board: manifest,
      streamName: `heap-${n}`,
      region: 'us-east-1',
      endpoint: { host: '127.0.0.1', port: Number(new URL(cloud.endpoint).port), caFile: cloud.caFile },
      credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
      codec: 'h264',
      live: true,
      recorded: true,
      createRetentionHours: 24,
      statusIntervalMs: 1000,
      cameras: Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, codec: 'h264' as const })),
      ...(spool ? { spool: { dir: join(tmp.dir, `spool-${n}`) } } : {}),
    });
    const records: Record<string, unknown>[] = [];
    const board = bootBoard({
      image: {
        dir: imageDir(name),
        ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
        ...(image.qemu ? { qemu: image.qemu } : {}),
        runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)],
      },
      config,
      video,
      cameras: Array.from({ length: n }, () => ({ video, bytesPerSecond: rate })),
      loop: false,
      cwd: ROOT,
      bytesPerSecond: rate,
      rate: SCALE,
      onRecord: (r) => records.push(r),
    });
    const { code, stderr } = await board.exited;
    const boot = records.find((r) => r.type === 'boot') ?? {};
    const summary = records.find((r) => r.type === 'summary') ?? {};
    const peak = Math.max(...records.filter((r) => typeof r.peakHeapBytes === 'number').map((r) => r.peakHeapBytes as number));
    process.stdout.write(
      `${JSON.stringify({ board: name, cameras: n, spool, code, heapAtCheckBytes: boot.heapAtCheckBytes, heapEstimateBytes: boot.heapEstimateBytes, bootHeapBytes: boot.heapBytes, peakHeapBytes: peak, heapLimitBytes: boot.heapLimitBytes, error: code === 0 ? undefined : stderr.slice(-400) || JSON.stringify(records.find((r) => r.type === 'error')), summaryPeak: summary.peakHeapBytes })}\n`,
    );
  }
} finally {
  await cloud.close();
  tmp.remove();
}
