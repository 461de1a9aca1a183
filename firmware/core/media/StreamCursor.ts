import type { FramePool } from '../pool/FramePool.ts';
import { Slot } from '../pool/Slot.ts';
import type { Frame } from './Frame.ts';

/** Result of `StreamCursor.prepare()`. */
export const PREPARE = Object.freeze({ OK: 0, POOL_EXHAUSTED: 1, FRAME_TOO_LARGE: 2 } as const);
export type PrepareResult = (typeof PREPARE)[keyof typeof PREPARE];

/**
 * Bytes the cursor carries when it moves onto or off its overflow scratch: at most a start code, a NAL header and
 * the byte after it (what a reader that is only skipping still needs). Copying these few header bytes happens once
 * per overflow episode, never per frame.
 */
export const SCRATCH_KEEP_MAX = 16;

const NO_TARGET = new Uint8Array(0);

/**
 * Reads a byte stream (Annex-B H.264, concatenated JPEGs) straight into pool slots, addressing it by
 * logical stream offset. The cursor holds one reference on the slot being filled and one on the slot
 * before it, which is all a frame needs: an access unit no larger than a slot spans at most two slots,
 * so frames are assembled without ever moving payload bytes.
 */
export class StreamCursor {
  // Where the next read goes and what is held, as fields the cursor keeps up to date (read-only for everyone else):
  // the readers read them on every camera read, and in XS a getter call costs many counted bytecodes
  // (docs/performance.md, fifth step). They come first: XS finds a property by walking the object's own properties
  // in the order they were defined (docs/performance.md, eighth step).
  /** The slot to read into (its whole byte view), valid after `prepare()` returned OK. */
  target: Uint8Array = NO_TARGET;
  /** Where in `target` the next read goes: the bytes the current slot holds. */
  targetOffset = 0;
  /** Bytes the next read may bring (0 before `prepare()`). */
  targetSpace = 0;
  /** Logical offset one past the last byte written. */
  position = 0;
  /** True while reads go to the overflow scratch: nothing read there may become a frame. */
  onScratch = false;
  /** Logical offset of the first byte the reader still needs (start of the frame being assembled). */
  keepFrom = 0;
  private readonly pool: FramePool;
  private cur: Slot | null = null;
  private curBase = 0;
  private prev: Slot | null = null;
  private prevBase = 0;
  private prevFill = 0;
  /**
   * Where a live camera is read while every pool slot is held by frames in flight (`toScratch`): the reader only
   * skips and counts there, so the camera keeps being drained and no frame is lost uncounted in the kernel pipe.
   * Allocated at construction (a board constant); never referenced by a frame, never returned to the pool.
   */
  private readonly scratch: Slot | null;

  /** `scratchBytes`: size of the overflow scratch (0 = none: a full pool stops reading, as for a file). */
  constructor(pool: FramePool, scratchBytes = 0) {
    this.pool = pool;
    this.scratch = scratchBytes > 0 ? new Slot(-1, new Uint8Array(Math.max(scratchBytes, 2 * SCRATCH_KEEP_MAX))) : null;
  }

  /** Recomputes the public fields after `cur`, `curBase` or `targetOffset` changed other than by `commit`. */
  private moved(): void {
    const cur = this.cur;
    this.target = cur ? cur.bytes : NO_TARGET;
    this.targetSpace = cur ? cur.bytes.length - this.targetOffset : 0;
    this.position = this.curBase + this.targetOffset;
    this.onScratch = cur !== null && cur === this.scratch;
  }

  /**
   * The pool is full of frames that cannot be dropped: read on into the scratch. Gives up the cursor's holds on
   * its slots (frames keep their own). Possible only when the reader needs at most SCRATCH_KEEP_MAX bytes.
   */
  toScratch(): boolean {
    const scratch = this.scratch;
    if (!scratch) return false;
    if (this.cur === scratch) return true;
    const keep = this.position - this.keepFrom;
    if (keep < 0 || keep > SCRATCH_KEEP_MAX) return false;
    for (let i = 0; i < keep; i++) scratch.bytes[i] = this.byteAt(this.keepFrom + i);
    const base = this.keepFrom;
    if (this.prev) this.pool.release(this.prev);
    if (this.cur) this.pool.release(this.cur);
    this.prev = null;
    this.cur = scratch;
    this.curBase = base;
    this.targetOffset = keep;
    this.moved();
    return true;
  }

  /** On the scratch: back to a pool slot as soon as one is free, else go on in the scratch (recycled in place). */
  private prepareScratch(scratch: Slot): PrepareResult {
    const keep = this.position - this.keepFrom;
    if (keep <= SCRATCH_KEEP_MAX) {
      const slot = this.pool.acquire();
      if (slot) {
        scratch.bytes.copyWithin(0, this.keepFrom - this.curBase, this.targetOffset);
        for (let i = 0; i < keep; i++) slot.bytes[i] = scratch.bytes[i] as number;
        this.cur = slot;
        this.curBase = this.keepFrom;
        this.targetOffset = keep;
        this.moved();
        return PREPARE.OK;
      }
    }
    if (this.targetOffset < scratch.bytes.length) return PREPARE.OK;
    if (keep > SCRATCH_KEEP_MAX) return PREPARE.FRAME_TOO_LARGE;
    scratch.bytes.copyWithin(0, this.keepFrom - this.curBase, this.targetOffset);
    this.curBase = this.keepFrom;
    this.targetOffset = keep;
    this.moved();
    return PREPARE.OK;
  }

  /**
   * Makes room for the next read. Moving to a fresh slot drops the cursor's hold on the older of its two
   * slots; if the frame being assembled started there it would need a third slot, which is refused.
   */
  prepare(): PrepareResult {
    if (this.cur !== null && this.cur === this.scratch) return this.prepareScratch(this.cur);
    if (this.targetSpace > 0) return PREPARE.OK;
    if (this.cur && this.prev && this.keepFrom < this.curBase) return PREPARE.FRAME_TOO_LARGE;
    const next = this.pool.acquire();
    if (!next) return PREPARE.POOL_EXHAUSTED;
    if (this.prev) this.pool.release(this.prev);
    this.prev = this.cur;
    this.prevBase = this.curBase;
    this.prevFill = this.targetOffset;
    this.curBase = this.position;
    this.cur = next;
    this.targetOffset = 0;
    this.moved();
    return PREPARE.OK;
  }

  /** Records that `n` bytes were written at `target[targetOffset]`. */
  commit(n: number): void {
    if (!(n >= 0 && n <= this.targetSpace) || !this.cur) throw new RangeError('commit beyond the prepared slot');
    this.targetOffset += n;
    this.targetSpace -= n;
    this.position += n;
  }

  /** Byte at a logical offset still held by the cursor. */
  byteAt(offset: number): number {
    if (offset >= this.curBase) return this.cur!.bytes[offset - this.curBase] as number;
    return this.prev!.bytes[offset - this.prevBase] as number;
  }

  /** Bytes offset..offset + 3 as a big-endian unsigned 32-bit word (all four still held): one call, not four byteAt. */
  wordAt(offset: number): number {
    const i = offset - this.curBase;
    if (i >= 0) {
      const b = this.cur!.bytes;
      return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    }
    return ((this.byteAt(offset) << 24) | (this.byteAt(offset + 1) << 16) | (this.byteAt(offset + 2) << 8) | this.byteAt(offset + 3)) >>> 0;
  }

  /** True when the logical offset is still held (in the current or previous slot). */
  holds(offset: number): boolean {
    if (this.prev) return offset >= this.prevBase && offset < this.position;
    return this.cur !== null && offset >= this.curBase && offset < this.position;
  }

  /** Points `frame` at the logical range [from, to) and takes slot references for it. */
  fillFrame(frame: Frame, from: number, to: number): void {
    if (!this.holds(from) || to > this.position || to <= from) throw new RangeError(`range ${from}..${to} is not held`);
    if (this.onScratch) throw new RangeError('a frame cannot be read from the overflow scratch');
    frame.streamOffset = from;
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
    if (this.cur && this.cur !== this.scratch) this.pool.release(this.cur);
    this.prev = this.cur = null;
    this.moved();
  }
}
