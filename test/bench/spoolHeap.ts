// The JS heap a camera's spool takes on a board, measured on the device: the board's image booted twice under
// QEMU (time-scaled) on the 10-s reference fixture with the manifest's own pool and spool budget, once with a spool
// and once without, and the heap of each boot line and summary compared. Prints one JSON line per run.
//   nice node --import tsx test/bench/spoolHeap.ts [board]      (default pi-zero-w)
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
const SCALE = 4;
const manifest = loadBoardManifest(name);
const image = await buildImage(manifest, { typecheck: false });
const tmp = tempDir('fieldcam-spool-heap-');
const origin = Date.now();
const cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes], config: { timeScale: SCALE, timeOrigin: origin } });
const video = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
try {
  for (const spool of [false, true]) {
    const config = join(tmp.dir, `${spool}.json`);
    writeDeviceConfig(config, {
      board: manifest,
      streamName: `heap-${spool}`,
      region: 'us-east-1',
      endpoint: { host: '127.0.0.1', port: Number(new URL(cloud.endpoint).port), caFile: cloud.caFile },
      credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
      codec: 'h264',
      live: true,
      recorded: true,
      createRetentionHours: 24,
      statusIntervalMs: 1000,
      ...(spool ? { spool: { dir: join(tmp.dir, 'spool') } } : {}),
    });
    const records: Record<string, unknown>[] = [];
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
      bytesPerSecond: readFileSync(video).length / 10,
      rate: SCALE,
      onRecord: (r) => records.push(r),
    });
    const { code } = await board.exited;
    const boot = records.find((r) => r.type === 'boot') ?? {};
    const summary = records.find((r) => r.type === 'summary') ?? {};
    process.stdout.write(
      `${JSON.stringify({ board: name, spool, code, bootHeapBytes: boot.heapBytes, peakHeapBytes: summary.peakHeapBytes, spoolBudget: spool ? manifest.spool : null })}\n`,
    );
  }
} finally {
  await cloud.close();
  tmp.remove();
}
