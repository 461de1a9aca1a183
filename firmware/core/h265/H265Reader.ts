import type { ByteScanPort } from '../../io/ByteScan.ts';
import { type ErrorCode, FieldcamError, isFieldcamError } from '../errors.ts';
import { AccessUnit } from '../h264/AccessUnit.ts';
import { AnnexBScanner } from '../h264/AnnexBScanner.ts';
import { checkStreamStart } from '../h264/checkStreamStart.ts';
import type { Frame } from '../media/Frame.ts';
import type { FrameReader } from '../media/FrameReader.ts';
import { PREPARE, type PrepareResult, StreamCursor } from '../media/StreamCursor.ts';
import type { DropReason, FramePool } from '../pool/FramePool.ts';
import { type HevcParameters, HevcParameterSets } from './HevcParameterSets.ts';

export interface H265ReaderOptions {
  readonly pool: FramePool;
  /** Every complete access unit in decode order; the callee owns the record and must `pool.freeFrame()` it. */
  onFrame(frame: Frame): void;
  /** The first VPS/SPS/PPS and every change, called before the first frame that uses them. */
  onParameterSets?(ps: HevcParameters): void;
  /** true (default, offline mux): corrupt input throws. false (device): drop, count, resync at the next IRAP. */
  readonly strict?: boolean;
  /** The board's native byte search (design.md §3) for start codes; absent = the JS scan loop. */
  readonly byteScan?: ByteScanPort;
  /** Bytes of the overflow scratch a live camera is read into while the pool is full (`overflow()`); 0 = none. */
  readonly overflowBytes?: number;
  /** A complete access unit found every frame record held: may the caller free one? (H264ReaderOptions) */
  onNoFrameRecord?(): boolean;
}

// NAL unit types (H.265 Table 7-1).
const VPS = 32;
const SPS = 33;
const PPS = 34;
const AUD = 35;
const PREFIX_SEI = 39;
const FD = 38;
const IRAP_FIRST = 16; // BLA_W_LP .. RSV_IRAP_VCL23: random access points, fieldcam's key frames
const IRAP_LAST = 23;

const AU_NONE = 0;
const AU_COLLECT = 1;
const AU_SKIP = 2;

/** NAL types that begin an access unit once the current one has a picture (7.4.2.4.4), slices aside. */
function beginsAccessUnit(type: number): boolean {
  return (type >= VPS && type <= AUD) || type === PREFIX_SEI || (type >= 41 && type <= 44) || (type >= 48 && type <= 55);
}

/**
 * (One state machine like H264Reader's — scan -> classify -> close -> emit, with lenient recovery — for H.265's
 * NAL syntax; kept apart so H.264's native walk and hot path stay untouched.)
 *
 * Splits an Annex-B H.265 byte stream into access units read straight into pool slots. Boundaries follow
 * 7.4.2.4.4: once the access unit has a picture, a VPS, SPS, PPS, AUD, prefix SEI, NAL types 41..44 / 48..55, or
 * a slice segment with first_slice_segment_in_pic_flag (the first bit after the 2-byte header) begins the next.
 * `key` is true iff the picture is an IRAP (types 16..23). AUD and filler NAL units stay out of the NAL table, so
 * the payload carries neither. B-frames are refused from the SPS (sps_max_num_reorder_pics > 0). Nothing is
 * allocated per frame; parameter sets are copied only when they change.
 */
export class H265Reader implements FrameReader {
  readonly cursor: StreamCursor;
  private readonly pool: FramePool;
  private readonly onFrame: (frame: Frame) => void;
  private readonly onParameterSets: ((ps: HevcParameters) => void) | undefined;
  private readonly onNoFrameRecord: (() => boolean) | undefined;
  private readonly strict: boolean;
  private readonly scanner: AnnexBScanner;
  private readonly params = new HevcParameterSets();
  private readonly au = new AccessUnit();
  private total = 0;
  private leadingZeros = 0;
  private seenStartCode = false;
  private closed = false;
  private open = false;
  private nalStart = 0;
  private nalHeader = 0;
  private nalPrefix = 0;
  private nalType = -1;
  private auState = AU_NONE;
  private auDrop: DropReason = 'corrupt';
  private auSkipVcl = false;
  private seq = 0;
  private awaitKey: boolean;

  corruptDrops = 0;
  lastError: FieldcamError | undefined;
  formatError: FieldcamError | undefined;

  constructor(options: H265ReaderOptions) {
    if (!options || !options.pool) throw new TypeError('options.pool is required');
    if (typeof options.onFrame !== 'function') throw new TypeError('options.onFrame must be a function');
    this.scanner = new AnnexBScanner(64, options.byteScan);
    this.pool = options.pool;
    this.onFrame = options.onFrame;
    this.onParameterSets = options.onParameterSets;
    this.onNoFrameRecord = options.onNoFrameRecord;
    this.strict = options.strict !== false;
    this.awaitKey = !this.strict;
    this.cursor = new StreamCursor(options.pool, options.overflowBytes ?? 0);
  }

  get bytesIn(): number {
    return this.total;
  }

  get sawStartCode(): boolean {
    return this.seenStartCode;
  }

  get parameterSets(): HevcParameters | undefined {
    return this.params.current;
  }

  prepare(): PrepareResult {
    this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      const result = this.cursor.prepare();
      if (result !== PREPARE.FRAME_TOO_LARGE) return result;
      if (this.strict) {
        this.shutdown();
        throw new FieldcamError('POOL_FRAME_TOO_LARGE', `access unit #${this.seq} starting at byte ${this.au.start} is already ` +
          `${this.cursor.position - this.au.start} bytes, more than fits in a ${this.pool.sizing.slotBytes}-byte slot`);
      }
      if (this.auState === AU_COLLECT) this.skipAu('frameTooLarge', false);
      else if (attempt > 0 || !this.open || this.nalType >= 0) {
        this.open = false;
        this.scanner.reset();
      }
      this.updateKeep();
    }
  }

  push(n: number): void {
    this.assertOpen();
    if (!Number.isInteger(n) || n < 0 || n > this.cursor.targetSpace) {
      throw new RangeError(`push(n): n is ${n}, the prepared space is ${this.cursor.targetSpace} bytes`);
    }
    if (n === 0) return;
    const bytes = this.cursor.target;
    const from = this.cursor.targetOffset;
    const base = this.cursor.position - from;
    this.cursor.commit(n);
    try {
      this.total += n;
      if (this.leadingZeros >= 0) this.checkStart(bytes, from, from + n, base);
      const scanner = this.scanner;
      for (let i = from; i < from + n; ) {
        i = scanner.scan(bytes, i, from + n, base);
        for (let k = 0; k < scanner.count; k++) this.startCode(scanner.startAt[k]!, scanner.prefix[k]!, scanner.trailingZeros[k]!);
      }
      if (this.open && this.nalType < 0) this.classify(-1);
      this.updateKeep();
    } catch (err) {
      this.shutdown();
      throw err;
    }
  }

  /** End of input (H264Reader.end): a file's last access unit is emitted, a cut camera's is counted `truncated`. */
  end(lastComplete = true): void {
    this.assertOpen();
    try {
      if (!lastComplete) {
        this.dropTail();
        return;
      }
      if (this.total === 0) throw new FieldcamError('INPUT_EMPTY', 'the H.265 input has no bytes');
      if (!this.seenStartCode && this.strict) throw new FieldcamError('H265_NOT_ANNEXB', `no Annex-B start code (00 00 01) in ${this.total} bytes`);
      if (this.open && this.nalType < 0) this.classify(this.cursor.position);
      if (this.open) this.finishNal(this.cursor.position - this.scanner.zeros);
      if (this.auState === AU_COLLECT && !this.au.hasVcl) {
        this.recover(new FieldcamError('H265_TRUNCATED_NAL', `the stream ends with ${this.au.count} NAL unit(s) from byte ` +
          `${this.au.start} but no slice: access unit #${this.seq} is incomplete`), false);
      }
      if (this.auState !== AU_NONE) this.completeAu();
    } finally {
      this.shutdown();
    }
  }

  /** H264Reader.overflow: drop what is being assembled, read on into the scratch, resume at the next IRAP. */
  overflow(): boolean {
    this.assertOpen();
    if (this.auState === AU_COLLECT) this.skipAu('poolFull', false);
    this.awaitKey = true;
    this.updateKeep();
    if (this.cursor.toScratch()) return true;
    this.open = false;
    this.scanner.reset();
    this.updateKeep();
    return this.cursor.toScratch();
  }

  abandonFrame(): void {
    this.assertOpen();
    if (this.auState === AU_COLLECT) this.skipAu('poolFull', false);
    this.awaitKey = true;
    this.open = false;
    this.scanner.reset();
    this.updateKeep();
  }

  private startCode(startAt: number, prefix: number, trailingZeros: number): void {
    this.seenStartCode = true;
    if (this.open) this.finishNal(startAt - trailingZeros);
    this.open = true;
    this.nalStart = startAt;
    this.nalHeader = startAt + prefix;
    this.nalPrefix = prefix;
    this.nalType = -1;
  }

  private finishNal(end: number): void {
    if (this.nalType < 0) this.classify(end);
    if (this.open && this.nalType >= 0 && this.auState === AU_COLLECT) this.closeNal(end);
    this.open = false;
  }

  /**
   * Reads the open NAL's 2-byte header (and, for a slice after a picture, first_slice_segment_in_pic_flag) and
   * decides whether it begins an access unit. `end` < 0: the NAL's end is not known yet, so it waits while a byte
   * it needs may still be the start of the next start code.
   */
  private classify(end: number): void {
    const h = this.nalHeader;
    const available = end >= 0 ? end : this.cursor.position;
    const auHasVcl = this.auState === AU_COLLECT ? this.au.hasVcl : this.auState === AU_SKIP && this.auSkipVcl;
    let startsAu = false;
    try {
      if (h + 1 >= available) {
        if (end < 0) return;
        throw new FieldcamError('H265_TRUNCATED_NAL', `NAL unit at byte ${this.nalStart} (frame #${this.seq}) is shorter than its 2-byte header`);
      }
      const b0 = this.cursor.byteAt(h);
      const b1 = this.cursor.byteAt(h + 1);
      if (b1 === 0 && end < 0) return;
      if (b0 & 0x80) {
        throw new FieldcamError('H265_FORBIDDEN_BIT', `NAL unit at byte ${h} (header 0x${b0.toString(16)}, frame #${this.seq}) has forbidden_zero_bit set`);
      }
      if ((b1 & 7) === 0) throw new FieldcamError('H265_TRUNCATED_NAL', `NAL unit at byte ${h} (frame #${this.seq}) has nuh_temporal_id_plus1 0`);
      const type = b0 >> 1;
      const layer = ((b0 & 1) << 5) | (b1 >> 3);
      if (type < 32 && layer === 0 && auHasVcl) {
        if (h + 2 >= available) {
          if (end < 0) return;
          throw new FieldcamError('H265_TRUNCATED_NAL', `slice segment at byte ${h} (frame #${this.seq}) is only its header`);
        }
        const next = this.cursor.byteAt(h + 2);
        if (next === 0 && end < 0) return;
        startsAu = (next & 0x80) !== 0; // first_slice_segment_in_pic_flag
      } else if (layer === 0 && beginsAccessUnit(type)) {
        startsAu = auHasVcl;
      }
      // A NAL of another layer (scalable/multiview extensions) joins the access unit with a type no rule matches.
      this.nalType = layer === 0 ? type : 63;
    } catch (err) {
      if (!this.strict && isFieldcamError(err) && this.auState === AU_COLLECT && this.au.hasVcl) this.completeAu();
      this.recover(err, true);
      return;
    }
    if (startsAu) this.completeAu();
    if (this.auState === AU_NONE) {
      if (this.cursor.onScratch) {
        this.auState = AU_SKIP;
        this.auDrop = 'poolFull';
        this.auSkipVcl = false;
        this.awaitKey = true;
      } else {
        this.auState = AU_COLLECT;
        this.au.begin(this.nalStart);
      }
    }
    if (this.auState === AU_SKIP && this.nalType < 32) this.auSkipVcl = true;
  }

  /** Validates the classified NAL unit now that its length is known and adds it to the access unit. */
  private closeNal(end: number): void {
    const h = this.nalHeader;
    const type = this.nalType;
    const length = end - h;
    const vcl = type < 32;
    try {
      if (type === VPS) this.params.offerVps(this.cursor, h, length);
      else if (type === SPS) this.params.offerSps(this.cursor, h, length);
      else if (type === PPS) this.params.offerPps(this.cursor, h, length);
      else if (vcl && !this.params.ready) {
        throw this.params.refusal ??
          new FieldcamError('H265_NO_PARAMETER_SETS', `slice segment (NAL type ${type}) at byte ${h}, frame #${this.seq} arrived before a VPS, SPS and PPS`);
      }
      if (type === AUD || type === FD) return; // no meaning inside a length-prefixed sample
      if (this.au.full) {
        throw new FieldcamError('H265_TOO_MANY_NALS', `access unit #${this.seq} at byte ${this.au.start} has more than ${this.au.count} NAL units`);
      }
    } catch (err) {
      this.recover(err, vcl);
      return;
    }
    this.au.add(h, length, this.nalPrefix, type, vcl, type >= IRAP_FIRST && type <= IRAP_LAST);
  }

  private completeAu(): void {
    if (this.auState === AU_SKIP) {
      if (this.auDrop === 'corrupt') this.corruptDrops++;
      this.pool.countDrop(this.auDrop);
    } else if (this.au.size > this.pool.sizing.slotBytes) {
      this.refuse('POOL_FRAME_TOO_LARGE', 'frameTooLarge',
        `access unit #${this.seq} at byte ${this.au.start} is ${this.au.size} bytes, more than fits in a ${this.pool.sizing.slotBytes}-byte slot`);
    } else if (this.awaitKey && !this.au.key) {
      this.pool.countDrop('awaitKeyFrame');
    } else {
      this.emit();
    }
    this.auState = AU_NONE;
    this.seq++;
  }

  private emit(): void {
    let frame = this.pool.newFrame();
    if (!frame && this.onNoFrameRecord?.()) frame = this.pool.newFrame();
    if (!frame) {
      this.refuse('POOL_EXHAUSTED', 'poolFull', `no free frame record (pool.maxFrames ${this.pool.sizing.maxFrames}) for access unit #${this.seq}`);
      return;
    }
    this.cursor.fillFrame(frame, this.au.start, this.au.end);
    this.au.copyTo(frame);
    frame.seq = this.seq;
    this.awaitKey = false;
    const change = this.params.takeChange();
    if (change && this.onParameterSets) this.onParameterSets(change);
    this.onFrame(frame);
  }

  private refuse(code: ErrorCode, reason: DropReason, message: string): void {
    const err = new FieldcamError(code, message);
    if (this.strict) throw err;
    this.lastError = err;
    this.pool.countDrop(reason);
    this.awaitKey = true;
  }

  private recover(err: unknown, nalIsVcl: boolean): void {
    if (this.strict || !isFieldcamError(err)) throw err;
    this.lastError = err;
    this.skipAu(err.code === 'H265_NO_PARAMETER_SETS' ? 'noParameterSets' : 'corrupt', nalIsVcl);
    this.open = false;
  }

  private skipAu(cause: DropReason, nalIsVcl: boolean): void {
    const openSlice = this.open && this.nalType >= 0 && this.nalType < 32;
    const hasVcl = openSlice || (this.auState === AU_SKIP ? this.auSkipVcl : this.auState === AU_COLLECT && this.au.hasVcl);
    if (this.auState !== AU_SKIP) this.auDrop = cause;
    this.auState = AU_SKIP;
    this.auSkipVcl = hasVcl || nalIsVcl;
    this.awaitKey = true;
  }

  private checkStart(bytes: Uint8Array, from: number, to: number, base: number): void {
    try {
      this.leadingZeros = checkStreamStart(bytes, from, to, base, this.leadingZeros);
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      const asHevc = new FieldcamError('H265_NOT_ANNEXB', err.message);
      if (this.strict) throw asHevc;
      this.formatError = asHevc;
      this.leadingZeros = -1;
    }
  }

  private dropTail(): void {
    if (this.open && this.nalType < 0 && this.nalHeader + 1 < this.cursor.position) this.classify(this.cursor.position);
    if (this.auState === AU_COLLECT) this.pool.countDrop('truncated');
    else if (this.auState === AU_SKIP) {
      if (this.auDrop === 'corrupt') this.corruptDrops++;
      this.pool.countDrop(this.auDrop);
    }
    this.auState = AU_NONE;
  }

  private updateKeep(): void {
    if (this.auState === AU_COLLECT) this.cursor.keepFrom = this.au.start;
    else if (this.open && this.nalType < 0) this.cursor.keepFrom = this.nalStart;
    else this.cursor.keepFrom = this.cursor.position - (this.scanner.zeros < 3 ? this.scanner.zeros : 3);
  }

  private assertOpen(): void {
    if (this.closed) throw new RangeError('the H265Reader has ended; create a new one');
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    this.cursor.close();
  }
}
