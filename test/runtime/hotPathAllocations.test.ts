// Zero per-frame allocations on the device hot path (issue 12), counted inside the engine: the media path with the
// board's natives (mediaAllocations.ts: camera reads into pool slots, H.264 access units / JPEG images, timestamps,
// fragments, SimpleBlock views) runs in fieldcam-runtime natively and under qemu-arm -cpu arm1176; after warm-up the
// engine's collections are held and its slot and chunk counters (native.heapCounters) must not move over N frames,
// fragment starts included. A control run allocates one small object per frame in the same stretch and must be seen.
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { QEMU_USER } from '../../toolchain/xs/build.mjs';
import { assert, suite } from '../harness/index.ts';
import { QEMU_CPU, runtime, scratch, type Arch } from './support.ts';

const test = suite('fieldcam-runtime: no allocation per frame on the media path');

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

let bundle: string | undefined;
async function script(): Promise<string> {
  if (bundle) return bundle;
  bundle = join(scratch, 'mediaAllocations.js');
  await build({
    entryPoints: [join(import.meta.dirname, 'mediaAllocations.ts')],
    outfile: bundle,
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii',
    logLevel: 'warning',
  });
  return bundle;
}

/** The fixture `times` times back to back (each copy starts with its parameter sets and a key frame). */
function clip(name: string, times: number): string {
  const bytes = readFileSync(join(FIXTURES, name));
  const out = join(scratch, `${times}x-${name}`);
  writeFileSync(out, Buffer.concat(Array.from({ length: times }, () => bytes)));
  return out;
}

interface Window {
  slots: number;
  chunkBytes: number;
  frames: number;
  fragments: number;
  kept: number;
}

async function measure(arch: Arch, file: string, args: string[]): Promise<Window> {
  const js = await script();
  const cpu = QEMU_CPU[arch];
  const [command, argv] = cpu ? [QEMU_USER[arch]!, ['-cpu', cpu, runtime(arch), js, ...args]] : [runtime(arch), [js, ...args]];
  const input = openSync(file, 'r');
  const child = spawn(command, argv, { stdio: [input, 'pipe', 'pipe'] });
  closeSync(input);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  assert.equal(code, 0, `media allocations script exited ${code}: ${err}`);
  return JSON.parse(out.trim()) as Window;
}

// H.264: the 320x240 fixture (10 fps, GOP 10: a fragment per second) three times; warm-up is its first pass.
// MJPEG: the esp32-cam's path (JPEG images, no NAL tables).
const CASES = [
  { label: 'H.264', file: 'h264-320x240-10fps-gop10.h264', codec: 'h264', fps: '10', times: 3 },
  { label: 'MJPEG', file: 'mjpeg-320x240-10fps.mjpeg', codec: 'mjpeg', fps: '10', times: 3 },
] as const;

for (const arch of ['x86_64', 'armv6'] as const) {
  for (const c of CASES) {
    test(`${c.label}, ${arch === 'x86_64' ? 'natively' : 'under qemu-arm -cpu arm1176'}: no slot or chunk allocated over N and 2N frames after warm-up`, async () => {
      const file = clip(c.file, c.times);
      for (const frames of [20, 40]) {
        const w = await measure(arch, file, [c.codec, c.fps, '30', String(frames)]);
        assert.equal(w.frames, frames);
        assert.ok(w.fragments >= frames / 10 - 1, `the stretch crosses fragment starts (${w.fragments})`);
        assert.equal({ slots: w.slots, chunkBytes: w.chunkBytes }, { slots: 0, chunkBytes: 0 }, `${c.label}: allocated over ${frames} frames`);
      }
    });
  }
}

test('the counters see an allocation: one small object per frame in the same stretch grows the slots with N', async () => {
  const file = clip(CASES[0].file, CASES[0].times);
  const a = await measure('x86_64', file, ['h264', '10', '30', '20', 'probe']);
  const b = await measure('x86_64', file, ['h264', '10', '30', '40', 'probe']);
  assert.equal([a.kept, b.kept], [20, 40]);
  assert.ok(a.slots > 0 && b.slots > a.slots, `slots grew ${a.slots} over 20 frames, ${b.slots} over 40`);
});

test.run();
