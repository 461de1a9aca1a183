/**
 * The MJPEG reader's image walk (`MjpegReader.walk`, a Float64Array of LENGTH entries): where the reader is between
 * images, kept in one record so the board's camera read (ByteScanPort.pushJpeg / readJpeg; firmware/runtime/images.c,
 * which mirrors these indices) walks a read past the images the reader would simply emit and completes them itself.
 * Offsets are logical (bytes since the stream began), so a Float64Array: a camera passes 2^32 bytes in about an hour.
 */
export const MJPEG_WALK = Object.freeze({
  /** 1 inside an image that will be emitted (0 outside, and while a dropped image is skipped to its EOI). */
  ASSEMBLING: 0,
  /** The logical offset of that image's SOI. */
  IMAGE_START: 1,
  /** Where the bytes outside any image began (the last image's end). */
  GAP_START: 2,
  /** 1 once an image began. */
  SAW_IMAGE: 3,
  /** In: the pool's slot size, the largest image; one being assembled is scanned no further than this from its SOI. */
  SLOT_BYTES: 4,
  /** In: the size the reader last announced (onFormat), 0 before the first image: another size is the reader's. */
  WIDTH: 5,
  HEIGHT: 6,
  /** The seq of the next frame. */
  SEQ: 7,
  /** Records the board's walk completed into the reader's batch (it appends at this index); the reader empties it. */
  BATCH: 8,
  /** The reader's: when a callback threw, the first record of the batch not handed out (it and the rest go back to the pool). */
  HANDED: 9,
  /** In: the longest run of bytes outside images the reader need not check (its limits' least; Infinity when lenient). */
  GAP_FREE: 10,
  /**
   * Out (readJpeg, when it returned -n): the index of the first byte of the read the walk did not consume, for the
   * reader's `parse`; -1 when it consumed them all and did what `parse` does after (the gap, the cursor's keepFrom).
   */
  STOP: 11,
  /** Out (readJpeg, when it returned -n): 1 when the source has read times (the reader notes the read's time first). */
  TIMED: 12,
  /** Entries of the record. */
  LENGTH: 13,
} as const);
