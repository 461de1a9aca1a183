import type { FramePool } from '../pool/FramePool.ts';
import type { Slot } from '../pool/Slot.ts';
import type { Frame } from './Frame.ts';

/** Result of `StreamCursor.prepare()`. */
export const PREPARE = Object.freeze({ OK: 0, POOL_EXHAUSTED: 1, FRAME_TOO_LARGE: 2 } as const);
export type PrepareResult = (typeof PREPARE)[keyof typeof PREPARE];

/**
 * Reads a byte stream (Annex-B H.264, concatenated JPEGs) straight into pool slots, addressing it by
 * logical stream offset. The cursor holds one reference on the slot being filled and one on the slot
 * before it, which is all a frame needs: an access unit no larger than a slot spans at most two slots,
 * so frames are assembled without ever moving payload bytes.
 */
export class StreamCursor {
  private readonly pool: FramePool;
  private cur: Slot | null = null;
  private curBase = 0;
  private curFill = 0;
  private prev: Slot | null = null;
  private prevBase = 0;
  private prevFill = 0;
  /** Logical offset of the first byte the reader still needs (start of the frame being assembled). */
  keepFrom = 0;

  constructor(pool: FramePool) {
    this.pool = pool;
  }

  /** Logical offset one past the last byte written. */
  get position(): number {
    return this.curBase + this.curFill;
  }

  /** The slot to read into, valid after `prepare()` returned OK. */
  get target(): Uint8Array {
    return this.cur!.bytes;
  }

  get targetOffset(): number {
    return this.curFill;
  }

  get targetSpace(): number {
    return this.cur ? this.cur.bytes.length - this.curFill : 0;
  }

  /**
   * Makes room for the next read. Moving to a fresh slot drops the cursor's hold on the older of its two
   * slots; if the frame being assembled started there it would need a third slot, which is refused.
   */
  prepare(): PrepareResult {
    if (this.cur && this.curFill < this.cur.bytes.length) return PREPARE.OK;
    if (this.cur && this.prev && this.keepFrom < this.curBase) return PREPARE.FRAME_TOO_LARGE;
    const next = this.pool.acquire();
    if (!next) return PREPARE.POOL_EXHAUSTED;
    if (this.prev) this.pool.release(this.prev);
    this.prev = this.cur;
    this.prevBase = this.curBase;
    this.prevFill = this.curFill;
    this.curBase = this.position;
    this.cur = next;
    this.curFill = 0;
    return PREPARE.OK;
  }

  /** Records that `n` bytes were written at `target[targetOffset]`. */
  commit(n: number): void {
    if (!this.cur || n < 0 || this.curFill + n > this.cur.bytes.length) throw new RangeError('commit beyond the prepared slot');
    this.curFill += n;
  }

  /** Byte at a logical offset still held by the cursor. */
  byteAt(offset: number): number {
    if (offset >= this.curBase) return this.cur!.bytes[offset - this.curBase] as number;
    return this.prev!.bytes[offset - this.prevBase] as number;
  }

  /** True when the logical offset is still held (in the current or previous slot). */
  holds(offset: number): boolean {
    if (this.prev) return offset >= this.prevBase && offset < this.position;
    return this.cur !== null && offset >= this.curBase && offset < this.position;
  }

  /** Points `frame` at the logical range [from, to) and takes slot references for it. */
  fillFrame(frame: Frame, from: number, to: number): void {
    if (!this.holds(from) || to > this.position || to <= from) throw new RangeError(`range ${from}..${to} is not held`);
    if (from >= this.curBase) {
      this.setPiece(frame, this.cur!, from - this.curBase, to - this.curBase);
    } else if (to <= this.prevBase + this.prevFill) {
      this.setPiece(frame, this.prev!, from - this.prevBase, to - this.prevBase);
    } else {
      this.setPiece(frame, this.prev!, from - this.prevBase, this.prevFill);
      frame.slotB = this.cur;
      frame.startB = 0;
      frame.endB = to - this.curBase;
      this.pool.retain(this.cur!);
    }
  }

  private setPiece(frame: Frame, slot: Slot, start: number, end: number): void {
    frame.slotA = slot;
    frame.startA = start;
    frame.endA = end;
    frame.slotB = null;
    frame.startB = frame.endB = 0;
    this.pool.retain(slot);
  }

  /** Releases the cursor's own slot references (end of stream or shutdown). */
  close(): void {
    if (this.prev) this.pool.release(this.prev);
    if (this.cur) this.pool.release(this.cur);
    this.prev = this.cur = null;
  }
}
