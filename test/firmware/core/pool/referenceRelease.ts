// FrameReleasePort's contract in plain TypeScript, for runtimes whose board has none (Node): the suites then run the
// port branch of FragmentQueue and the Muxer on both runtimes, and compare release.c with it inside XS.
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import type { Slot } from '../../../../firmware/core/pool/Slot.ts';
import type { FrameReleasePort } from '../../../../firmware/io/FrameRelease.ts';

/** The fields of FragmentQueue and FramePool the port works on (private in TypeScript, plain properties at run time). */
interface QueueFields {
  ring: (Frame | null)[];
  head: number;
  length: number;
  unsentFrom: number;
}
interface PoolFields {
  freeFrames: Frame[];
  freeCount: number;
  slotsInUse: number;
}

/** A piece as FramePool keeps it: null, or a Slot whose count is a non-negative integer (anything else: not the port's). */
function isPiece(slot: Slot | null | undefined): slot is Slot | null {
  return slot === null || (slot !== undefined && Number.isInteger(slot.refs) && slot.refs >= 0);
}

export const referenceFrameRelease: FrameReleasePort = {
  releaseHead(queue, pool) {
    const q = queue as QueueFields;
    const p = pool as PoolFields;
    if (q.length === 0 || p.freeCount >= p.freeFrames.length) return false;
    const frame = q.ring[q.head];
    if (!frame) return false;
    const a = frame.slotA;
    const b = frame.slotB;
    if (!isPiece(a) || !isPiece(b)) return false;
    if (a !== null && a.refs < 1) return false;
    if (b !== null && b.refs < (b === a ? 2 : 1)) return false;
    q.ring[q.head] = null;
    q.head = (q.head + 1) % q.ring.length;
    q.length--;
    if (q.unsentFrom > 0) q.unsentFrom--;
    if (a !== null) {
      if (--a.refs === 0) p.slotsInUse--;
      frame.slotA = null;
    }
    if (b !== null) {
      if (--b.refs === 0) p.slotsInUse--;
      frame.slotB = null;
    }
    p.freeFrames[p.freeCount++] = frame;
    return true;
  },
};
