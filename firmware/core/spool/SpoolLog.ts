import type { StorageFile, StoragePort } from '../../io/Storage.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import type { ViewList } from '../media/ViewList.ts';
import { crc32 as crc32InJs } from './crc32.ts';

/**
 * Record header, little-endian: magic, payload length, sequence number, fragment timecode, CRC-32 of bytes
 * 0-23, 28-31 and the payload, then the video frames (u16) and audio packets (u16) in the record (the caller's
 * counts, kept in the index). 32 bytes keeps the f64 fields aligned in the scratch.
 *
 * The magic names the record format: "FCS" and a version byte. "FCSP" is format 1 (video frames only, its count a
 * u32 whose high half is always 0, so it reads as 0 audio packets); "FCS2" is format 2 (FragmentRecord: clip Tags,
 * audio). The payload's layout is the caller's (FragmentRecord): the log only keeps and returns each record's format.
 * A record of a format this firmware does not know (a newer firmware wrote it) is refused with STORAGE_VERSION,
 * and the spool is left as it is: never cut as if it were torn.
 */
const HEADER = 32;
const MAGIC_BASE = 0x00534346; // "FCS" + the version byte (bits 24-31)
const MAGIC_MASK = 0x00ffffff;
/** Version byte → record format. */
const FORMAT_OF_VERSION: Readonly<Record<number, number>> = Object.freeze({ 80: 1, 50: 2 }); // 'P', '2'
const VERSION_OF_FORMAT: Readonly<Record<number, number>> = Object.freeze({ 1: 0x50, 2: 0x32 });
/** The format append() writes (FragmentRecord's RECORD_FORMAT). */
export const SPOOL_RECORD_FORMAT = 2;
const WATERMARK = 'released';
const WATERMARK_TMP = 'released.tmp';
const SEGMENT_SUFFIX = '.seg';
const SEQ_DIGITS = 16;

export interface SpoolLogOptions {
  readonly storage: StoragePort;
  /** The spool's folder (created when missing). */
  readonly dir: string;
  /** A new segment file is started once the active one would pass this. */
  readonly segmentBytes: number;
  /** Records the in-memory index holds (fixed at construction). */
  readonly maxRecords: number;
  /** Largest payload; a header claiming more is corrupt (the bound of the reader). */
  readonly maxRecordBytes: number;
  /**
   * Memory for open()'s checksum pass (the caller's read buffer, outside the JS heap where the board has such
   * memory); absent: min(maxRecordBytes, 64 KiB) of its own. Used only inside open().
   */
  readonly scratch?: Uint8Array;
}

/** What `open()` found. */
export interface SpoolOpenReport {
  /** Unreleased complete records kept. */
  readonly records: number;
  /** Bytes cut: torn tails (a crash mid-append) and whatever followed a corrupt record in its segment. */
  readonly cutBytes: number;
  /** Records cut because their checksum or header was wrong (a torn tail counts as one). */
  readonly cutRecords: number;
  /** Segment files removed because every record in them had been released. */
  readonly segmentsRemoved: number;
}

interface Segment {
  readonly name: string;
  readonly file: StorageFile;
  bytes: number;
  lastSeq: number;
}

/**
 * Whole records (fragments) in append-only segment files, crash-safe (issue 15, docs/reliability.md):
 * - append() writes header and payload at the end of the active segment and fsyncs: once it returns, the record
 *   survives a power cut. Nothing is ever rewritten in place.
 * - open() re-reads every segment, checks each record's header and CRC-32, and cuts the file at the first record
 *   that fails (a torn tail): every complete record is kept, no torn one is ever returned.
 * - release(seq) moves the RELEASED watermark (a 12-byte file replaced atomically: temporary, fsync, rename) and
 *   removes segments whose records are all released. A record is released once KVS acknowledged it PERSISTED,
 *   or when it was dropped (cap). A crash between the acknowledgement and the watermark write sends the fragments
 *   released since the last write again: at most the one being released, as the watermark is written on each.
 * Records carry a sequence number, so order and the watermark never depend on the wall clock (a board without
 * an RTC spools from boot with a clock that is later corrected).
 */
export class SpoolLog {
  private readonly o: SpoolLogOptions;
  /** The board's CRC-32 when it has one (in C on XS), else the core's loop. */
  private readonly crc32: (crc: number, bytes: Uint8Array, offset: number, length: number) => number;
  private readonly header = new Uint8Array(HEADER);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly mark = new Uint8Array(12);
  private readonly markView = new DataView(this.mark.buffer);
  private readonly scratch: Uint8Array;
  private readonly segments: Segment[] = [];
  // The index: a ring of unreleased records, oldest first.
  private readonly seqs: Float64Array;
  private readonly timecodes: Float64Array;
  private readonly lengths: Uint32Array;
  private readonly offsets: Float64Array;
  private readonly segmentOf: Float64Array;
  private readonly frames: Uint16Array;
  private readonly packets: Uint16Array;
  private readonly formats: Uint8Array;
  private head = 0;
  private n = 0;
  private released = -1;
  private nextSeq = 0;
  private opened = false;
  private closed = false;
  /** The format of the record checkRecord read last. */
  private format = SPOOL_RECORD_FORMAT;
  /** Payload bytes of the records held. */
  bytes = 0;
  /** Bytes appended since open (header included): flash wear. */
  bytesWritten = 0;

  constructor(options: SpoolLogOptions) {
    for (const key of ['segmentBytes', 'maxRecords', 'maxRecordBytes'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) throw new RangeError(`${key} must be a positive integer`);
    }
    this.o = options;
    const storage = options.storage;
    this.crc32 = storage.crc32 ? (crc, bytes, offset, length) => storage.crc32!(crc, bytes, offset, length) : crc32InJs;
    this.scratch = options.scratch ?? new Uint8Array(Math.min(options.maxRecordBytes, 64 * 1024));
    if (this.scratch.length < 1) throw new RangeError('scratch must hold at least one byte');
    this.seqs = new Float64Array(options.maxRecords);
    this.timecodes = new Float64Array(options.maxRecords);
    this.lengths = new Uint32Array(options.maxRecords);
    this.offsets = new Float64Array(options.maxRecords);
    this.segmentOf = new Float64Array(options.maxRecords);
    this.frames = new Uint16Array(options.maxRecords);
    this.packets = new Uint16Array(options.maxRecords);
    this.formats = new Uint8Array(options.maxRecords);
  }

  /** Largest payload of one record (a read buffer of this size holds any record). */
  get maxRecordBytes(): number {
    return this.o.maxRecordBytes;
  }

  /** The sequence number the next append gets. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  get count(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n === this.o.maxRecords;
  }

  /** Sequence number, fragment timecode and payload length of held record `i` (0 = oldest). */
  seqAt(i: number): number {
    return this.seqs[this.slot(i)]!;
  }

  timecodeAt(i: number): number {
    return this.timecodes[this.slot(i)]!;
  }

  lengthAt(i: number): number {
    return this.lengths[this.slot(i)]!;
  }

  /** The video frame count given to append() for held record `i`. */
  framesAt(i: number): number {
    return this.frames[this.slot(i)]!;
  }

  /** The audio packet count given to append() for held record `i` (0 in format 1). */
  packetsAt(i: number): number {
    return this.packets[this.slot(i)]!;
  }

  /** The record format of held record `i` (FragmentRecord decodes it). */
  formatAt(i: number): number {
    return this.formats[this.slot(i)]!;
  }

  /**
   * Reads `length` bytes of held record `i`'s payload, from `position` in it, into `into[offset…]`: a reader with a
   * buffer smaller than the record reads it piece by piece. Returns the count.
   */
  readRange(i: number, position: number, into: Uint8Array, offset: number, length: number): number {
    this.checkOpen();
    const k = this.slot(i);
    const total = this.lengths[k]!;
    if (position < 0 || length < 0 || position + length > total || offset + length > into.length)
      throw new RangeError(`bytes ${position}+${length} of a ${total}-byte record into ${offset} of ${into.length}`);
    const segment = this.segmentBySeq(this.segmentOf[k]!);
    const got = segment.file.read(this.offsets[k]! + HEADER + position, into, offset, length);
    if (got !== length)
      throw new FieldcamError('STORAGE_CORRUPT', `${this.o.dir}/${segment.name}: record ${this.seqs[k]} is short (${got} of ${length} bytes at ${position})`);
    return length;
  }

  /** Reads the whole payload of held record `i` into `into[offset…]` (it must fit); returns its length. */
  read(i: number, into: Uint8Array, offset: number): number {
    return this.readRange(i, 0, into, offset, this.lengthAt(i));
  }

  /** Opens the spool: checks every record, cuts torn tails, drops released segments, builds the index. */
  open(): SpoolOpenReport {
    if (this.closed) throw new RangeError('the SpoolLog is closed');
    if (this.opened) throw new RangeError('open() called twice');
    this.opened = true;
    const { storage, dir } = this.o;
    storage.makeDirectory(dir);
    this.released = this.readWatermark();
    this.nextSeq = this.released + 1;
    let cutBytes = 0;
    let cutRecords = 0;
    let segmentsRemoved = 0;
    const names = storage.list(dir).filter((name) => name.endsWith(SEGMENT_SUFFIX) && name.length === SEQ_DIGITS + SEGMENT_SUFFIX.length);
    for (const name of names) {
      const file = storage.open(`${dir}/${name}`);
      const segment: Segment = { name, file, bytes: 0, lastSeq: -1 };
      const size = file.size;
      let at = 0;
      while (at < size) {
        const length = this.checkRecord(file, at, size);
        if (length < 0) {
          cutBytes += size - at;
          cutRecords++;
          file.truncate(at);
          file.sync();
          break;
        }
        const h = this.headerView;
        const seq = h.getFloat64(8, true);
        if (seq > this.released)
          this.index(seq, h.getFloat64(16, true), length, at, Number(name.slice(0, SEQ_DIGITS)), h.getUint16(28, true), h.getUint16(30, true), this.format);
        segment.lastSeq = seq;
        if (seq >= this.nextSeq) this.nextSeq = seq + 1;
        at += HEADER + length;
      }
      segment.bytes = at;
      if (segment.lastSeq <= this.released) {
        file.close();
        storage.remove(`${dir}/${name}`);
        segmentsRemoved++;
        continue;
      }
      this.segments.push(segment);
    }
    return { records: this.n, cutBytes, cutRecords, segmentsRemoved };
  }

  /**
   * Appends one record in SPOOL_RECORD_FORMAT (the payload gathered from `views`; `frames` video frames and
   * `packets` audio packets are kept beside it) and makes it durable. Returns its sequence number. Throws
   * RangeError when the index is full (the caller drops the oldest first) or the payload is too large.
   */
  append(timecode: number, views: ViewList, frames = 0, packets = 0): number {
    this.checkOpen();
    if (!(frames >= 0 && frames <= 0xffff && packets >= 0 && packets <= 0xffff)) throw new RangeError(`${frames} frames, ${packets} packets: 0-65535 each`);
    if (this.full) throw new RangeError('the spool index is full: release or drop records first');
    const length = views.byteLength;
    if (length > this.o.maxRecordBytes) throw new RangeError(`record of ${length} bytes exceeds maxRecordBytes ${this.o.maxRecordBytes}`);
    const seq = this.nextSeq;
    let segment = this.segments[this.segments.length - 1];
    if (!segment || (segment.bytes > 0 && segment.bytes + HEADER + length > this.o.segmentBytes)) segment = this.newSegment(seq);
    const h = this.headerView;
    h.setUint32(0, MAGIC_BASE | (VERSION_OF_FORMAT[SPOOL_RECORD_FORMAT]! << 24), true);
    h.setUint32(4, length, true);
    h.setFloat64(8, seq, true);
    h.setFloat64(16, timecode, true);
    h.setUint16(28, frames, true);
    h.setUint16(30, packets, true);
    let crc = this.crc32(this.crc32(0, this.header, 0, 24), this.header, 28, 4);
    for (let i = 0; i < views.count; i++) crc = this.crc32(crc, views.sources[i]!, views.offsets[i]!, views.lengths[i]!);
    h.setUint32(24, crc, true);
    const file = segment.file;
    const at = segment.bytes;
    try {
      file.append(this.header, 0, HEADER);
      for (let i = 0; i < views.count; i++) file.append(views.sources[i]!, views.offsets[i]!, views.lengths[i]!);
      file.sync();
    } catch (err) {
      // A partial record (disk full mid-write) must not stay in front of the next one: cut it now.
      if (isFieldcamError(err)) {
        try {
          file.truncate(at);
        } catch {
          // open() cuts it on the next boot
        }
      }
      throw err;
    }
    segment.bytes = at + HEADER + length;
    segment.lastSeq = seq;
    this.nextSeq = seq + 1;
    this.bytesWritten += HEADER + length;
    this.index(seq, timecode, length, at, Number(segment.name.slice(0, SEQ_DIGITS)), frames, packets, SPOOL_RECORD_FORMAT);
    return seq;
  }

  /**
   * Every record up to and including sequence number `seq` is done (PERSISTED, or dropped): the watermark is
   * moved durably, the index forgets them, and segments holding only released records are removed.
   */
  release(seq: number): void {
    this.checkOpen();
    if (seq <= this.released) return;
    this.released = seq;
    // The index first: should the watermark write fail, these records are still forgotten now (they come back
    // once, after the next boot; none is lost).
    while (this.n > 0 && this.seqs[this.head]! <= seq) {
      this.bytes -= this.lengths[this.head]!;
      this.head = (this.head + 1) % this.o.maxRecords;
      this.n--;
    }
    this.writeWatermark(seq);
    while (this.segments.length > 0 && this.segments[0]!.lastSeq <= seq) {
      const segment = this.segments.shift()!;
      segment.file.close();
      this.o.storage.remove(`${this.o.dir}/${segment.name}`);
    }
  }

  /** Closes every file; the spool stays on storage for the next open. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.segments.splice(0)) s.file.close();
    this.n = 0;
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the SpoolLog is closed');
    if (!this.opened) throw new RangeError('the SpoolLog is not open');
  }

  private slot(i: number): number {
    if (i < 0 || i >= this.n) throw new RangeError(`record ${i} outside 0..${this.n - 1}`);
    return (this.head + i) % this.o.maxRecords;
  }

  private index(seq: number, timecode: number, length: number, offset: number, segmentSeq: number, frames: number, packets: number, format: number): void {
    if (this.full) throw new FieldcamError('STORAGE_CORRUPT', `${this.o.dir}: more than ${this.o.maxRecords} unreleased records`);
    const k = (this.head + this.n) % this.o.maxRecords;
    this.seqs[k] = seq;
    this.timecodes[k] = timecode;
    this.lengths[k] = length;
    this.offsets[k] = offset;
    this.segmentOf[k] = segmentSeq;
    this.frames[k] = frames;
    this.packets[k] = packets;
    this.formats[k] = format;
    this.n++;
    this.bytes += length;
  }

  private segmentBySeq(firstSeq: number): Segment {
    for (const s of this.segments) if (Number(s.name.slice(0, SEQ_DIGITS)) === firstSeq) return s;
    throw new RangeError(`no segment ${firstSeq}`);
  }

  private newSegment(seq: number): Segment {
    const name = `${String(seq).padStart(SEQ_DIGITS, '0')}${SEGMENT_SUFFIX}`;
    const file = this.o.storage.open(`${this.o.dir}/${name}`);
    if (file.size > 0) file.truncate(0); // left by a crash before its first record was complete
    const segment: Segment = { name, file, bytes: 0, lastSeq: -1 };
    this.segments.push(segment);
    return segment;
  }

  /**
   * The record at `at` of a file of `size` bytes: its payload length when the header is sane, the record lies
   * within the file and the CRC-32 matches; -1 otherwise. Leaves the header in `this.header`, its format in
   * `this.format`. A whole record of an unknown format (its CRC matches) throws STORAGE_VERSION.
   */
  private checkRecord(file: StorageFile, at: number, size: number): number {
    if (size - at < HEADER || file.read(at, this.header, 0, HEADER) !== HEADER) return -1;
    const h = this.headerView;
    const magic = h.getUint32(0, true);
    const length = h.getUint32(4, true);
    const seq = h.getFloat64(8, true);
    if ((magic & MAGIC_MASK) !== MAGIC_BASE || !Number.isInteger(seq) || seq < 0 || size - at - HEADER < length) return -1;
    const version = magic >>> 24;
    const format = FORMAT_OF_VERSION[version];
    if (format !== undefined && length > this.o.maxRecordBytes) return -1;
    let crc = this.crc32(this.crc32(0, this.header, 0, 24), this.header, 28, 4);
    for (let done = 0; done < length; ) {
      const piece = Math.min(this.scratch.length, length - done);
      if (file.read(at + HEADER + done, this.scratch, 0, piece) !== piece) return -1;
      crc = this.crc32(crc, this.scratch, 0, piece);
      done += piece;
    }
    if (crc !== h.getUint32(24, true)) return -1;
    if (format === undefined) {
      throw new FieldcamError(
        'STORAGE_VERSION',
        `${this.o.dir}: record ${seq} is in format "FCS${String.fromCharCode(version)}", which this firmware does not read (it reads formats 1-${SPOOL_RECORD_FORMAT})`,
      );
    }
    this.format = format;
    return length;
  }

  private readWatermark(): number {
    const { storage, dir } = this.o;
    const names = storage.list(dir);
    if (names.includes(WATERMARK_TMP)) storage.remove(`${dir}/${WATERMARK_TMP}`); // a crash before the rename
    if (!names.includes(WATERMARK)) return -1;
    const file = storage.open(`${dir}/${WATERMARK}`);
    try {
      const ok = file.read(0, this.mark, 0, 12) === 12 && this.crc32(0, this.mark, 0, 8) === this.markView.getUint32(8, true);
      const seq = this.markView.getFloat64(0, true);
      // The watermark is replaced atomically, so a bad one is damage, not a torn write: nothing is released then
      // (fragments may be sent twice, none is lost).
      return ok && Number.isInteger(seq) && seq >= -1 ? seq : -1;
    } finally {
      file.close();
    }
  }

  private writeWatermark(seq: number): void {
    const { storage, dir } = this.o;
    this.markView.setFloat64(0, seq, true);
    this.markView.setUint32(8, this.crc32(0, this.mark, 0, 8), true);
    const tmp = storage.open(`${dir}/${WATERMARK_TMP}`);
    try {
      if (tmp.size > 0) tmp.truncate(0);
      tmp.append(this.mark, 0, 12);
      tmp.sync();
    } finally {
      tmp.close();
    }
    storage.rename(`${dir}/${WATERMARK_TMP}`, `${dir}/${WATERMARK}`);
    this.bytesWritten += 12;
  }
}
