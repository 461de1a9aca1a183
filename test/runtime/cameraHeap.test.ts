// The boot check's per-camera heap estimate (firmware/app/heapBudget.ts) against the engine's own counts: the
// bench script test/bench/xs/cameraHeap.ts builds one CameraUploader per case (H.264 and MJPEG at 362-4322 frame
// records, with and without a spool) inside fieldcam-runtime natively (64-bit slots) and under qemu-arm -cpu
// arm1176 (32-bit), counting the slots and chunk bytes it allocates with collections held. The estimate must cover
// every build, and not by more than 12 %: an estimate far above would refuse devices that fit.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { cameraBuildBytes, type CameraHeapShape } from '../../firmware/app/heapBudget.ts';
import { QEMU_USER } from '../../toolchain/xs/build.mjs';
import { assert, suite } from '../harness/index.ts';
import { QEMU_CPU, runtime, scratch } from './support.ts';

const test = suite("fieldcam-runtime: the boot check's heap estimate per camera covers what building one allocates");

interface Case {
  codec: string;
  shape: CameraHeapShape;
  spool: boolean;
  maxRecordBytes: number;
  spoolBytes: number;
  slots: number;
  chunkBytes: number;
  slotSize: number;
}

async function cases(arch: 'x86_64' | 'armv6'): Promise<Case[]> {
  const js = join(scratch, 'cameraHeap.js');
  await build({
    entryPoints: [join(import.meta.dirname, '..', 'bench', 'xs', 'cameraHeap.ts')],
    outfile: js,
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii',
    logLevel: 'warning',
  });
  const spool = join(scratch, `heap-spool-${arch}`);
  mkdirSync(spool, { recursive: true });
  const cpu = QEMU_CPU[arch];
  const [command, argv] = cpu ? [QEMU_USER[arch]!, ['-cpu', cpu, runtime(arch), js, spool]] : [runtime(arch), [js, spool]];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  assert.equal(code, 0, `cameraHeap.js exited ${code}: ${err}`);
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Case);
}

for (const arch of ['x86_64', 'armv6'] as const) {
  test(`${arch === 'x86_64' ? 'natively (64-bit)' : 'under qemu-arm -cpu arm1176 (32-bit)'}: estimate ≥ allocated, within 12 %`, async () => {
    const runs = await cases(arch);
    assert.is(runs.length, 12);
    assert.is(runs.filter((r) => r.shape.spool !== undefined).length, 4);
    for (const r of runs) {
      // The board's own reading of its slot size (xsBoard slotSize), which the boot check uses.
      const slotSize = r.slotSize;
      assert.is(slotSize, arch === 'x86_64' ? 32 : 16);
      const allocated = r.slots * slotSize + r.chunkBytes;
      const estimate = cameraBuildBytes(r.shape, slotSize);
      const what = `${r.codec} ${r.shape.maxFrames} frames${r.spool ? `, spool ${JSON.stringify(r.shape.spool)}` : ''}: estimate ${estimate}, allocated ${allocated}`;
      assert.ok(estimate >= allocated && estimate <= allocated * 1.12, what);
    }
  });
}

test.run();
