// The JS-heap half of a multi-camera device's memory budget, checked at boot (firmware/app/heapBudget.ts): the
// pi-zero-w image under qemu-arm -cpu arm1176, its 8 MiB heap limit (memory.jsBudgetBytes). Four H.264 cameras at
// 30 fps each have pools that fit the board's poolBudgetBytes, but their frame records would not fit the heap: the
// device refuses at boot with CONFIG_INVALID naming the numbers, before building any camera (no boot line, no
// OUT_OF_MEMORY from the engine later). Four at the board's 15 fps fit: test/device/multiCamera.test.ts and
// test/bench/cameraHeapBoot.ts (the estimate above the measured peak, under the limit).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { planHeap } from '../../firmware/app/heapBudget.ts';
import { parseDeviceConfig } from '../../firmware/app/DeviceConfig.ts';
import { cameraConfigs } from '../../firmware/app/cameraConfigs.ts';
import { planPools } from '../../firmware/app/poolBudget.ts';
import { buildImage, imageDir } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('pi-zero-w under QEMU: cameras whose frame records would not fit the JS heap are refused at boot, naming the numbers');
const tmp = tempDir('fieldcam-heap-budget-');
test.after(() => tmp.remove());

const BOARD = loadBoardManifest('pi-zero-w');

function config(fps: number): string {
  const file = join(tmp.dir, `${fps}.json`);
  writeDeviceConfig(file, {
    board: BOARD,
    streamName: 'yard',
    region: 'us-east-1',
    // Nothing is reached: the device stops before its first connection.
    endpoint: { host: '127.0.0.1', port: 9, caFile: join(tmp.dir, 'none.pem') },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    codec: 'h264',
    live: true,
    recorded: true,
    statusIntervalMs: 0,
    cameras: ['a', 'b', 'c', 'd'].map((name) => ({ name, codec: 'h264' as const, fps: { num: fps, den: 1 } })),
  });
  return file;
}

test('four H.264 cameras at 30 fps: the pools fit, the heap would not; CONFIG_INVALID at boot naming each camera, the total and the limit', async () => {
  const file = config(30);
  // The pools' half passes on its own: it is the heap that refuses.
  const parsed = parseDeviceConfig(readText(file));
  assert.ok(planPools(parsed.board, cameraConfigs(parsed)).totalBytes <= BOARD.memory.poolBudgetBytes!);
  const image = await buildImage(BOARD, { typecheck: false });
  const records: Record<string, unknown>[] = [];
  const booted = bootBoard({
    image: { dir: imageDir(BOARD.name), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) },
    config: file,
    video: join(FIXTURES, 'h264-320x240-10fps-gop10.h264'),
    cameras: ['a', 'b', 'c', 'd'].map(() => ({ video: join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), bytesPerSecond: 10_000 })),
    loop: false,
    cwd: ROOT,
    bytesPerSecond: 10_000,
    onRecord: (r) => records.push(r),
  });
  const { code, stderr } = await booted.exited;
  assert.is(code, DEVICE_EXIT.CONFIG, `${stderr}\n${JSON.stringify(records)}`);
  assert.ok(!stderr.includes('OUT_OF_MEMORY'), stderr);
  assert.ok(!records.some((r) => r.type === 'boot'), 'no camera was built');
  const error = records.find((r) => r.type === 'error')!;
  assert.is(error.code, 'CONFIG_INVALID');
  const m =
    /^the JS heap of 4 camera\(s\) would need about ([\d.]+) MiB: ([\d.]+) MiB held at boot, a ([\d.]+) MiB, b \3 MiB, c \3 MiB, d \3 MiB .*; the runtime's limit is 8\.00 MiB \(memory\.jsBudgetBytes of board pi-zero-w\): fewer cameras, a lower fps per camera/.exec(
      error.message as string,
    );
  assert.ok(m, error.message as string);
  const [total, held, each] = [Number(m![1]), Number(m![2]), Number(m![3])];
  assert.ok(total > 8 && Math.abs(held + 4 * each + 0.25 - total) < 0.02, `${total} = ${held} + 4 × ${each} + 0.25 shared`);
  // 30 fps: 2162 frame records per camera, about 2.9 MiB of slots and chunks each on a 32-bit build.
  assert.ok(each > 2.5 && each < 3.3, String(each));
});

test('the check in numbers (Node): no limit or no slot size, nothing to check; at the limit accepted, a byte over refused', () => {
  const parsed = parseDeviceConfig(readText(config(15)));
  const cams = cameraConfigs(parsed);
  const sizings = planPools(parsed.board, cams).pools.map((p) => p.sizing);
  assert.is(planHeap({ heapBytes: 1e6, limitBytes: 0 }, 16, cams, sizings), undefined);
  assert.is(planHeap({ heapBytes: 1e6, limitBytes: 8 << 20 }, undefined, cams, sizings), undefined);
  const plan = planHeap({ heapBytes: 1e6, limitBytes: 1e9 }, 16, cams, sizings)!;
  assert.is(plan.cameraBytes.length, 4);
  assert.ok(planHeap({ heapBytes: 1e6, limitBytes: plan.estimateBytes }, 16, cams, sizings));
  assert.throws(() => planHeap({ heapBytes: 1e6, limitBytes: plan.estimateBytes - 1 }, 16, cams, sizings), /the JS heap of 4 camera\(s\) would need about/);
  // A 64-bit build's slots are twice the size: the same cameras need more.
  assert.ok(planHeap({ heapBytes: 1e6, limitBytes: 1e9 }, 32, cams, sizings)!.estimateBytes > plan.estimateBytes * 1.4);
});

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

test.run();
