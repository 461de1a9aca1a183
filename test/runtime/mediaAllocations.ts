// The device media path with the board's natives, inside fieldcam-runtime: bundled by hotPathAllocations.test.ts.
// stdin is a clip played several times back to back (a regular file, read with native.readInput into pool slots as
// xsCamera reads the camera fd); the Muxer splits it, stamps and fragments the frames and builds each block's views
// (scan.c, accessunits.c, block.c, as xsBoard passes them). After `warm` frames the script holds the engine's
// collections and reads its allocation counters (native.heapCounters), then again after `frames` more frames, and
// prints one JSON line: the slot and chunk-byte growth over that stretch, and the frames and fragments it covered.
// argv: codec, fps, warm, frames, and `probe` to allocate one object per frame inside the stretch (the positive
// control: the counters must see it).
import { Muxer, type Codec } from '../../host/lib/Muxer.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import type { ViewList } from '../../firmware/core/media/ViewList.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';
import type { NativeHost } from '../../firmware/boards/xs/native.ts';

declare const native: NativeHost & { readonly argv: readonly string[] };

const [codec, fps, warmArg, framesArg, probeArg] = native.argv as [Codec, string, string, string, string | undefined];
const warm = Number(warmArg);
const frames = Number(framesArg);
const probe = probeArg === 'probe';
const before = new Float64Array(2);
const after = new Float64Array(2);
const kept: object[] = [];
let seen = 0;
let fragmentsSeen = 0;
let counting = false;
let done = false;

const pool = new FramePool({ slotCount: 8, slotBytes: 256 * 1024, maxFrames: 64, ...(codec === 'mjpeg' ? { nalsPerFrame: 0 } : {}) });
const muxer = new Muxer({
  codec,
  pool,
  fps: { num: Number(fps), den: 1 },
  fragmentMs: 1000,
  maxFragmentMs: 10_000,
  startTimecode: 1_700_000_000_000,
  endOfFragment: true,
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
  blockPort: Object.freeze({ pushBlock: native.mkvBlock, writeBlock: native.mkvWriteBlock }),
  sink: (views: ViewList) => {
    if (views.byteLength === 0) return;
  },
  onBlock: (frame) => {
    seen++;
    if (counting && frame.fragmentStart) fragmentsSeen++;
    if (counting && probe) kept.push({ seq: frame.seq });
    if (seen === warm) {
      counting = true;
      native.heapCounters(before, true);
    } else if (seen === warm + frames) {
      native.heapCounters(after, false);
      counting = false;
      done = true;
    }
  },
});
native.openInput(0);
for (;;) {
  if (muxer.prepare() !== PREPARE.OK) throw new Error('pool exhausted');
  const n = native.readInput(0, muxer.target, muxer.targetOffset, Math.min(4096, muxer.targetSpace));
  if (n === 0) break;
  if (n < 0) throw new Error('stdin would block: give the clip as a regular file');
  muxer.push(n);
}
muxer.end();
if (!done) throw new Error(`the clip holds ${seen} frames; ${warm + frames} needed`);
native.print(JSON.stringify({ slots: after[0]! - before[0]!, chunkBytes: after[1]! - before[1]!, frames, fragments: fragmentsSeen, kept: kept.length }));
