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
  /**
   * MkvWriter.block's whole step for one frame in one call (issue 12): checks the frame against `state` (the
   * writer's BLOCK_STATE: the open fragment's Cluster timecode, blocks, bytes, end, the last frame's DTS and
   * duration, the limits) by exactly the rules of MkvWriter's checks — PTS, DTS and duration non-negative safe
   * integers; a fragment's first block a key frame with PTS = DTS; PTS - Cluster timecode in 0-32767; DTS not
   * before the last frame's DTS + duration once a frame was written; the fragment's end with this frame at most
   * MAX_MS after its Cluster timecode — then appends the block as pushBlock does (relative timecode = PTS -
   * Cluster timecode), then refuses a block whose content exceeds 2^28 - 2 bytes or that would make the fragment
   * more than MAX_BYTES bytes, else updates BLOCKS, BYTES, FRAGMENT_END, HAVE_FRAME, LAST_DTS and LAST_DURATION.
   * Returns the block's bytes, or BLOCK_STATE.LIST_FULL / REFUSED / TOO_LARGE with the state unchanged (ranges
   * may have been appended: the caller truncates). Throws as pushBlock does, and then leaves `out` as it was: its
   * `count` and `byteLength` unchanged (block.c writes them last), so MkvWriter needs no `try` around the call.
   * A block outside a fragment (OPEN not 1) is refused too. Optional: the XS board has it.
   */
  writeBlock?(frame: Frame, out: ViewList, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array): number;
  /**
   * `out` emptied (`count` and `byteLength` 0, what ViewList.clear does), before anything else, then writeBlock's whole
   * step into it: every result and throw as writeBlock's, for the emptied list. The frame comes last so that a writer
   * binds the other arguments once (MkvWriter.blockAloneInto): a caller that writes each frame's block on its own
   * into the same list (the offline Muxer) then makes one native call per frame. Optional: the XS board has it.
   */
  writeBlockAlone?(out: ViewList, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array, frame: Frame): number;
}
