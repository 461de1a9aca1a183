/**
 * The Matroska writer's per-fragment state that a SimpleBlock is checked against (the KVS rules of MkvWriter.block),
 * as indices into one reused Float64Array that MkvWriter owns and a board's block writer (MkvBlockPort.writeBlock;
 * firmware/runtime/block.c on the XS board) reads and updates in the same call that appends the block: one native
 * call per frame instead of the checks' property traffic in JS. The C file repeats these numbers (its enum); this
 * table is where they are defined.
 */
export const BLOCK_STATE = Object.freeze({
  /** Timecode of the open fragment's Cluster, ms. */
  CLUSTER: 0,
  /** Video blocks in the open fragment. */
  BLOCKS: 1,
  /** Bytes of the open fragment so far (its Tags, Cluster header and blocks). */
  BYTES: 2,
  /** Latest PTS + duration of a frame in the open fragment, ms (the Cluster timecode before the first). */
  FRAGMENT_END: 3,
  /** 1 once a frame was written in this segment, else 0. */
  HAVE_FRAME: 4,
  /** The last frame's DTS and duration, ms. */
  LAST_DTS: 5,
  LAST_DURATION: 6,
  /** The writer's limits (constant): longest fragment, ms; largest fragment, bytes. */
  MAX_MS: 7,
  MAX_BYTES: 8,
  /** 1 while a fragment is open (between startFragment and endFragment or the next header), else 0: no block outside one. */
  OPEN: 9,
  /** Entries of the state array. */
  LENGTH: 10,
  /**
   * Results of writeBlock below 0 (at or above 0: the block's bytes): the view list is full; a check refused the
   * frame before anything was appended; the block would make the fragment too large (its ranges were appended:
   * the caller truncates). In every case the state is as it was, and MkvWriter names the refusal with its own checks.
   */
  LIST_FULL: -1,
  REFUSED: -2,
  TOO_LARGE: -3,
} as const);
