// Runs inside fieldcam-runtime (bundled by test/bench/device.ts): the device's media path — camera bytes read
// from a file descriptor straight into pool slots (native.readInput, as xsCamera does on the device), H.264/MJPEG
// split, fragments, Matroska block and cluster headers as gather lists — with no network. stdin is the clip, played
// some number of times back to back (a regular file, so reads never block). Prints one JSON line: frames and the
// XS computrons spent. The bench subtracts a 1-pass run from a 2-pass run, so boot and parsing cancel and what is
// left is per frame.
import type { NativeHost } from '../../../firmware/boards/xs/native.ts';
import type { Codec } from '../../../host/lib/Muxer.ts';
import { clipMuxer, feedClip } from './clipMuxer.ts';

declare const native: NativeHost;

// scan: `native` (the XS board's scan.c: word-at-a-time start codes, JPEG markers past stuffed X'FF00's, as on the
// device) or `js` (the core's own loops).
const [codec, fps, scan] = native.argv as [Codec, string, 'native' | 'js'];
let bytesOut = 0;
const muxer = clipMuxer({
  codec,
  fps: Number(fps),
  natives: scan === 'native',
  sink: (views) => {
    bytesOut += views.byteLength;
  },
});
const c0 = native.computrons();
feedClip(muxer);
native.print(JSON.stringify({ frames: muxer.stats.frames, computrons: native.computrons() - c0, bytesOut, peakHeapBytes: native.memory().peakBytes }));
