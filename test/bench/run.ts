// `npm run bench`: the media core on Node. Prints markdown tables; docs/performance.md records them.
//   frames/s and MB/s of the whole pipeline (read into slots → split → fragment → Matroska views),
//   header bytes per block and at a cluster start, payload bytes copied, and heap/GC over 100,000 frames.
// Run with --expose-gc (the npm script does) so heap figures are measured after a full collection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import type { Frame } from '../../firmware/core/media/Frame.ts';
import { Muxer, type Codec, type FrameRate } from '../../host/lib/Muxer.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import type { ViewList } from '../../firmware/core/media/ViewList.ts';
import { clip1080p } from './clips.ts';
import { deviceBench } from './device.ts';
import { faultMatrix, SCALE as FAULT_SCALE } from './faultMatrix.ts';
import { uploadBench } from './upload.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const CHUNK = 4096;
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * The fixture padded with zero bytes to whole 4 KiB reads (legal: trailing_zero_8bits in H.264 Annex B,
 * padding between JPEG images) and cut once up front, so the benchmark's own "camera reads" allocate
 * nothing and any garbage collection measured comes from the pipeline.
 */
function chunksOf(name: string): Uint8Array[] {
  const raw = readFileSync(name.startsWith('/') ? name : join(FIXTURES, name));
  const padded = new Uint8Array(Math.ceil(raw.length / CHUNK) * CHUNK);
  padded.set(raw);
  const out: Uint8Array[] = [];
  for (let o = 0; o < padded.length; o += CHUNK) out.push(padded.subarray(o, o + CHUNK));
  return out;
}

interface Tally {
  blocks: number;
  blockHeaderMax: number;
  blockHeaderSum: number;
  clusterStartMax: number;
  payloadExpected: number;
  payloadFromPool: number;
}

function pipeline(codec: Codec, fps: FrameRate, tally: Tally) {
  const pool = new FramePool({ slotCount: 8, slotBytes: 64 * CHUNK, maxFrames: 64 });
  const arena = pool.slots[0]!.bytes.buffer;
  let bytesOut = 0;
  const muxer = new Muxer({
    codec,
    pool,
    fps,
    fragmentMs: 1000,
    maxFragmentMs: 10000,
    startTimecode: 1_700_000_000_000,
    endOfFragment: false,
    sink: (views: ViewList) => {
      bytesOut += views.byteLength;
    },
    onBlock: (frame: Frame, views: ViewList) => {
      // Split the batch by where its bytes live: the pool arena (payload, plus 4-byte start codes
      // rewritten in place as AVCC lengths) or elsewhere (header templates, AVCC length scratch).
      let fromPool = 0;
      let other = 0;
      for (let i = 0; i < views.count; i++) {
        if (views.sources[i]!.buffer === arena) fromPool += views.lengths[i]!;
        else other += views.lengths[i]!;
      }
      let expected = frame.size;
      let inPlace = 0;
      let scratch = 0;
      if (codec === 'h264') {
        expected = 0;
        for (let n = 0; n < frame.nalCount; n++) {
          const t = frame.nalType[n]!;
          if (t === 9 || t === 12) continue; // AUD and filler data are not sent
          expected += frame.nalLength[n]!;
          if (frame.nalPrefix[n] === 4) inPlace += 4;
          else scratch += 4;
        }
      }
      tally.payloadExpected += expected;
      tally.payloadFromPool += fromPool - inPlace;
      const header = other - scratch;
      // A fragment's first batch holds the Cluster header + Timecode and the first block's header.
      if (frame.fragmentStart) {
        if (header > tally.clusterStartMax) tally.clusterStartMax = header;
      } else {
        tally.blocks++;
        tally.blockHeaderSum += header;
        if (header > tally.blockHeaderMax) tally.blockHeaderMax = header;
      }
    },
  });
  return { muxer, bytesOut: () => bytesOut };
}

function feed(muxer: Muxer, chunks: Uint8Array[]): void {
  for (const chunk of chunks) {
    if (muxer.prepare() !== PREPARE.OK) throw new Error('pool exhausted in benchmark');
    muxer.target.set(chunk, muxer.targetOffset);
    muxer.push(chunk.length);
  }
}

function newTally(): Tally {
  return { blocks: 0, blockHeaderMax: 0, blockHeaderSum: 0, clusterStartMax: 0, payloadExpected: 0, payloadFromPool: 0 };
}

interface Row {
  input: string;
  frames: number;
  fps: number;
  mbps: number;
  avgFrame: number;
  blockHeader: string;
  clusterStart: number;
  copied: number;
}

function throughput(label: string, fixture: string, codec: Codec, fps: FrameRate, targetFrames: number): Row {
  const chunks = chunksOf(fixture);
  const bytesPerLoop = chunks.length * CHUNK;
  // Warm up the JIT, then measure a fresh pipeline.
  const warm = pipeline(codec, fps, newTally());
  while (warm.muxer.stats.frames < 3000) feed(warm.muxer, chunks);
  const tally = newTally();
  const { muxer } = pipeline(codec, fps, tally);
  let loops = 0;
  const t0 = process.hrtime.bigint();
  while (muxer.stats.frames < targetFrames) {
    feed(muxer, chunks);
    loops++;
  }
  muxer.end();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    input: label,
    frames: muxer.stats.frames,
    fps: muxer.stats.frames / seconds,
    mbps: (loops * bytesPerLoop) / seconds / 1e6,
    avgFrame: (loops * bytesPerLoop) / muxer.stats.frames,
    blockHeader: `${(tally.blockHeaderSum / tally.blocks).toFixed(1)} (max ${tally.blockHeaderMax})`,
    clusterStart: tally.clusterStartMax,
    copied: tally.payloadExpected - tally.payloadFromPool,
  };
}

function heapRun(totalFrames: number) {
  const chunks = chunksOf('h264-320x240-10fps-gop10.h264');
  let minorGcs = 0;
  let majorGcs = 0;
  let counting = false;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!counting) continue;
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === 1) minorGcs++;
      else majorGcs++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const { muxer } = pipeline('h264', { num: 10, den: 1 }, newTally());
  // Reach steady state (first segment header, parameter sets, JIT), then measure.
  for (let i = 0; i < 100; i++) feed(muxer, chunks);
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const startFrames = muxer.stats.frames;
  counting = true;
  while (muxer.stats.frames - startFrames < totalFrames) feed(muxer, chunks);
  counting = false;
  gc?.();
  const after = process.memoryUsage().heapUsed;
  obs.disconnect();
  return { frames: muxer.stats.frames - startFrames, growth: after - before, minorGcs, majorGcs };
}

function table(headers: string[], rows: (string | number)[][]): string {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** The 4 Mbit/s 1080p clip (test/bench/clips.ts makes it with ffmpeg on first use). */
const realistic1080p = (): string => clip1080p().file;

if (!gc) console.warn('warning: run with node --expose-gc for exact heap figures (npm run bench does)');
console.log(`# fieldcam media core on Node ${process.version} (${process.arch})\n`);
const rows = [
  throughput('320x240 H.264 baseline, 10 fps', 'h264-320x240-10fps-gop10.h264', 'h264', { num: 10, den: 1 }, 20_000),
  throughput('320x240 H.264, AUD+SEI, 3-byte start codes', 'h264-aud-sei-3byte.h264', 'h264', { num: 10, den: 1 }, 20_000),
  throughput('1920x1080 H.264 high, 30 fps (fixture, crf 38)', 'h264-1080p-30fps.h264', 'h264', { num: 30, den: 1 }, 20_000),
  throughput('1920x1080 H.264, 30 fps, 4 Mbit/s', realistic1080p(), 'h264', { num: 30, den: 1 }, 6_000),
  throughput('320x240 MJPEG, 10 fps', 'mjpeg-320x240-10fps.mjpeg', 'mjpeg', { num: 10, den: 1 }, 20_000),
];
console.log('## Muxer throughput (read into pool → frames → Matroska views)\n');
console.log(
  table(
    ['input', 'avg frame (B)', 'frames', 'frames/s', 'MB/s in', 'header B/block (avg, max)', 'B at cluster start', 'payload bytes copied'],
    rows.map((r) => [
      r.input,
      Math.round(r.avgFrame).toLocaleString('en-US'),
      r.frames,
      Math.round(r.fps).toLocaleString('en-US'),
      r.mbps.toFixed(1),
      r.blockHeader,
      r.clusterStart,
      r.copied,
    ]),
  ),
);
const heap = heapRun(100_000);
console.log('\n## Steady state over 100,000 frames (320x240 H.264)\n');
console.log(
  table(
    ['frames', 'heap growth (bytes, after full GC)', 'minor GCs', 'major GCs'],
    [[heap.frames.toLocaleString('en-US'), heap.growth, heap.minorGcs, heap.majorGcs]],
  ),
);

console.log('\n## Upload to the local KVS on loopback (4 Mbit/s 1080p, TLS, device in this process, emulator in a child)\n');
console.log(await uploadBench(realistic1080p()));
console.log(`\n## Device (firmware image in fieldcam-runtime, natively and under qemu-arm)\n\n${await deviceBench()}`);
console.log(`\n## Fault matrix (pi-zero-w under qemu-arm -cpu arm1176, time scale ${FAULT_SCALE}; test/bench/faultMatrix.ts)\n\n${await faultMatrix()}`);
