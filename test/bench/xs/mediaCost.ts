// Runs inside fieldcam-runtime (bundled by test/bench/device.ts): the device's media path — camera bytes into
// pool slots, H.264/MJPEG split, fragments, Matroska block and cluster headers as gather lists — over a fixture
// played `passes` times, with no network. Prints one JSON line: frames and the XS computrons spent.
// The bench subtracts a 1-pass run from a 2-pass run, so boot and parsing cancel and what is left is per frame.
import { Muxer, type Codec } from '../../../firmware/core/media/Muxer.ts';
import { PREPARE } from '../../../firmware/core/media/StreamCursor.ts';
import type { ViewList } from '../../../firmware/core/media/ViewList.ts';
import { FramePool } from '../../../firmware/core/pool/FramePool.ts';

declare const native: {
  print(line: string): void;
  readFile(path: string): ArrayBuffer;
  computrons(): number;
  memory(): { heapBytes: number; peakBytes: number };
  indexOfByte(data: Uint8Array, value: number, from: number, to: number): number;
  findStartCodes(data: Uint8Array, from: number, to: number, found: Uint32Array): number;
  readonly argv: readonly string[];
};

// scan: `native` (the XS board's scan.c: word-at-a-time start codes, memchr for JPEG, as on the device) or `js`
// (the core's own loops).
const [path, codec, fps, passes, scan] = native.argv as [string, Codec, string, string, 'native' | 'js'];
const file = new Uint8Array(native.readFile(path));
const READ = 4096; // bytes per camera read, as a pipe delivers them
const pool = new FramePool({ slotCount: 8, slotBytes: 256 * 1024, maxFrames: 64 });
let bytesOut = 0;
const muxer = new Muxer({
  codec, pool, fps: { num: Number(fps), den: 1 }, fragmentMs: 1000, maxFragmentMs: 10_000,
  startTimecode: 1_700_000_000_000, endOfFragment: true,
  ...(scan === 'native' ? { byteScan: {
    indexOfByte: (d: Uint8Array, v: number, f: number, t: number) => native.indexOfByte(d, v, f, t),
    findStartCodes: (d: Uint8Array, f: number, t: number, found: Uint32Array) => native.findStartCodes(d, f, t, found),
  } } : {}),
  sink: (views: ViewList) => {
    bytesOut += views.byteLength;
  },
});
const c0 = native.computrons();
for (let pass = 0; pass < Number(passes); pass++) {
  for (let at = 0; at < file.length; ) {
    if (muxer.prepare() !== PREPARE.OK) throw new Error('pool exhausted');
    const n = Math.min(READ, muxer.targetSpace, file.length - at);
    muxer.target.set(file.subarray(at, at + n), muxer.targetOffset); // the camera read (a read() into the slot on a board)
    muxer.push(n);
    at += n;
  }
}
muxer.end();
native.print(JSON.stringify({ frames: muxer.stats.frames, computrons: native.computrons() - c0, bytesOut, peakHeapBytes: native.memory().peakBytes }));
