import { FieldcamError } from '../errors.ts';
import { MAX_NALS_PER_FRAME, type Frame } from '../media/Frame.ts';
import type { ViewList } from '../media/ViewList.ts';

/**
 * Record formats (SpoolLog keeps the format of each record in its header, docs/spool.md "On storage"):
 * 1: count u32, then per video frame pts, dts, duration f64, size u32, flags u8, NAL count u8 (30 bytes) and its NAL
 *    table; then the payloads. Written before event tags and audio were spooled; still read.
 * 2: count u32, tags length u32, then per entry (video frame or audio packet) pts, dts, duration f64, size u32,
 *    flags u8, NAL count u8, track u8, one spare byte (32 bytes) and its NAL table; the fragment's clip Tags; the payloads.
 */
export const RECORD_FORMAT = 2;
export const LEGACY_RECORD_FORMAT = 1;
const ENTRY = [0, 30, 32] as const;
const HEAD = [0, 4, 8] as const;
const NAL_META = 10;
const FLAG_KEY = 1;
const FLAG_FRAGMENT_START = 2;
/** Clip Tags a record keeps by default (an event clip's are under 700 bytes: EventGate, ClipMetadata). */
export const MAX_RECORD_TAG_BYTES = 1024;

/**
 * One whole fragment as a spool record (issue 15): a small table of its entries' timing, flags, track and NAL units,
 * the fragment's clip Tags (an event clip's MKV tags, docs/events.md), then the payload bytes in order — video frames
 * and audio packets interleaved as the live path sends them. Encoding gathers the payloads straight from the pool
 * slots (no copy: the ViewList points into them until the record is appended).
 *
 * Decoding never needs the whole record in memory: the reader reads the record's head (at most `headCapacity`
 * bytes) into `head`, `parse` checks the table and finds each entry's payload, and `fill` rebuilds one entry's
 * Frame record at a time; the payload is read separately into whatever buffer the reader has (bounded by the
 * largest frame, not the fragment). Both tables are allocated once, for `maxEntries` entries of which at most
 * `maxVideoFrames` carry a NAL table of `nalsPerFrame` units (audio packets have none): a table that would not fit is
 * refused by encode and corrupt to parse.
 */
export class FragmentRecord {
  readonly maxEntries: number;
  readonly nalsPerFrame: number;
  readonly maxTagBytes: number;
  /** Bytes of a record's start that hold its whole table and tags, at most. */
  readonly headCapacity: number;
  /** Where a record's head is read for `parse` (its first min(headCapacity, length) bytes). */
  readonly head: Uint8Array;
  private readonly table: Uint8Array;
  private readonly view: DataView;
  private readonly headView: DataView;
  // What parse found: per entry, its table offset, payload offset and size (in the record).
  private readonly entryAt: Uint32Array;
  private readonly payloadAt: Uint32Array;
  private readonly sizes: Uint32Array;
  private format = RECORD_FORMAT;
  private parsed = 0;
  private tagBytes: Uint8Array | undefined;

  constructor(maxEntries: number, nalsPerFrame: number = MAX_NALS_PER_FRAME, maxTagBytes: number = MAX_RECORD_TAG_BYTES, maxVideoFrames = maxEntries) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!Number.isInteger(nalsPerFrame) || nalsPerFrame < 0 || nalsPerFrame > 255) throw new RangeError('nalsPerFrame must be 0-255');
    this.maxEntries = maxEntries;
    this.nalsPerFrame = nalsPerFrame;
    this.maxTagBytes = maxTagBytes;
    const nalTables = Math.min(maxEntries, maxVideoFrames) * NAL_META * nalsPerFrame;
    this.headCapacity = HEAD[RECORD_FORMAT] + maxEntries * ENTRY[RECORD_FORMAT] + nalTables + maxTagBytes;
    this.table = new Uint8Array(this.headCapacity);
    this.view = new DataView(this.table.buffer);
    this.head = new Uint8Array(this.headCapacity);
    this.headView = new DataView(this.head.buffer);
    this.entryAt = new Uint32Array(maxEntries);
    this.payloadAt = new Uint32Array(maxEntries);
    this.sizes = new Uint32Array(maxEntries);
  }

  /**
   * Appends the record of `count` entries (`frameAt(0)` opens the fragment) and the fragment's `tags` to `out`: the
   * table (valid until the next encode), the tags (the caller's view) and each entry's payload pieces. `out` needs
   * 2 + 2 × count free ranges. False when it cannot be a record (too many entries, NAL units or tag bytes).
   */
  encode(count: number, frameAt: (i: number) => Frame, tags: Uint8Array | undefined, out: ViewList): boolean {
    const tagLength = tags === undefined ? 0 : tags.length;
    if (count < 1 || count > this.maxEntries || tagLength > this.maxTagBytes) return false;
    const v = this.view;
    v.setUint32(0, count, true);
    v.setUint32(4, tagLength, true);
    let at = HEAD[RECORD_FORMAT];
    for (let i = 0; i < count; i++) {
      const f = frameAt(i);
      if (f.nalCount > this.nalsPerFrame || at + ENTRY[RECORD_FORMAT] + NAL_META * f.nalCount + tagLength > this.table.length) return false;
      v.setFloat64(at, f.pts, true);
      v.setFloat64(at + 8, f.dts, true);
      v.setFloat64(at + 16, f.duration, true);
      v.setUint32(at + 24, f.size, true);
      v.setUint8(at + 28, (f.key ? FLAG_KEY : 0) | (f.fragmentStart ? FLAG_FRAGMENT_START : 0));
      v.setUint8(at + 29, f.nalCount);
      v.setUint8(at + 30, f.track);
      v.setUint8(at + 31, 0);
      at += ENTRY[RECORD_FORMAT];
      for (let k = 0; k < f.nalCount; k++) {
        v.setUint32(at, f.nalOffset[k]!, true);
        v.setUint32(at + 4, f.nalLength[k]!, true);
        v.setUint8(at + 8, f.nalPrefix[k]!);
        v.setUint8(at + 9, f.nalType[k]!);
        at += NAL_META;
      }
    }
    out.push(this.table, 0, at);
    if (tags !== undefined && tagLength > 0) out.push(tags, 0, tagLength);
    for (let i = 0; i < count; i++) {
      const f = frameAt(i);
      if (f.endA > f.startA) out.push(f.slotA!.bytes, f.startA, f.endA - f.startA);
      if (f.slotB && f.endB > f.startB) out.push(f.slotB.bytes, f.startB, f.endB - f.startB);
    }
    return true;
  }

  /**
   * Checks the table of a record of `length` bytes in format `format`, whose first `got` bytes (min(headCapacity,
   * length)) were read into `head`; returns its entry count. A table that does not fit its record, or more entries
   * or NAL units than allocated, is STORAGE_CORRUPT (the CRC passed, so writer and reader disagree: never trusted).
   */
  parse(format: number, length: number, got: number): number {
    this.parsed = 0;
    this.tagBytes = undefined;
    if (format !== RECORD_FORMAT && format !== LEGACY_RECORD_FORMAT) throw corrupt(`format ${format}`);
    const headBytes = HEAD[format];
    const entry = ENTRY[format];
    if (got > this.head.length || got > length || got < headBytes) throw corrupt(`record of ${length} bytes`);
    const v = this.headView;
    const count = v.getUint32(0, true);
    const tagLength = format === RECORD_FORMAT ? v.getUint32(4, true) : 0;
    if (count < 1 || count > this.maxEntries) throw corrupt(`${count} entries (room for ${this.maxEntries})`);
    if (tagLength > this.maxTagBytes) throw corrupt(`${tagLength} bytes of tags (room for ${this.maxTagBytes})`);
    let at = headBytes;
    for (let i = 0; i < count; i++) {
      if (at + entry > got) throw corrupt('entry table past the record');
      const nals = v.getUint8(at + 29);
      if (nals > this.nalsPerFrame) throw corrupt(`entry ${i}: ${nals} NAL units (room for ${this.nalsPerFrame})`);
      this.entryAt[i] = at;
      at += entry + NAL_META * nals;
    }
    if (at + tagLength > got) throw corrupt('tags past the record');
    // One view per record (not per frame): the clip Tags the session writes before the fragment's Cluster.
    if (tagLength > 0) this.tagBytes = this.head.subarray(at, at + tagLength);
    let payload = at + tagLength;
    for (let i = 0; i < count; i++) {
      const e = this.entryAt[i]!;
      const size = v.getUint32(e + 24, true);
      if (payload + size > length) throw corrupt(`entry ${i}: ${size} bytes past the record`);
      const nals = v.getUint8(e + 29);
      for (let k = 0; k < nals; k++) {
        const n = e + entry + k * NAL_META;
        if (v.getUint32(n, true) + v.getUint32(n + 4, true) > size) throw corrupt(`entry ${i}: NAL ${k} past the frame`);
      }
      this.payloadAt[i] = payload;
      this.sizes[i] = size;
      payload += size;
    }
    this.format = format;
    this.parsed = count;
    return count;
  }

  /** The clip Tags of the record parsed last (a view into `head`), undefined when it has none. */
  tags(): Uint8Array | undefined {
    return this.tagBytes;
  }

  /** Offset of entry `i`'s payload in the record parsed last, and its size. */
  payloadOffset(i: number): number {
    return this.payloadAt[this.index(i)]!;
  }

  payloadSize(i: number): number {
    return this.sizes[this.index(i)]!;
  }

  /** Entry `i`'s track (0 video, 1-2 audio). */
  trackOf(i: number): number {
    return this.format === RECORD_FORMAT ? this.headView.getUint8(this.entryAt[this.index(i)]! + 30) : 0;
  }

  /** Entry `i`'s timecode (ms). */
  ptsOf(i: number): number {
    return this.headView.getFloat64(this.entryAt[this.index(i)]!, true);
  }

  /**
   * Fills `f` with entry `i` of the record parsed last: timing, flags, track and NAL table (its capacity must hold
   * nalsPerFrame). The payload pointers are the caller's (it reads the bytes where it wants them).
   */
  fill(i: number, f: Frame): void {
    const v = this.headView;
    const e = this.entryAt[this.index(i)]!;
    const nals = v.getUint8(e + 29);
    if (nals > f.nalOffset.length) throw new RangeError(`a frame record with ${f.nalOffset.length} NAL entries cannot hold ${nals}`);
    f.pts = v.getFloat64(e, true);
    f.dts = v.getFloat64(e + 8, true);
    f.duration = v.getFloat64(e + 16, true);
    const flags = v.getUint8(e + 28);
    f.key = (flags & FLAG_KEY) !== 0;
    f.fragmentStart = (flags & FLAG_FRAGMENT_START) !== 0;
    f.track = this.format === RECORD_FORMAT ? v.getUint8(e + 30) : 0;
    f.sent = false;
    f.held = false;
    f.clip = 0;
    f.capturedAt = -1;
    f.nalCount = nals;
    let n = e + ENTRY[this.format];
    for (let k = 0; k < nals; k++) {
      f.nalOffset[k] = v.getUint32(n, true);
      f.nalLength[k] = v.getUint32(n + 4, true);
      f.nalPrefix[k] = v.getUint8(n + 8);
      f.nalType[k] = v.getUint8(n + 9);
      n += NAL_META;
    }
  }

  private index(i: number): number {
    if (i < 0 || i >= this.parsed) throw new RangeError(`entry ${i} outside 0..${this.parsed - 1}`);
    return i;
  }
}

function corrupt(what: string): FieldcamError {
  return new FieldcamError('STORAGE_CORRUPT', `spool fragment record: ${what}`);
}
