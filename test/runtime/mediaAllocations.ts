// The device media path with the board's natives, inside fieldcam-runtime: bundled by hotPathAllocations.test.ts.
// stdin is a clip played several times back to back (a regular file, read with native.readInput into pool slots as
// xsCamera reads the camera fd); the Muxer splits it, stamps and fragments the frames and builds each block's views
// (scan.c, accessunits.c, block.c, as xsBoard passes them). After `warm` frames the script holds the engine's
// collections and reads its allocation counters (native.heapCounters), then again after `frames` more frames, and
// prints one JSON line: the slot and chunk-byte growth over that stretch, and the frames and fragments it covered.
// argv: codec, fps, warm, frames, and `probe` to allocate one object per frame inside the stretch (the positive
// control: the counters must see it).
import type { Codec } from '../../host/lib/Muxer.ts';
import { clipMuxer, feedClip } from '../bench/xs/clipMuxer.ts';
import type { NativeHost } from '../../firmware/boards/xs/native.ts';

declare const native: NativeHost;

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

const muxer = clipMuxer({
  codec,
  fps: Number(fps),
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
feedClip(muxer);
if (!done) throw new Error(`the clip holds ${seen} frames; ${warm + frames} needed`);
native.print(JSON.stringify({ slots: after[0]! - before[0]!, chunkBytes: after[1]! - before[1]!, frames, fragments: fragmentsSeen, kept: kept.length }));
