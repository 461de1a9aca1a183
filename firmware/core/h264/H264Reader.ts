import type { ByteScanPort } from '../../io/ByteScan.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import type { Frame } from '../media/Frame.ts';
import { PREPARE, type PrepareResult, StreamCursor } from '../media/StreamCursor.ts';
import type { DropReason, FramePool } from '../pool/FramePool.ts';
import { AccessUnit } from './AccessUnit.ts';
import { AU_WALK } from './accessUnitWalk.ts';
import { AnnexBScanner } from './AnnexBScanner.ts';
import { checkStreamStart } from './checkStreamStart.ts';
import { type ParameterSets, ParameterSetStore } from './ParameterSetStore.ts';
import { SliceHeader } from './SliceHeader.ts';

export type { ParameterSets };

export interface H264ReaderOptions {
  readonly pool: FramePool;
  /** Every complete access unit in decode order; the callee owns the record and must `pool.freeFrame()` it. */
  onFrame(frame: Frame): void;
  /** The first SPS/PPS pair and every change, called before the first frame that uses it. */
  onParameterSets?(ps: ParameterSets): void;
  /** true (default, offline mux): corrupt input throws. false (device): drop, count, resync at the next IDR. */
  readonly strict?: boolean;
  /** The board's native byte search (design.md §3); absent = the JS scan loop. */
  readonly byteScan?: ByteScanPort;
  /** Bytes of the overflow scratch a live camera is read into while the pool is full (`overflow()`); 0 = none. */
  readonly overflowBytes?: number;
  /**
   * A complete access unit found every frame record held: may the caller free one (drop the oldest un-sent
   * fragment)? true = try again; absent or false = the access unit is dropped and counted `poolFull`.
   */
  onNoFrameRecord?(): boolean;
}

const AU_NONE = 0; // no access unit started
const AU_COLLECT = 1; // assembling an access unit that will be emitted
const AU_SKIP = 2; // discarding everything up to the next access-unit boundary
type DropCause = DropReason;
/** Records per ByteScanPort.classifyNals call: a 16 KiB read of 1080p slices holds a handful of NAL units. */
const WALK_RECORDS = 16;
/** classifyNals' type for a NAL unit it leaves to `classify`. */
const UNDECIDED = 255;
/** The access-unit walk's state layout and results as locals (one read each, not a property lookup per use). */
const {
  ZEROS: S_ZEROS, STOP: S_STOP, NAL_START: S_NAL_START, NAL_HEADER: S_NAL_HEADER, NAL_PREFIX: S_NAL_PREFIX, NAL_TYPE: S_NAL_TYPE,
  AU_END: S_AU_END, AU_COUNT: S_AU_COUNT, AU_HAS_VCL: S_AU_HAS_VCL, AU_KEY: S_AU_KEY, PIC_SIZE: S_PIC_SIZE, PPS_ID: S_PPS_ID,
  DONE: AU_DONE, FRAME: AU_FRAME, QUIET: AU_QUIET,
} = AU_WALK;
/** Stands for "no stored SPS / PPS" in ByteScanPort.closeAccessUnit calls (no length matches it). */
const NO_BYTES = new Uint8Array(0);

/**
 * (One state machine: scan -> classify -> close -> emit, with lenient recovery; ~340 lines kept together so its
 * invariants about which bytes the cursor must keep stay in one place.)
 *
 * Splits an Annex-B H.264 byte stream into access units, read straight into pool slots through a StreamCursor.
 * Boundaries follow H.264 7.4.1.2.3: once the current access unit has a slice, an AUD (9), SPS (7), PPS (8),
 * SEI (6), NAL types 14..18, or a slice (1, 5) with first_mb_in_slice == 0 starts the next one. That needs only
 * the NAL header and the bit after it, so a frame goes out as soon as the next one begins. `key` is true iff the
 * access unit holds an IDR slice. Nothing is allocated per frame; SPS/PPS are copied only when they change.
 * With a board's walks (ByteScanPort.closeAccessUnit, classifyNals) the same rules run in C for the common case,
 * one call per frame, and this class keeps the judgements and every irregular case (`assemble`, `walk`).
 */
export class H264Reader {
  readonly cursor: StreamCursor;
  private readonly pool: FramePool;
  private readonly onFrame: (frame: Frame) => void;
  private readonly onParameterSets: ((ps: ParameterSets) => void) | undefined;
  private readonly strict: boolean;
  private readonly scanner: AnnexBScanner;
  private readonly params = new ParameterSetStore();
  private readonly slice = new SliceHeader();
  private readonly au = new AccessUnit();
  private total = 0;
  private leadingZeros = 0; // before the first start code (strict mode), or -1 once one was seen
  private seenStartCode = false;
  private closed = false;
  // The NAL unit whose start code came last; its end is not known yet.
  private open = false;
  private nalStart = 0; // logical offset of its start code
  private nalHeader = 0; // logical offset of its header byte
  private nalPrefix = 0;
  private nalType = -1; // -1 until its header has been classified
  private auState = AU_NONE;
  private auDrop: DropCause = 'corrupt';
  private auSkipVcl = false; // a slice was skipped: the skipped stretch ends at the next boundary NAL
  private seq = 0;
  private awaitIdr: boolean;
  private readonly onNoFrameRecord: (() => boolean) | undefined;
  /** The board's NAL walk (ByteScanPort.classifyNals) and its reused record table; absent = the scanner loop. */
  private readonly walkPort: ByteScanPort | undefined;
  private readonly walkOut: Uint32Array | undefined;
  /** The board's access-unit walk (ByteScanPort.closeAccessUnit) and its reused state; absent = the NAL walk. */
  private readonly auPort: ByteScanPort | undefined;
  private readonly auWalk: Float64Array | undefined;
  /** The board's frame record filler (ByteScanPort.fillFrameRecord, with closeAccessUnit); absent = JS fills the record. */
  private readonly recordPort: ByteScanPort | undefined;
  /** auWalk holds the reader's state as the port last returned it: JS changed nothing since (walk, classify… clear it). */
  private auSynced = false;

  /** Access units dropped as corrupt in lenient mode (FramePool's drop reasons have no such entry). */
  corruptDrops = 0;
  /** The most recent error absorbed in lenient mode. */
  lastError: FieldcamError | undefined;
  /**
   * Lenient mode: why the input did not start as an Annex-B stream (B.1.1), which strict mode throws at once as
   * H264_NOT_ANNEXB. A device reports it while no frame has come (a camera sending MP4 or random bytes).
   */
  formatError: FieldcamError | undefined;

  constructor(options: H264ReaderOptions) {
    this.scanner = new AnnexBScanner(64, options.byteScan);
    if (!options || !options.pool) throw new TypeError('options.pool is required');
    if (typeof options.onFrame !== 'function') throw new TypeError('options.onFrame must be a function');
    this.pool = options.pool;
    this.onFrame = options.onFrame;
    this.onParameterSets = options.onParameterSets;
    this.strict = options.strict !== false;
    this.awaitIdr = !this.strict; // a device stream may begin mid-GOP: start at the first IDR
    this.cursor = new StreamCursor(options.pool, options.overflowBytes ?? 0);
    this.onNoFrameRecord = options.onNoFrameRecord;
    this.walkPort = options.byteScan?.classifyNals ? options.byteScan : undefined;
    this.walkOut = this.walkPort ? new Uint32Array(1 + 4 * WALK_RECORDS) : undefined;
    this.auPort = this.walkPort?.closeAccessUnit ? this.walkPort : undefined;
    this.auWalk = this.auPort ? new Float64Array(AU_WALK.LENGTH) : undefined;
    this.recordPort = this.auPort?.fillFrameRecord ? this.auPort : undefined;
  }

  /** Bytes pushed so far. */
  get bytesIn(): number {
    return this.total;
  }

  /** True once a start code (00 00 01) was seen anywhere in the input. */
  get sawStartCode(): boolean {
    return this.seenStartCode;
  }

  get parameterSets(): ParameterSets | undefined {
    return this.params.current;
  }

  /** Makes room for the next read into `cursor.target` at `cursor.targetOffset` (up to `cursor.targetSpace`). */
  prepare(): PrepareResult {
    if (this.closed) this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      const result = this.cursor.prepare();
      if (result !== PREPARE.FRAME_TOO_LARGE) return result;
      if (this.strict) {
        this.shutdown();
        throw new FieldcamError('POOL_FRAME_TOO_LARGE', `access unit #${this.seq} starting at byte ${this.au.start} is already ` +
          `${this.cursor.position - this.au.start} bytes, more than fits in a ${this.pool.sizing.slotBytes}-byte slot`);
      }
      if (this.auState === AU_COLLECT) {
        this.skipAu('frameTooLarge', false);
      } else if (attempt > 0 || !this.open || this.nalType >= 0) {
        // Only a start code or an unread NAL header is held (slots of a few bytes): give it up.
        this.open = false;
        this.scanner.reset();
      }
      this.updateKeep();
    }
  }

  /** `n` bytes were read at `cursor.target[cursor.targetOffset]`: commit, scan, emit complete access units. */
  push(n: number): void {
    if (this.closed) this.assertOpen();
    const cursor = this.cursor;
    if (!(n >= 0 && n <= cursor.targetSpace) || n !== Math.floor(n)) {
      throw new RangeError(`push(n): n is ${n}, the prepared space is ${cursor.targetSpace} bytes`);
    }
    if (n === 0) return;
    const bytes = cursor.target;
    const from = cursor.targetOffset;
    const base = cursor.position - from;
    cursor.commit(n);
    try {
      this.total += n;
      if (this.leadingZeros >= 0) this.checkStart(bytes, from, from + n, base);
      const scanner = this.scanner;
      let i = from;
      const to = from + n;
      // The board's walks take the common case: the access-unit walk the steady state, the NAL walk each start code
      // it hands over (then the access-unit walk resumes). A NAL whose header is still to come (the previous read
      // ended right after its start code) is the scanner loop's, as is everything after a NAL the walk leaves undecided.
      if (this.walkPort && this.leadingZeros < 0) {
        while (i < to && !(this.open && this.nalType < 0)) {
          if (this.auPort && (i = this.assemble(bytes, i, to, base)) >= to) break;
          i = this.walk(bytes, i, to, base);
        }
      }
      for (; i < to; ) {
        i = scanner.scan(bytes, i, to, base);
        for (let k = 0; k < scanner.count; k++) this.startCode(scanner.startAt[k]!, scanner.prefix[k]!, scanner.trailingZeros[k]!);
      }
      // Classify the newest NAL now if its header has arrived, so the previous frame goes out without delay.
      if (this.open && this.nalType < 0) this.classify(-1);
      this.updateKeep();
    } catch (err) {
      this.shutdown();
      throw err;
    }
  }

  /**
   * End of stream: emits the final access unit, validates, releases the cursor's slots.
   *
   * An access unit is known to be complete only when the next one starts (7.4.1.2.3). `lastComplete` says what the
   * end of input means: true for a file, which ends on a whole access unit (encoders and muxers write whole ones),
   * so the last one is emitted; false for a live camera cut by EOF or a stop, whose last access unit may be cut
   * anywhere: it is dropped and counted `truncated` (never uploaded half).
   */
  end(lastComplete = true): void {
    this.assertOpen();
    try {
      if (!lastComplete) {
        this.dropTail();
        return;
      }
      if (this.total === 0) throw new FieldcamError('INPUT_EMPTY', 'the H.264 input has no bytes');
      if (!this.seenStartCode && this.strict) {
        throw new FieldcamError('H264_NOT_ANNEXB', `no Annex-B start code (00 00 01) in ${this.total} bytes`);
      }
      if (this.open && this.nalType < 0) this.classify(this.cursor.position);
      // Zero bytes at the very end are trailing_zero_8bits (B.1.2), legal padding after the last NAL unit, not
      // part of it. (A NAL cut right after a 0x00 byte looks the same; the slice-header parse catches most cuts.)
      if (this.open) this.finishNal(this.cursor.position - this.scanner.zeros);
      if (this.auState === AU_COLLECT && !this.au.hasVcl) {
        this.recover(new FieldcamError('H264_TRUNCATED_NAL', `the stream ends with ${this.au.count} NAL unit(s) from byte ` +
          `${this.au.start} but no slice: access unit #${this.seq} is incomplete`), false);
      }
      if (this.auState !== AU_NONE) this.completeAu();
    } finally {
      this.shutdown();
    }
  }

  /**
   * A live camera whose pool is full of frames that cannot be dropped (everything held is on the wire): the
   * access unit being assembled is dropped (`poolFull`), and reading goes on into the overflow scratch, where
   * every access unit is only counted as `poolFull`, until a slot is free; frames resume at the next IDR. The
   * input stays contiguous: nothing is lost uncounted. Returns false when the reader has no scratch.
   */
  overflow(): boolean {
    this.assertOpen();
    if (this.auState === AU_COLLECT) this.skipAu('poolFull', false);
    this.awaitIdr = true;
    this.updateKeep();
    if (this.cursor.toScratch()) return true;
    // More than a header is pending (a run of zeros after a start code): give that NAL up.
    this.open = false;
    this.scanner.reset();
    this.updateKeep();
    return this.cursor.toScratch();
  }

  /** Drops the access unit being assembled (the pool is exhausted); frames resume at the next IDR. */
  abandonFrame(): void {
    this.assertOpen();
    if (this.auState === AU_COLLECT) this.skipAu('poolFull', false);
    this.awaitIdr = true;
    // The caller skips input it cannot store: what follows is not contiguous with what was scanned.
    this.open = false;
    this.scanner.reset();
    this.updateKeep();
  }

  /**
   * The steady state in one native call per access unit (ByteScanPort.closeAccessUnit, accessunits.c on the XS
   * board): while an access unit is being collected and its open NAL unit is classified, the port closes NAL units
   * into `au.table` with the checks `closeNal` would pass silently and stops at each access-unit boundary, where
   * `enterAu` judges the complete one (emit, drop, count) as the NAL walk would. Anything else — a new SPS/PPS, a
   * slice the checks would refuse, an unknown NAL type, a start code cut by the read's end — the port leaves
   * untouched and hands over: `walk` and the scanner loop take the read from that start code. Returns where they go
   * on (`to` when the port walked the whole read).
   */
  private assemble(bytes: Uint8Array, from: number, to: number, base: number): number {
    const port = this.auPort!;
    const s = this.auWalk!;
    const au = this.au;
    const params = this.params;
    let at = from;
    s[S_ZEROS] = this.scanner.zeros;
    while (this.auState === AU_COLLECT && this.open && this.nalType >= 0) {
      // The port's copy of the state is written only when JS changed the state since the port last returned it.
      if (!this.auSynced) {
        s[S_NAL_START] = this.nalStart;
        s[S_NAL_HEADER] = this.nalHeader;
        s[S_NAL_PREFIX] = this.nalPrefix;
        s[S_NAL_TYPE] = this.nalType;
        s[S_AU_END] = au.end;
        s[S_AU_COUNT] = au.count;
        s[S_AU_HAS_VCL] = au.hasVcl ? 1 : 0;
        s[S_AU_KEY] = au.key ? 1 : 0;
        s[S_PIC_SIZE] = params.ready ? params.sps!.picSizeInMbs : 0;
        s[S_PPS_ID] = params.ppsId;
        this.auSynced = true;
      }
      const result = port.closeAccessUnit!(bytes, at, to, base, s, au.table, params.spsBytes ?? NO_BYTES, params.ppsBytes ?? NO_BYTES);
      if (result === AU_QUIET) {
        // No start code in the rest of the read (the middle of a slice): only the zero run at its end is new.
        this.scanner.zeros = s[S_ZEROS] as number;
        return to;
      }
      au.end = s[S_AU_END] as number;
      au.count = s[S_AU_COUNT] as number;
      au.hasVcl = s[S_AU_HAS_VCL] === 1;
      au.key = s[S_AU_KEY] === 1;
      this.nalStart = s[S_NAL_START] as number;
      this.nalHeader = s[S_NAL_HEADER] as number;
      this.nalPrefix = s[S_NAL_PREFIX] as number;
      this.nalType = s[S_NAL_TYPE] as number;
      if (result !== AU_FRAME) {
        this.scanner.zeros = s[S_ZEROS] as number;
        return result === AU_DONE ? to : s[S_STOP] as number;
      }
      // The open NAL unit begins the next access unit: the complete one goes out (or is counted) as in `walk`.
      this.enterAu(true);
      if (this.auState === AU_COLLECT && au.count === 0) {
        // The usual outcome: the next access unit begun with the open NAL unit, which the port's state already holds.
        s[S_AU_END] = au.end;
        s[S_AU_COUNT] = 0;
        s[S_AU_HAS_VCL] = 0;
        s[S_AU_KEY] = 0;
        this.auSynced = true;
      }
      at = (s[S_STOP] as number) + 1;
      s[S_ZEROS] = 0;
    }
    this.scanner.zeros = s[S_ZEROS] as number;
    return at;
  }

  /**
   * The scanner loop and `classify` in one native call per read (ByteScanPort.classifyNals, scan.c on the XS
   * board): each record is a start code with the type of the NAL it begins and whether that NAL begins an access
   * unit, decided by the same rule as `classify` (7.4.1.2.3) in its common case. JS keeps every judgement
   * (closeNal's checks, parameter sets, drops, errors) and runs them in the same order as the loop would. The
   * port leaves to `classify` any NAL whose header or next byte is not in this read or is zero, or whose
   * forbidden_zero_bit is set (errors and waits): that start code goes through `startCode`, and the scanner loop
   * takes the rest of the read. Returns where the scanner loop goes on (`to` when the walk covered the read).
   */
  private walk(bytes: Uint8Array, from: number, to: number, base: number): number {
    this.auSynced = false;
    const port = this.walkPort!;
    const out = this.walkOut!;
    let at = from;
    let zeros = this.scanner.zeros;
    for (;;) {
      // The open NAL counts: closing it (next record) adds it, or skips the access unit with it as its slice.
      const openVcl = this.open && (this.nalType === 1 || this.nalType === 5);
      const hasVcl = openVcl || (this.auState === AU_COLLECT ? this.au.hasVcl : this.auState === AU_SKIP && this.auSkipVcl);
      const count = port.classifyNals!(bytes, at, to, zeros, hasVcl, out);
      for (let k = 0, r = 1; k < count; k++, r += 4) {
        const p = out[r] as number;
        const z = out[r + 1] as number;
        const type = out[r + 2] as number;
        const prefix = z >= 3 ? 4 : 3;
        const startAt = base + p - prefix + 1;
        if (type === UNDECIDED) {
          this.startCode(startAt, prefix, z - prefix + 1);
          this.scanner.zeros = 0;
          return p + 1;
        }
        this.seenStartCode = true;
        if (this.open) this.finishNal(startAt - (z - prefix + 1));
        this.open = true;
        this.nalStart = startAt;
        this.nalHeader = startAt + prefix;
        this.nalPrefix = prefix;
        this.nalType = type;
        this.enterAu(out[r + 3] === 1);
        if (this.auPort && this.auState === AU_COLLECT) {
          // The steady state again: back to the access-unit walk, past this start code.
          this.scanner.zeros = 0;
          return p + 1;
        }
      }
      if (count < WALK_RECORDS) {
        this.scanner.zeros = out[0] as number;
        return to;
      }
      at = (out[1 + 4 * (count - 1)] as number) + 1; // the table was full: go on past its last start code
      zeros = 0;
      if (at >= to) {
        this.scanner.zeros = 0;
        return to;
      }
    }
  }

  private startCode(startAt: number, prefix: number, trailingZeros: number): void {
    this.auSynced = false;
    this.seenStartCode = true;
    if (this.open) this.finishNal(startAt - trailingZeros);
    this.open = true;
    this.nalStart = startAt;
    this.nalHeader = startAt + prefix;
    this.nalPrefix = prefix;
    this.nalType = -1;
  }

  /** The open NAL unit ends at logical offset `end` (exclusive, trailing zeros excluded). */
  private finishNal(end: number): void {
    if (this.nalType < 0) this.classify(end);
    if (this.open && this.nalType >= 0 && this.auState === AU_COLLECT) this.closeNal(end);
    this.open = false;
  }

  /**
   * Reads the open NAL's header and decides whether it starts a new access unit (7.4.1.2.3). `end` is the NAL's
   * end when known, else -1: then it returns with nalType still -1 until the bytes it needs are certain to be its
   * own (a 0x00 may be the first byte of the next start code).
   */
  private classify(end: number): void {
    this.auSynced = false;
    const h = this.nalHeader;
    const available = end >= 0 ? end : this.cursor.position;
    const auHasVcl = this.auState === AU_COLLECT ? this.au.hasVcl : this.auState === AU_SKIP && this.auSkipVcl;
    let startsAu = false;
    try {
      if (h >= available) {
        if (end < 0) return;
        throw new FieldcamError('H264_TRUNCATED_NAL',
          `empty NAL unit (a start code followed by another) at byte ${this.nalStart}, frame #${this.headerFrame}`);
      }
      const header = this.cursor.byteAt(h);
      if (header === 0 && end < 0) return;
      if (header & 0x80) {
        const hex = header.toString(16).padStart(2, '0');
        throw new FieldcamError('H264_FORBIDDEN_BIT',
          `NAL unit at byte ${h} (header 0x${hex}, frame #${this.headerFrame}) has forbidden_zero_bit set`);
      }
      const type = header & 0x1f;
      if ((type === 1 || type === 5) && auHasVcl) {
        if (h + 1 >= available) {
          if (end < 0) return;
          throw new FieldcamError('H264_TRUNCATED_NAL',
            `slice NAL unit at byte ${h} (frame #${this.headerFrame}) is only its 1-byte header`);
        }
        const next = this.cursor.byteAt(h + 1);
        if (next === 0 && end < 0) return;
        startsAu = (next & 0x80) !== 0; // ue(v) code '1' is first_mb_in_slice == 0
      } else if ((type >= 6 && type <= 9) || (type >= 14 && type <= 18)) {
        startsAu = auHasVcl;
      }
      this.nalType = type;
    } catch (err) {
      // A NAL with an unreadable header most likely begins the next picture: the one before it is complete.
      if (!this.strict && isFieldcamError(err) && this.auState === AU_COLLECT && this.au.hasVcl) this.completeAu();
      this.recover(err, true);
      return;
    }
    this.enterAu(startsAu);
  }

  /** The classified open NAL unit begins an access unit (`startsAu`) or joins the current one. */
  private enterAu(startsAu: boolean): void {
    this.auSynced = false;
    if (startsAu) this.completeAu();
    if (this.auState === AU_NONE) {
      if (this.cursor.onScratch) {
        // Read while the pool is full: this access unit can only be counted.
        this.auState = AU_SKIP;
        this.auDrop = 'poolFull';
        this.auSkipVcl = false;
        this.awaitIdr = true;
      } else {
        this.auState = AU_COLLECT;
        this.au.begin(this.nalStart);
      }
    }
    if (this.auState === AU_SKIP && (this.nalType === 1 || this.nalType === 5)) this.auSkipVcl = true;
  }

  /** The frame an unreadable NAL header is reported in: after a picture's slices, most likely the next one. */
  private get headerFrame(): number {
    return this.au.hasVcl && this.auState === AU_COLLECT ? this.seq + 1 : this.seq;
  }

  /** Validates the classified NAL unit now that its length is known and adds it to the access unit. */
  private closeNal(end: number): void {
    this.auSynced = false;
    const h = this.nalHeader;
    const type = this.nalType;
    const length = end - h;
    try {
      if (this.au.full) {
        throw new FieldcamError('H264_TOO_MANY_NALS',
          `access unit #${this.seq} at byte ${this.au.start} has more than ${this.au.count} NAL units`);
      }
      if (type === 7) this.params.offerSps(this.cursor, h, length);
      else if (type === 8) this.params.offerPps(this.cursor, h, length);
      else if (type === 1 || type === 5) this.checkSlice(h, length, type);
      else if (type >= 2 && type <= 4) {
        throw new FieldcamError('H264_SPS_UNSUPPORTED',
          `data-partitioned slice (NAL type ${type}, Extended profile) at byte ${h}, frame #${this.seq}`);
      }
    } catch (err) {
      this.recover(err, type === 1 || type === 5);
      return;
    }
    this.au.add(h, length, this.nalPrefix, type);
  }

  private checkSlice(h: number, length: number, type: number): void {
    const sps = this.params.sps;
    if (!sps || !this.params.ready) {
      throw new FieldcamError('H264_NO_PARAMETER_SETS',
        `slice (NAL type ${type}) at byte ${h}, frame #${this.seq} arrived before an SPS and a PPS`);
    }
    this.slice.read(this.cursor, h, length).check(type, sps.picSizeInMbs, this.params.ppsId, this.au.hasVcl, this.au.key, h, this.seq);
  }

  /** The access unit being assembled is complete: emit it, or count it as dropped. */
  private completeAu(): void {
    if (this.auState === AU_SKIP) {
      if (this.auDrop === 'corrupt') this.corruptDrops++;
      this.pool.countDrop(this.auDrop);
    } else if (this.au.end - this.au.start > this.pool.sizing.slotBytes) {
      // Two slots may happen to hold it, but whether they do depends on where it starts: refuse it always.
      const slotBytes = this.pool.sizing.slotBytes;
      this.refuse('POOL_FRAME_TOO_LARGE', 'frameTooLarge',
        `access unit #${this.seq} at byte ${this.au.start} is ${this.au.size} bytes, more than fits in a ${slotBytes}-byte slot`);
    } else if (this.awaitIdr && !this.au.key) {
      this.pool.countDrop('awaitKeyFrame');
    } else {
      this.emit();
    }
    this.auState = AU_NONE;
    this.seq++;
  }

  private emit(): void {
    const recordPort = this.recordPort;
    const pool = this.pool;
    let frame = recordPort ? pool.takeFrame() : pool.newFrame();
    if (!frame && this.onNoFrameRecord?.()) frame = recordPort ? pool.takeFrame() : pool.newFrame();
    if (!frame) {
      this.refuse('POOL_EXHAUSTED', 'poolFull',
        `no free frame record (pool.maxFrames ${this.pool.sizing.maxFrames}) for access unit #${this.seq}`);
      return;
    }
    const au = this.au;
    if (recordPort) {
      // The whole record (reset, pieces and slot references, NAL table, seq, key) in one native call.
      try {
        recordPort.fillFrameRecord!(frame, this.cursor, au.table, au.count, au.start, au.end, this.seq, au.key);
      } catch (err) {
        pool.freeFrame(frame); // refused before any field was written: its slots are null since it was last freed
        throw err;
      }
    } else {
      this.cursor.fillFrame(frame, au.start, au.end);
      const port = this.auPort;
      if (port && port.copyNalTable) {
        port.copyNalTable(au.table, au.count, au.start, frame.nalOffset, frame.nalLength, frame.nalPrefix, frame.nalType);
        frame.nalCount = au.count;
        frame.key = au.key;
      } else {
        au.copyTo(frame);
      }
      frame.seq = this.seq;
    }
    this.awaitIdr = false;
    const change = this.params.takeChange();
    if (change && this.onParameterSets) this.onParameterSets(change);
    this.onFrame(frame);
  }

  /** A complete access unit that cannot be delivered: strict mode throws, lenient mode counts it. */
  private refuse(code: 'POOL_FRAME_TOO_LARGE' | 'POOL_EXHAUSTED', reason: DropReason, message: string): void {
    const err = new FieldcamError(code, message);
    if (this.strict) throw err;
    this.lastError = err;
    this.pool.countDrop(reason);
    this.awaitIdr = true;
  }

  /** Lenient mode absorbs bitstream errors: the access unit is dropped and frames resume at the next IDR. */
  private recover(err: unknown, nalIsVcl: boolean): void {
    if (this.strict || !isFieldcamError(err)) throw err;
    this.lastError = err;
    this.skipAu(err.code === 'H264_NO_PARAMETER_SETS' ? 'noParameterSets' : 'corrupt', nalIsVcl);
    this.open = false;
  }

  /** Discards the access unit being assembled up to the next boundary (which must follow a slice). */
  private skipAu(cause: DropCause, nalIsVcl: boolean): void {
    this.auSynced = false;
    // The open NAL counts too: a slice classified but not yet closed (its end unknown) is already this access unit's
    // picture. Missing it, the next access unit's first NAL would not end the skip, and two frames would count as one.
    const openSlice = this.open && (this.nalType === 1 || this.nalType === 5);
    const hasVcl = openSlice || (this.auState === AU_SKIP ? this.auSkipVcl : this.auState === AU_COLLECT && this.au.hasVcl);
    if (this.auState !== AU_SKIP) this.auDrop = cause;
    this.auState = AU_SKIP;
    this.auSkipVcl = hasVcl || nalIsVcl;
    this.awaitIdr = true;
  }

  /** Lenient twin of strict mode's start check: the first bytes must be zeros and a start code (B.1.1). */
  private checkStart(bytes: Uint8Array, from: number, to: number, base: number): void {
    try {
      this.leadingZeros = checkStreamStart(bytes, from, to, base, this.leadingZeros);
    } catch (err) {
      if (this.strict || !isFieldcamError(err)) throw err;
      this.formatError = err;
      this.leadingZeros = -1;
    }
  }

  /**
   * End of a live camera's input: the access unit in progress is incomplete (no next one started), so it is
   * counted — `truncated`, or the reason it was being skipped for — and never emitted. A lone start code, or a
   * NAL header that never arrived, begins no frame and counts nothing.
   */
  private dropTail(): void {
    if (this.open && this.nalType < 0 && this.nalHeader < this.cursor.position) this.classify(this.cursor.position);
    if (this.auState === AU_COLLECT) this.pool.countDrop('truncated');
    else if (this.auState === AU_SKIP) {
      if (this.auDrop === 'corrupt') this.corruptDrops++;
      this.pool.countDrop(this.auDrop);
    }
    this.auState = AU_NONE;
  }

  /** The cursor must keep every byte that a frame or a pending decision may still need. */
  private updateKeep(): void {
    if (this.auState === AU_COLLECT) this.cursor.keepFrom = this.au.start;
    else if (this.open && this.nalType < 0) this.cursor.keepFrom = this.nalStart;
    else this.cursor.keepFrom = this.cursor.position - (this.scanner.zeros < 3 ? this.scanner.zeros : 3);
  }

  private assertOpen(): void {
    if (this.closed) throw new RangeError('the H264Reader has ended; create a new one');
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    this.cursor.close();
  }
}
