// sim/board/bootBoard.ts after the runtime dies on its own: a board whose heap limit is far too small ends with
// OUT_OF_MEMORY (exit 6) at boot while its camera feeder is still looping into stdin at real time. `exited`
// must settle with that code and the feeder must stop: a suite awaiting a device that ran out of memory has to
// fail with the exit code, never hang (and no feeder timer may outlive the board, or the runner hangs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('sim board: exited settles when the runtime dies while the camera feeder loops');
const tmp = tempDir('fieldcam-boot-exit-');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
/** The runtime's exit code when the JS heap reaches its limit (docs/boards.md, `memory.jsBudgetBytes`). */
const RUNTIME_OUT_OF_MEMORY = 6;

test.after(() => tmp.remove());

test('sim-x86 with a 256 KiB heap: OUT_OF_MEMORY at boot, exited settles with 6, the feeder stopped', async () => {
  const board = loadBoardManifest('sim-x86');
  const image = await buildImage(board, { typecheck: false });
  const config = join(tmp.dir, 'device.json');
  // Never reached: the runtime runs out of memory before it connects anywhere.
  writeDeviceConfig(config, {
    board,
    streamName: 'oom',
    region: 'us-east-1',
    endpoint: { host: '127.0.0.1', port: 9, caFile: join(FIXTURES, '..', '..', 'package.json') },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    codec: 'h264',
    live: true,
    statusIntervalMs: 0,
  });
  const flags = image.runtimeFlags.slice();
  flags[flags.indexOf('--heap-limit') + 1] = String(256 * 1024);
  const booted = bootBoard({
    image: { dir: imageDir('sim-x86'), runtimeFlags: flags },
    config,
    video: GOP10,
    loop: true,
    bytesPerSecond: readFileSync(GOP10).length / 10,
    onRecord: () => undefined,
    cwd: ROOT,
  });
  const { code, stderr } = await booted.exited;
  assert.is(code, RUNTIME_OUT_OF_MEMORY, stderr);
  assert.ok(/OUT_OF_MEMORY/.test(stderr), stderr);
  assert.ok(booted.child.stdin!.destroyed, 'the camera pipe is torn down');
});

test.run();
