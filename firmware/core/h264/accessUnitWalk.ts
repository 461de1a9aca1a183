/**
 * The state a board's access-unit walk (ByteScanPort.closeAccessUnit; firmware/runtime/accessunits.c on the XS
 * board) shares with H264Reader: indices into one reused Float64Array, and what a call returns. The C file
 * repeats these numbers (its enum); this table is where they are defined.
 */
export const AU_WALK = Object.freeze({
  /**
   * In: zero bytes just before `from`. Out (DONE, QUIET): zero bytes at the end of the read; (FRAME): 0, for the
   * next call from STOP + 1; (HANDOVER): to carry into the reader's walk.
   */
  ZEROS: 0,
  /** Out (FRAME): index of the 01 of the start code that begins the next access unit; (HANDOVER): where the reader's walk goes on. */
  STOP: 1,
  /** The open NAL unit (in and out): logical offset of its start code, of its header byte, its start code's length, its type. */
  NAL_START: 2,
  NAL_HEADER: 3,
  NAL_PREFIX: 4,
  NAL_TYPE: 5,
  /** The access unit being assembled (in and out): logical end of its last NAL unit, NAL units in the table, has a slice (1/0), has an IDR slice (1/0). */
  AU_END: 6,
  AU_COUNT: 7,
  AU_HAS_VCL: 8,
  AU_KEY: 9,
  /** In: PicSizeInMbs of the active SPS, 0 while the parameter sets are not ready; pic_parameter_set_id of the stored PPS. */
  PIC_SIZE: 10,
  PPS_ID: 11,
  /** The access unit being assembled (in and out): logical offset of its first start code; the walk sets it when one begins. */
  AU_START: 12,
  /**
   * Out (FRAME): the complete access unit, whose NAL units are the first DONE_COUNT rows of the table (valid until
   * the next call): its start, end, NAL units, and 1 when it holds an IDR slice. The AU_ entries then hold the next
   * access unit, begun with the open NAL unit (AccessUnit.begin), so the reader copies no state per frame.
   */
  DONE_START: 13,
  DONE_END: 14,
  DONE_COUNT: 15,
  DONE_KEY: 16,
  /**
   * In: 1 when the walk may complete a steady-state access unit itself (given the reader's cursor, pool and batch):
   * the reader sets it while no key frame is awaited and no parameter-set change waits to be announced, the cases
   * where its closedAu would simply emit the access unit. The walk then fills a record from the pool's free stack
   * (as fillFrameRecord, seq SEQ) and appends it to the batch instead of returning FRAME; it still returns FRAME when
   * the access unit is larger than SLOT_BYTES, no record is free, the batch is full, or the cursor does not hold it.
   */
  CLOSE: 17,
  /** In: the pool's slot size (pool.sizing.slotBytes). */
  SLOT_BYTES: 18,
  /** In and out: the seq of the next frame (incremented for each record the walk completes). */
  SEQ: 19,
  /** In and out: records in the batch (the walk appends at this index); the reader sets it to 0 once it handed them out. */
  BATCH: 20,
  /** The reader's own: when a callback threw, the first record of the batch not handed out (it and the rest go back to the pool). */
  HANDED: 21,
  /**
   * Out (ByteScanPort.readAccessUnits, when it returned -n): the walk's result, what pushAccessUnits would have
   * returned, plus TIMED when the source has read times.
   */
  RESULT: 22,
  /** Entries of the state array. */
  LENGTH: 23,
  /**
   * Results: the read is walked; an access unit is complete (the open NAL unit begins the next); the reader's walk
   * takes over; the read is walked and held no start code (only ZEROS changed: the middle of a slice).
   */
  DONE: 0,
  FRAME: 1,
  HANDOVER: 2,
  QUIET: 3,
  /** Added to RESULT by readAccessUnits for a source with read times. */
  TIMED: 4,
} as const);
