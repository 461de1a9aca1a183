/**
 * The byte searches the readers need. Scanning payload bytes is the real cost of the media path (design.md §3):
 * in XS's interpreter a JS byte loop — or even Uint8Array.prototype.indexOf — costs hundreds of ARM instructions
 * per byte, so the XS board does them in C (firmware/runtime/scan.c). Boards without a port (Node) use the core's
 * JS loops, which V8's JIT runs fast.
 */
export interface ByteScanPort {
  /** The first index i in [from, to) with bytes[i] === value, or -1. Never reads outside [from, to). */
  indexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number;
  /**
   * H.264 Annex-B start codes (B.1.1) in one call per read, so JS sees a few records per frame and never a
   * payload byte. For each `00 00 01` whose 01 is at an index p in [from + 2, to), in order: found[2k] = p and
   * found[2k + 1] = the number of zero bytes just before p, counted back no further than index `from` (>= 2).
   * Stops once `found` holds found.length / 2 pairs; returns the number of pairs written. Never reads outside
   * [from, to). Optional: without it the H.264 scanner runs its own JS loop.
   */
  findStartCodes?(bytes: Uint8Array, from: number, to: number, found: Uint32Array): number;
  /**
   * The H.264 reader's walk over one read (its common case, H.264 7.4.1.2.3), so JS handles one record per NAL
   * unit and reads no byte. `zeros` zero bytes precede `from` (carried from earlier reads); `hasVcl`: the access
   * unit in progress, with the open NAL, has a slice. For each start code whose 01 is at p in [from, to), in order,
   * out[1 + 4k ..] = p, the zero bytes just before p (the carried ones included, >= 2), the type of the NAL unit it
   * begins, and 1 if that NAL begins a new access unit, else 0. The type is 255 when the port leaves that NAL to the
   * reader's own classification (its header or the byte after it is not in the read, is zero, or has
   * forbidden_zero_bit set); that record is the last. It also stops when `out` is full (resume past the last p
   * with no zeros carried); otherwise out[0] = the zero bytes at the end (the carried ones included if the range is
   * all zeros). Returns the number of records. Never reads outside [from, to). Optional: the XS board has it.
   */
  classifyNals?(bytes: Uint8Array, from: number, to: number, zeros: number, hasVcl: boolean, out: Uint32Array): number;
  /**
   * The H.264 reader's steady state, one call per access unit (issue 12): from `from`, walks the start codes of
   * bytes[from..to) (the read; bytes[i] is at logical offset base + i, and bytes before `from` are earlier reads in
   * the same slot), closes the open NAL unit of `state` into the access unit's `table` (4 entries per NAL unit:
   * logical header offset, length, start-code length, type; MAX_NALS_PER_FRAME rows) with exactly the checks the
   * reader's closeNal would pass silently (the first 32 bits of a slice checked against the active parameter sets;
   * an SPS or PPS identical to `sps` / `pps`, the stored copies), and opens the next NAL unit (H.264 7.4.1.2.3),
   * until: the read is walked (AU_WALK.DONE; QUIET when it held no start code, so only state[ZEROS] changed), the
   * new NAL unit begins the next access unit (FRAME: the complete access unit is state[DONE_START, DONE_END,
   * DONE_COUNT, DONE_KEY] with its rows still in `table` until the next call; the next access unit is begun in the
   * state with the new NAL unit open), or anything the reader must judge (HANDOVER: nothing
   * of that start code was taken; the reader's own walk goes on at state[STOP] with state[ZEROS] carried). The
   * state layout and the list of what is handed over: firmware/core/h264/accessUnitWalk.ts and accessunits.c.
   * Requires an access unit being assembled with a classified open NAL unit.
   *
   * With the reader's `cursor` (its StreamCursor), `pool` (its FramePool) and `batch` (an Array of records) and
   * state[CLOSE] = 1, a complete access unit is not returned as FRAME when the reader would simply emit it (issue 12,
   * several frames per call): unless it is larger than state[SLOT_BYTES], the pool has no free record, `batch` has no
   * entry state[BATCH], or the cursor does not hold its range, the port takes the record on top of the pool's free
   * stack (what FramePool.takeFrame does to its `freeFrames`, `freeCount`, `freeLow`), fills it as fillFrameRecord
   * does with seq state[SEQ], stores it at batch[state[BATCH]], increments state[BATCH] and state[SEQ], and walks on.
   * The reader hands the batch to its onFrame before anything else. With the cursor, pool and batch, the bytes the
   * checks need of a NAL unit begun before `bytes` (a frame read across two slots) are read from the cursor's
   * previous slot, as its byteAt does; without them such a NAL unit is handed over. Optional: the XS board has it.
   */
  closeAccessUnit?(
    bytes: Uint8Array,
    from: number,
    to: number,
    base: number,
    state: Float64Array,
    table: Float64Array,
    sps: Uint8Array,
    pps: Uint8Array,
    cursor?: object,
    pool?: object,
    batch?: unknown[],
  ): number;
  /**
   * With closeAccessUnit: a camera read of `n` bytes in the H.264 reader's steady state in one call (issue 12). On
   * the reader's StreamCursor (io names it `object`): what `commit(n)` does to its `targetOffset`, `targetSpace` and
   * `position`, then closeAccessUnit over the read (`cursor.target` from the old `targetOffset`, base = the old
   * `position` minus it) with `state`, `table`, `sps`, `pps` and `cursor`, `pool`, `batch`; returns its result.
   * Returns -1 with nothing changed when `n` is not an integer from 1 to `targetSpace` (the reader's push then
   * refuses it as without the port).
   */
  pushAccessUnits?(
    cursor: object,
    n: number,
    state: Float64Array,
    table: Float64Array,
    sps: Uint8Array,
    pps: Uint8Array,
    pool?: object,
    batch?: unknown[],
  ): number;
  /**
   * With pushAccessUnits: the camera's read itself in the H.264 reader's steady state (issue 12), on the reader's own
   * fields (io names it `object`; found by name): `portOwns` and `phase` (the steady state: true and 0, READY), and
   * `cursor`, `auWalk` (the state), `au` (its `table`), `walkSps`, `walkPps`, `pool` and `batch`, what the reader
   * passes pushAccessUnits. In the steady state, when `source.fd` is a non-negative integer and the cursor's
   * prepared space is in a slot (`targetSpace` >= 1, not `onScratch`): a read(2) of at most min(`limit`,
   * `targetSpace`) bytes (`limit` >= 1) from that fd into `cursor.target` at `targetOffset`; when it brought n > 0
   * bytes, `source.lastReadAt` = the board's monotonic ms right after it (only when the field holds a
   * number other than NaN: a source without read times keeps NaN), then exactly what pushAccessUnits does with those
   * fields and n. Returns n when the reader has nothing more to do (a source without read times, and a result of
   * QUIET, or DONE with state[AU_WALK.BATCH] 0), else -n with the result in state[AU_WALK.RESULT] (DONE only with
   * records in the batch: QUIET otherwise), plus AU_WALK.TIMED when the source has read times. Returns 0 with nothing
   * changed (nothing read, or a read that brought no bytes: would block, end of stream, an error): the caller then
   * reads through `source.read`, which repeats the syscall and decides. Every field is checked before the read.
   * Optional: the XS board has it.
   */
  readAccessUnits?(source: object, limit: number, reader: object): number;
  /**
   * The JPEG scanner (firmware/core/mjpeg/JpegScanner.scan) in one call per event: consumes bytes[from..to) up to
   * the first SOI, EOI or error and returns the index of the first unconsumed byte, on `state` (JpegScanner.state,
   * the layout of firmware/core/mjpeg/jpegScanState.ts), exactly as the TypeScript scan would: the same index, state
   * record and event, so either continues the other. Throws RangeError for a record no scan could leave. Never
   * reads outside [from, to). Optional: without it the scanner runs in TypeScript.
   */
  scanJpeg?(bytes: Uint8Array, from: number, to: number, state: Uint32Array): number;
  /**
   * With scanJpeg: a camera read of `n` bytes in one call. On the reader's StreamCursor (io names it `object`): what
   * `commit(n)` does to its `targetOffset`, `targetSpace` and `position`, then the JPEG scan over the n bytes with
   * `state` (JpegScanner.state) on the reader's image walk `walk` (firmware/core/mjpeg/mjpegWalk.ts, MJPEG_WALK): an
   * image being assembled is scanned no further than SLOT_BYTES from its IMAGE_START. Without `pool` and `batch` the
   * scan stops at the first event (in `state`), as scanJpeg. With them (and fillFrameRecord) it goes on past the
   * events MjpegReader would simply take: an SOI at or before GAP_START (no gap), and the EOI of an image of the size
   * in WIDTH and HEIGHT, which it completes as a frame record from the pool's free stack (fillFrameRecord's fill, seq
   * SEQ, key) at batch[BATCH], updating the walk as the reader would. Any other event (a gap, a new size, no free
   * record or batch entry, an error, the cap) stops it there, untaken. Returns the index of the first byte not
   * consumed, or -1 with nothing changed when `n` is not an integer from 1 to `targetSpace` (the reader's push then
   * refuses it as without the port). Throws RangeError, before anything changes, for a record no reader leaves.
   */
  pushJpeg?(cursor: object, n: number, state: Uint32Array, walk: Float64Array, pool?: object, batch?: unknown[]): number;
  /**
   * With pushJpeg: the camera's read itself (issue 12), as readAccessUnits does it (the same conditions, the same
   * read(2) and `source.lastReadAt`), in the MjpegReader's READY phase, then exactly what pushJpeg does with the n
   * bytes it brought, on the reader's own fields (`cursor`, `jpeg`, `walk`, `pool`, `batch`; io names the reader
   * `object`). When the walk consumed the whole read and the bytes outside images need no check (their run is at most
   * walk[GAP_FREE]), it also does the reader's tail: the cursor's `keepFrom` (the image's start, or the read's end).
   * Returns n when the reader has nothing more to do (that, no record in the batch, a source without read times);
   * else -n, with walk[STOP] the index of the first byte not consumed (-1: all, and the tail done) and walk[TIMED] 1
   * when the source has read times. 0 with nothing changed when the reader is not READY, nothing was read or the read
   * brought no bytes: the caller then reads through `source.read`. Every field is checked before the read.
   */
  readJpeg?(source: object, limit: number, reader: object): number;
  /**
   * With closeAccessUnit: the access unit's table (`count` rows of logical header offset, length, start-code
   * length, type) into a frame record's NAL arrays, offsets minus `start`. Throws RangeError past any array.
   */
  copyNalTable?(table: Float64Array, count: number, start: number, offsets: Uint32Array, lengths: Uint32Array, prefixes: Uint8Array, types: Uint8Array): void;
  /**
   * With closeAccessUnit: a complete access unit's whole frame record in one call (issue 12), on the core's own
   * objects (a Frame record and the reader's StreamCursor; io names them `object` and imports nothing): what
   * Frame.reset, StreamCursor.fillFrame (logical range [start, end) as piece A, and piece B when it goes on into
   * the cursor's current slot; one reference on each slot) and copyNalTable do, plus seq and key. Throws
   * RangeError, before writing anything, when the range is not held or lies in the overflow scratch.
   */
  fillFrameRecord?(frame: object, cursor: object, table: Float64Array, count: number, start: number, end: number, seq: number, key: boolean): void;
}
