// Runs inside fieldcam-runtime (bundled by test/bench/device.ts): the device's media path — camera bytes read
// from a file descriptor straight into pool slots (native.readInput, as xsCamera does on the device), H.264/MJPEG
// split, fragments, Matroska block and cluster headers as gather lists — with no network. stdin is the clip, played
// some number of times back to back (a regular file, so reads never block). Prints one JSON line: frames and the
// XS computrons spent. The bench subtracts a 1-pass run from a 2-pass run, so boot and parsing cancel and what is
// left is per frame.
import { Muxer, type Codec } from '../../../host/lib/Muxer.ts';
import { PREPARE } from '../../../firmware/core/media/StreamCursor.ts';
import type { ViewList } from '../../../firmware/core/media/ViewList.ts';
import { FramePool } from '../../../firmware/core/pool/FramePool.ts';

declare const native: {
  print(line: string): void;
  computrons(): number;
  memory(): { heapBytes: number; peakBytes: number };
  openInput(fd: number): void;
  readInput(fd: number, into: Uint8Array, offset: number, length: number): number;
  indexOfByte(data: Uint8Array, value: number, from: number, to: number): number;
  findStartCodes(data: Uint8Array, from: number, to: number, found: Uint32Array): number;
  classifyNals(data: Uint8Array, from: number, to: number, zeros: number, hasVcl: boolean, out: Uint32Array): number;
  closeAccessUnit(data: Uint8Array, from: number, to: number, base: number, state: Float64Array, table: Float64Array, sps: Uint8Array, pps: Uint8Array): number;
  pushAccessUnits(cursor: object, n: number, state: Float64Array, table: Float64Array, sps: Uint8Array, pps: Uint8Array): number;
  copyNalTable(table: Float64Array, count: number, start: number, offsets: Uint32Array, lengths: Uint32Array, prefixes: Uint8Array, types: Uint8Array): void;
  fillFrameRecord(frame: object, cursor: object, table: Float64Array, count: number, start: number, end: number, seq: number, key: boolean): void;
  findJpegMarker(data: Uint8Array, from: number, to: number): number;
  skipJpegSegments(data: Uint8Array, from: number, to: number): number;
  walkJpegHeaders(data: Uint8Array, from: number, to: number, out: Uint32Array): number;
  mkvBlock(frame: unknown, out: unknown, header: Uint8Array, relative: number, lengths: Uint8Array | null): number;
  mkvWriteBlock(frame: unknown, out: unknown, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array): number;
  readonly argv: readonly string[];
};

// scan: `native` (the XS board's scan.c: word-at-a-time start codes, JPEG markers past stuffed X'FF00's, as on the
// device) or `js`
// (the core's own loops).
const [codec, fps, scan] = native.argv as [Codec, string, 'native' | 'js'];
const CAMERA = 0;
const READ = 4096; // bytes per camera read, as a pipe delivers them
const pool = new FramePool({ slotCount: 8, slotBytes: 256 * 1024, maxFrames: 64 });
let bytesOut = 0;
const muxer = new Muxer({
  codec,
  pool,
  fps: { num: Number(fps), den: 1 },
  fragmentMs: 1000,
  maxFragmentMs: 10_000,
  startTimecode: 1_700_000_000_000,
  endOfFragment: true,
  // The host's functions themselves, as the XS board passes them (xsBoard.ts xsByteScan): no JS wrapper per call.
  ...(scan === 'native'
    ? {
        byteScan: {
          indexOfByte: native.indexOfByte,
          findStartCodes: native.findStartCodes,
          classifyNals: native.classifyNals,
          closeAccessUnit: native.closeAccessUnit,
          pushAccessUnits: native.pushAccessUnits,
          copyNalTable: native.copyNalTable,
          fillFrameRecord: native.fillFrameRecord,
          findJpegMarker: native.findJpegMarker,
          skipJpegSegments: native.skipJpegSegments,
          walkJpegHeaders: native.walkJpegHeaders,
        },
      }
    : {}),
  // The XS board's SimpleBlock writer (block.c), as xsBoard hands it over: the host function itself.
  ...(scan === 'native' ? { blockPort: Object.freeze({ pushBlock: native.mkvBlock, writeBlock: native.mkvWriteBlock }) } : {}),
  sink: (views: ViewList) => {
    bytesOut += views.byteLength;
  },
});
native.openInput(CAMERA);
const c0 = native.computrons();
for (;;) {
  if (muxer.prepare() !== PREPARE.OK) throw new Error('pool exhausted');
  const n = native.readInput(CAMERA, muxer.target, muxer.targetOffset, Math.min(READ, muxer.targetSpace));
  if (n === 0) break;
  if (n < 0) throw new Error('stdin would block: give the clip as a regular file');
  muxer.push(n);
}
muxer.end();
native.print(JSON.stringify({ frames: muxer.stats.frames, computrons: native.computrons() - c0, bytesOut, peakHeapBytes: native.memory().peakBytes }));
