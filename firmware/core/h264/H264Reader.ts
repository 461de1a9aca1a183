import { FieldcamError } from '../errors.ts';
import {
  AnnexBReader,
  type AnnexBReaderOptions,
  AU_COLLECT,
  AU_SKIP,
  HEADER_BEGINS,
  HEADER_JOINS,
  HEADER_WAIT,
  type NalSyntax,
  vclTable,
} from './AnnexBReader.ts';
import { AU_WALK } from './accessUnitWalk.ts';
import { type ParameterSets, ParameterSetStore } from './ParameterSetStore.ts';
import { SliceHeader } from './SliceHeader.ts';

export type { ParameterSets };

/** H264Reader's options: the shared Annex-B reader's (AnnexBReader.ts) with H.264's parameter sets. */
export type H264ReaderOptions = AnnexBReaderOptions<ParameterSets>;

/** What AnnexBReader needs to know of H.264: a 1-byte NAL header; slices are types 1 (non-IDR) and 5 (IDR). */
const H264_SYNTAX: NalSyntax = Object.freeze({
  name: 'H.264',
  reader: 'H264Reader',
  headerBytes: 1,
  vcl: vclTable((type) => type === 1 || type === 5),
  notAnnexB: 'H264_NOT_ANNEXB',
  truncatedNal: 'H264_TRUNCATED_NAL',
  noParameterSets: 'H264_NO_PARAMETER_SETS',
  callOrder: 'H264_CALL_ORDER',
  nativeWalks: true,
});

/** Records per ByteScanPort.classifyNals call: a 16 KiB read of 1080p slices holds a handful of NAL units. */
const WALK_RECORDS = 16;
/** classifyNals' type for a NAL unit it leaves to `classify`. */
const UNDECIDED = 255;
/** The access-unit walk's state layout and results as locals (one read each, not a property lookup per use). */
const {
  ZEROS: S_ZEROS,
  STOP: S_STOP,
  NAL_START: S_NAL_START,
  NAL_HEADER: S_NAL_HEADER,
  NAL_PREFIX: S_NAL_PREFIX,
  NAL_TYPE: S_NAL_TYPE,
  AU_END: S_AU_END,
  AU_COUNT: S_AU_COUNT,
  AU_HAS_VCL: S_AU_HAS_VCL,
  AU_KEY: S_AU_KEY,
  PIC_SIZE: S_PIC_SIZE,
  PPS_ID: S_PPS_ID,
  AU_START: S_AU_START,
  DONE_START: S_DONE_START,
  DONE_END: S_DONE_END,
  DONE_COUNT: S_DONE_COUNT,
  DONE_KEY: S_DONE_KEY,
  BATCH: S_BATCH,
  FRAME: AU_FRAME,
  HANDOVER: AU_HANDOVER,
} = AU_WALK;
/** Stands for "no stored SPS / PPS" in ByteScanPort.closeAccessUnit calls (no length matches it). */
const NO_BYTES = new Uint8Array(0);

/**
 * Splits an Annex-B H.264 byte stream into access units, read straight into pool slots (the state machine shared
 * with H.265 is AnnexBReader). Boundaries follow H.264 7.4.1.2.3: once the current access unit has a slice, an
 * AUD (9), SPS (7), PPS (8), SEI (6), NAL types 14..18, or a slice (1, 5) with first_mb_in_slice == 0 starts the
 * next one. That needs only the NAL header and the bit after it, so a frame goes out as soon as the next one
 * begins. `key` is true iff the access unit holds an IDR slice. SPS/PPS are copied only when they change.
 * With a board's walks (ByteScanPort.closeAccessUnit, classifyNals) the same rules run in C for the common case,
 * one call per frame, and this class keeps the judgements and every irregular case (`assemble`, `walk`).
 */
export class H264Reader extends AnnexBReader<ParameterSets> {
  protected readonly params = new ParameterSetStore();
  private readonly slice = new SliceHeader();
  /** The NAL walk's reused record table (ByteScanPort.classifyNals). */
  private readonly walkOut: Uint32Array | undefined;

  constructor(options: H264ReaderOptions) {
    super(H264_SYNTAX, options);
    this.walkOut = this.walkPort ? new Uint32Array(1 + 4 * WALK_RECORDS) : undefined;
  }

  /**
   * The steady state in one native call per access unit (ByteScanPort.closeAccessUnit, accessunits.c on the XS
   * board): while an access unit is being collected and its open NAL unit is classified, the port closes NAL units
   * into `au.table` with the checks `closeNal` would pass silently and stops at each access-unit boundary with the
   * complete access unit in its DONE entries and the next one already begun, so `closedAu` judges the complete one
   * (emit, drop, count) and the walk goes on without the state copied back. Anything else — a new SPS/PPS, a slice
   * the checks would refuse, an unknown NAL type, a start code cut by the read's end — the port leaves untouched
   * and hands over: `walk` and the scanner loop take the read from that start code. Returns where they go on (`to`
   * when the port walked the whole read).
   */
  protected override assemble(bytes: Uint8Array, from: number, to: number, base: number): number {
    // The steady state only: an access unit being collected, its open NAL unit classified. (While the port owns the
    // state, the reader's copies of these are stale but still say so: the port keeps them that way.)
    if (this.auState !== AU_COLLECT || !this.open || this.nalType < 0) return from;
    const s = this.auWalk!;
    const au = this.au;
    if (!this.auSynced) {
      // JS changed the state since the port last had it: the port's copy is written.
      const params = this.params;
      s[S_NAL_START] = this.nalStart;
      s[S_NAL_HEADER] = this.nalHeader;
      s[S_NAL_PREFIX] = this.nalPrefix;
      s[S_NAL_TYPE] = this.nalType;
      s[S_AU_START] = au.start;
      s[S_AU_END] = au.end;
      s[S_AU_COUNT] = au.count;
      s[S_AU_HAS_VCL] = au.hasVcl ? 1 : 0;
      s[S_AU_KEY] = au.key ? 1 : 0;
      s[S_PIC_SIZE] = params.ready ? params.sps!.picSizeInMbs : 0;
      s[S_PPS_ID] = params.ppsId;
      this.auSynced = true;
      this.walkSps = params.spsBytes ?? NO_BYTES;
      this.walkPps = params.ppsBytes ?? NO_BYTES;
    }
    // The zero run carried from the last read: the port's own while it owns the state, else the scanner's.
    if (!this.portOwns) {
      s[S_ZEROS] = this.scanner.zeros;
      this.portOwns = true;
    }
    this.allowClose();
    const result = this.auPort!.closeAccessUnit!(bytes, from, to, base, s, au.table, this.walkSps, this.walkPps, this.cursor, this.pool, this.batch);
    return this.resumeWalk(result, bytes, to, base);
  }

  /**
   * After the access-unit walk returned `result` for `bytes[..to)`: the records it completed itself handed out, each
   * access unit it returned judged, the walk resumed.
   */
  protected override resumeWalk(result: number, bytes: Uint8Array, to: number, base: number): number {
    const s = this.auWalk!;
    const au = this.au;
    if (s[S_BATCH] !== 0) this.handOut(false);
    while (result === AU_FRAME) {
      // An access unit is complete and the port has begun the next (still collecting: never on the scratch within a
      // read): JS judges the complete one from the DONE entries and the table. Only the new start is read back, for
      // the cursor's keepFrom.
      au.start = s[S_AU_START] as number;
      this.closedAu(s[S_DONE_START] as number, s[S_DONE_END] as number, s[S_DONE_COUNT] as number, s[S_DONE_KEY] === 1);
      this.allowClose();
      result = this.auPort!.closeAccessUnit!(
        bytes,
        (s[S_STOP] as number) + 1,
        to,
        base,
        s,
        au.table,
        this.walkSps,
        this.walkPps,
        this.cursor,
        this.pool,
        this.batch,
      );
      if (s[S_BATCH] !== 0) this.handOut(false);
    }
    if (result !== AU_HANDOVER) return to;
    this.settle();
    return s[S_STOP] as number;
  }

  /**
   * The port owned the walk's state since `assemble` last handed it over (the reader's fields stale but for
   * `au.start`): they take it back before any JS code reads or changes them.
   */
  protected override settle(): void {
    if (!this.portOwns) return;
    this.portOwns = false;
    const s = this.auWalk!;
    const au = this.au;
    au.start = s[S_AU_START] as number;
    au.end = s[S_AU_END] as number;
    au.count = s[S_AU_COUNT] as number;
    au.hasVcl = s[S_AU_HAS_VCL] === 1;
    au.key = s[S_AU_KEY] === 1;
    this.nalStart = s[S_NAL_START] as number;
    this.nalHeader = s[S_NAL_HEADER] as number;
    this.nalPrefix = s[S_NAL_PREFIX] as number;
    this.nalType = s[S_NAL_TYPE] as number;
    this.scanner.zeros = s[S_ZEROS] as number;
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
  protected override walk(bytes: Uint8Array, from: number, to: number, base: number): number {
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

  /** H.264 7.4.1.2.3 from the NAL header and the bit after it (AnnexBReader.readHeader). */
  protected readHeader(available: number, end: number, auHasVcl: boolean): number {
    const h = this.nalHeader;
    if (h >= available) {
      if (end < 0) return HEADER_WAIT;
      throw new FieldcamError('H264_TRUNCATED_NAL', `empty NAL unit (a start code followed by another) at byte ${this.nalStart}, frame #${this.headerFrame}`);
    }
    const header = this.cursor.byteAt(h);
    if (header === 0 && end < 0) return HEADER_WAIT;
    if (header & 0x80) {
      const hex = header.toString(16).padStart(2, '0');
      throw new FieldcamError('H264_FORBIDDEN_BIT', `NAL unit at byte ${h} (header 0x${hex}, frame #${this.headerFrame}) has forbidden_zero_bit set`);
    }
    const type = header & 0x1f;
    let startsAu = false;
    if ((type === 1 || type === 5) && auHasVcl) {
      if (h + 1 >= available) {
        if (end < 0) return HEADER_WAIT;
        throw new FieldcamError('H264_TRUNCATED_NAL', `slice NAL unit at byte ${h} (frame #${this.headerFrame}) is only its 1-byte header`);
      }
      const next = this.cursor.byteAt(h + 1);
      if (next === 0 && end < 0) return HEADER_WAIT;
      startsAu = (next & 0x80) !== 0; // ue(v) code '1' is first_mb_in_slice == 0
    } else if ((type >= 6 && type <= 9) || (type >= 14 && type <= 18)) {
      startsAu = auHasVcl;
    }
    this.nalType = type;
    return startsAu ? HEADER_BEGINS : HEADER_JOINS;
  }

  /** The frame an unreadable NAL header is reported in: after a picture's slices, most likely the next one. */
  private get headerFrame(): number {
    return this.au.hasVcl && this.auState === AU_COLLECT ? this.seq + 1 : this.seq;
  }

  /** Validates the classified NAL unit now that its length is known and adds it to the access unit. */
  protected closeNal(end: number): void {
    this.auSynced = false;
    const h = this.nalHeader;
    const type = this.nalType;
    const length = end - h;
    try {
      if (this.au.full) {
        throw new FieldcamError('H264_TOO_MANY_NALS', `access unit #${this.seq} at byte ${this.au.start} has more than ${this.au.count} NAL units`);
      }
      if (type === 7) this.params.offerSps(this.cursor, h, length);
      else if (type === 8) this.params.offerPps(this.cursor, h, length);
      else if (type === 1 || type === 5) this.checkSlice(h, length, type);
      else if (type >= 2 && type <= 4) {
        throw new FieldcamError('H264_SPS_UNSUPPORTED', `data-partitioned slice (NAL type ${type}, Extended profile) at byte ${h}, frame #${this.seq}`);
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
      throw new FieldcamError('H264_NO_PARAMETER_SETS', `slice (NAL type ${type}) at byte ${h}, frame #${this.seq} arrived before an SPS and a PPS`);
    }
    this.slice.read(this.cursor, h, length).check(type, sps.picSizeInMbs, this.params.ppsId, this.au.hasVcl, this.au.key, h, this.seq);
  }
}
