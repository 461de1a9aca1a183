// A live camera in core suites: bytes "read" into a FrameInput the way CameraUploader's pump reads them (prepare,
// copy into the target as read() would, push with the read time; a full pool drops the oldest un-sent fragment, or
// overflows into the scratch), and the access-unit layout of a fixture, so a test knows how many frames it fed.
// Pure ECMAScript: runs under Node and inside XS.
import { H264Reader } from '../../../../firmware/core/h264/H264Reader.ts';
import type { FrameInput } from '../../../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';

/** Logical offset of each access unit's first byte in an Annex-B stream (a strict reader over a roomy pool). */
export function accessUnitStarts(data: Uint8Array): number[] {
  const pool = new FramePool({ slotCount: 4, slotBytes: Math.max(65536, data.length), maxFrames: 4 });
  const starts: number[] = [];
  const reader = new H264Reader({
    pool,
    onFrame: (f) => {
      starts.push(f.streamOffset);
      pool.freeFrame(f);
    },
  });
  reader.prepare();
  reader.cursor.target.set(data, reader.cursor.targetOffset);
  reader.push(data.length);
  reader.end();
  return starts;
}

/**
 * Access units fed once `bytes` bytes of a stream with these starts were written: those whose first NAL header
 * (start code + 1 byte) arrived. A frame cut before that is not a frame the device could know of.
 */
export function framesFed(starts: readonly number[], prefixes: (i: number) => number, bytes: number): number {
  let n = 0;
  for (let i = 0; i < starts.length; i++) if (starts[i]! + prefixes(i) + 1 <= bytes) n++;
  return n;
}

/** Start-code length (3 or 4) at each access unit start. */
export function prefixAt(data: Uint8Array, starts: readonly number[]): (i: number) => number {
  return (i) => (data[starts[i]! + 2] === 1 ? 3 : 4);
}

export interface Reads {
  /** Reads that went to the pool or the scratch. */
  reads: number;
  /** Times the pool was full and the oldest un-sent fragment was dropped. */
  reclaimed: number;
  /** Times the pool was full of frames on the wire and reading went on into the overflow scratch. */
  overflowed: number;
}

/**
 * Reads `data[from, to)` into the input in reads of at most `chunk` bytes, each stamped `at` (monotonic ms), as a
 * live camera's pump does. `onRead` runs after each read (the uploader's turn: send, acknowledge).
 */
export function readLive(
  input: FrameInput,
  data: Uint8Array,
  from: number,
  to: number,
  at: number,
  chunk: number,
  stats: Reads,
  onRead: () => void = () => {},
): void {
  let i = from;
  while (i < to) {
    const ready = input.prepare();
    if (ready === PREPARE.POOL_EXHAUSTED) {
      if (input.queue.reclaim()) stats.reclaimed++;
      else if (input.overflow()) stats.overflowed++;
      else throw new Error('a live camera could not go on reading');
      continue;
    }
    if (ready !== PREPARE.OK) throw new Error(`prepare: ${ready}`);
    const n = Math.min(chunk, to - i, input.targetSpace);
    input.target.set(data.subarray(i, i + n), input.targetOffset);
    input.push(n, at);
    stats.reads++;
    i += n;
    onRead();
  }
}
