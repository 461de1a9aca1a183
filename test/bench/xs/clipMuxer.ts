// The device's media path as the XS benches (mediaCost.ts, mediaProfile.ts) and the allocation test
// (test/runtime/mediaAllocations.ts) run it inside fieldcam-runtime: a Muxer over a fixed FramePool with the XS
// board's natives (xsMediaPorts.ts: scan.c, accessunits.c, records.c, block.c, release.c as the device gets them), fed a clip
// from a file descriptor straight into pool slots (native.readInput, as xsCamera reads the camera), with no network.
import { xsByteScan, xsFrameQueue, xsFrameRelease, xsMkvBlock } from '../../../firmware/boards/xs/xsMediaPorts.ts';
import { host } from '../../../firmware/boards/xs/native.ts';
import { CODECS } from '../../../firmware/core/media/codecs.ts';
import type { Frame } from '../../../firmware/core/media/Frame.ts';
import type { ViewList } from '../../../firmware/core/media/ViewList.ts';
import { FramePool } from '../../../firmware/core/pool/FramePool.ts';
import { SOURCE_END, type FrameSource } from '../../../firmware/io/FrameSource.ts';
import { Muxer, type Codec } from '../../../host/lib/Muxer.ts';

/** Bytes per camera read, as a pipe delivers them. */
const READ = 4096;

export interface ClipMuxerOptions {
  readonly codec: Codec;
  readonly fps: number;
  /** false: the core's own TypeScript scanners and block writer instead of the natives (the bench's `js` rows). */
  readonly natives?: boolean;
  readonly sink?: (views: ViewList) => void;
  readonly onBlock?: (frame: Frame, views: ViewList) => void;
}

/** 1-second fragments (10 s at most), fixed timecodes: the same stream on every run. */
export function clipMuxer(o: ClipMuxerOptions): Muxer {
  const natives = o.natives ?? true;
  return new Muxer({
    codec: o.codec,
    // No NAL tables for a codec without NALs, as the device sizes its pool (firmware/app/poolBudget.ts).
    pool: new FramePool({ slotCount: 8, slotBytes: 256 * 1024, maxFrames: 64, ...(CODECS[o.codec].nalTables ? {} : { nalsPerFrame: 0 }) }),
    fps: { num: o.fps, den: 1 },
    fragmentMs: 1000,
    maxFragmentMs: 10_000,
    startTimecode: 1_700_000_000_000,
    endOfFragment: true,
    ...(natives ? { byteScan: xsByteScan(), queuePort: xsFrameQueue(), blockPort: xsMkvBlock(), releasePort: xsFrameRelease() } : {}),
    sink: o.sink ?? (() => {}),
    ...(o.onBlock ? { onBlock: o.onBlock } : {}),
  });
}

/** Reads the clip on `fd` (a regular file: reads never block) through `muxer` to its end, then ends the muxer. */
export function feedClip(muxer: Muxer, fd = 0): void {
  const native = host();
  native.openInput(fd);
  // A recording: no read times (NaN), so frames keep the clip's cadence, as before. A file descriptor, as the
  // device's camera (xsCamera): the board's port reads it itself in the reader's steady state.
  const source: FrameSource = {
    fd,
    lastReadAt: Number.NaN,
    recorded: true,
    read(into, offset, length) {
      const n = native.readInput(fd, into, offset, length);
      if (n < 0) throw new Error('the clip would block: give it as a regular file');
      return n === 0 ? SOURCE_END : n;
    },
    close() {},
  };
  for (;;) {
    const n = muxer.readFrom(source, READ);
    if (n === SOURCE_END) break;
    if (n <= 0) throw new Error(`pool exhausted (readFrom ${n})`);
  }
  muxer.end();
}
