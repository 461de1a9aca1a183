import type { Frame } from '../media/Frame.ts';
import type { ViewList } from '../media/ViewList.ts';
import type { MkvBlockNative } from '../../io/MkvBlock.ts';

export type { BlockPayload } from '../../io/MkvBlock.ts';

/**
 * A board's native SimpleBlock writer (the XS board: firmware/runtime/block.c). In XS every property read and
 * element store is a counted bytecode, so building a block's views in JS is most of the Matroska writer's cost
 * per frame (docs/performance.md); the port does it in one call. Boards without it (Node) keep MkvWriter's own
 * TypeScript path, and both write the same bytes (test/firmware/core/mkv/MkvWriter.blockPort.test.ts).
 */
export interface MkvBlockPort extends MkvBlockNative<Frame, ViewList> {
  /**
   * Appends one SimpleBlock to `out`, as MkvWriter's TypeScript path does: `header` (MkvWriter's 9-byte block
   * template) with `relative` (0-32767) as its timecode and the key flag from `frame.key`, then the frame's
   * payload — `lengths` null: the whole payload (piece A, then piece B); else AVCC as `pushAvccPayload` converts
   * it, with `lengths` as its scratch (4 bytes per NAL index). Ranges are merged as `ViewList.push` merges them.
   * When the block's content fits the 4-octet size (2^28 - 2), the size is written into `header`.
   * Returns the bytes appended, or -1 when `out` is full (the ranges that fitted are in `out`: truncate it).
   * Throws (RangeError/TypeError) on a frame whose ranges lie outside its slots, before writing anything outside.
   */
  pushBlock(frame: Frame, out: ViewList, header: Uint8Array, relative: number, lengths: Uint8Array | null): number;
}
