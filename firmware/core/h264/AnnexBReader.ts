import type { ByteScanPort } from '../../io/ByteScan.ts';
import type { FrameSource } from '../../io/FrameSource.ts';
import { type ErrorCode, FieldcamError, isFieldcamError } from '../errors.ts';
import type { Frame } from '../media/Frame.ts';
import type { FrameReader } from '../media/FrameReader.ts';
import { PREPARE, type PrepareResult, StreamCursor } from '../media/StreamCursor.ts';
import type { DropReason, FramePool } from '../pool/FramePool.ts';
import { AccessUnit } from './AccessUnit.ts';
import { AnnexBScanner } from './AnnexBScanner.ts';
import { AU_WALK } from './accessUnitWalk.ts';
import { checkStreamStart } from './checkStreamStart.ts';

/**
 * What one Annex-B codec's reader tells the shared state machine: its names, its NAL header and which NAL types
 * carry a picture. The rest of the codec (header classification, NAL checks, parameter sets) is the subclass's.
 */
export interface NalSyntax {
  /** 'H.264' or 'H.265', for messages. */
  readonly name: string;
  /** The reader's class name, for messages. */
  readonly reader: string;
  /** Bytes of the NAL unit header (H.264 1, H.265 2). */
  readonly headerBytes: number;
  /** 1 at the NAL types that are VCL (a picture's slices); 64 entries, so any 6-bit type indexes it. */
  readonly vcl: Uint8Array;
  /** The codec's error codes for the failures the shared machine raises. */
  readonly notAnnexB: ErrorCode;
  readonly truncatedNal: ErrorCode;
  readonly noParameterSets: ErrorCode;
  readonly callOrder: ErrorCode;
  /** The board's native walks (ByteScanPort.classifyNals / closeAccessUnit) encode this codec's rules. */
  readonly nativeWalks: boolean;
}

/** The parameter-set store as the shared machine uses it: the current sets, and a change to announce. */
interface ParameterSource<P> {
  readonly current: P | undefined;
  /** `takeChange()` may have something: tested first, since a call per frame costs more than the field. */
  readonly changed: boolean;
  takeChange(): P | undefined;
}

export interface AnnexBReaderOptions<P> {
  readonly pool: FramePool;
  /** Every complete access unit in decode order; the callee owns the record and must `pool.freeFrame()` it. */
  onFrame(frame: Frame): void;
  /** The first parameter sets and every change, called before the first frame that uses them. */
  onParameterSets?(ps: P): void;
  /** true (default, offline mux): corrupt input throws. false (device): drop, count, resync at the next key frame. */
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
  /** A read `readPort` took from a source with read times, before any frame of it is handed out (FrameReaderOptions.onRead). */
  onRead?(at: number): void;
}

/**
 * Entries of the walk's batch (at most maxFrames). A 64 KiB read completes about 4 access units of 1080p at 4 Mbit/s,
 * 13 of the reference clip, 80 of a 320x240 one; past 32 the walk returns each further one to closedAu. A constant,
 * so the reader's heap does not grow with the pool (firmware/app/heapBudget.ts).
 */
const BATCH_ENTRIES = 32;

/** Stands for "no stored SPS / PPS" in the access-unit walk's calls (no length matches it). */
const NO_BYTES = new Uint8Array(0);

/** Frozen 64-entry VCL table from a predicate over NAL types. */
export function vclTable(isVcl: (type: number) => boolean): Uint8Array {
  const table = new Uint8Array(64);
  for (let t = 0; t < 64; t++) table[t] = isVcl(t) ? 1 : 0;
  return table;
}

/** The access-unit walk's results as locals (a property lookup per use otherwise). */
const {
  DONE: WALK_DONE,
  QUIET: WALK_QUIET,
  TIMED: WALK_TIMED,
  CLOSE: S_CLOSE,
  SLOT_BYTES: S_SLOT_BYTES,
  SEQ: S_SEQ,
  BATCH: S_BATCH,
  HANDED: S_HANDED,
  AU_START: S_AU_START,
  RESULT: S_RESULT,
} = AU_WALK;
const PREPARE_OK = PREPARE.OK;

export const AU_NONE = 0; // no access unit started
export const AU_COLLECT = 1; // assembling an access unit that will be emitted
export const AU_SKIP = 2; // discarding everything up to the next access-unit boundary
const READY = 0;
const BUSY = 1;
const CLOSED = 2;
/** `readHeader` results: the bytes it needs are not certain yet / the NAL joins the access unit / begins the next. */
export const HEADER_WAIT = -1;
export const HEADER_JOINS = 0;
export const HEADER_BEGINS = 1;

/**
 * (One state machine: scan -> classify -> close -> emit, with lenient recovery; ~330 lines kept together so its
 * invariants about which bytes the cursor must keep stay in one place.)
 *
 * The part of an Annex-B access-unit reader that H.264 and H.265 share: bytes read straight into pool slots
 * through a StreamCursor, start codes found by AnnexBScanner, each NAL unit classified as it begins (does it start
 * the next access unit?), checked and added to the access unit once its end is known, and the access unit emitted,
 * dropped or counted when the next begins. Nothing is allocated per frame.
 *
 * A subclass supplies the codec (a NalSyntax table, `readHeader`, `closeNal`, its parameter-set store) and,
 * for H.264, the board's native walks (`walkNative`). The incremental-parser contract (docs/architecture.md):
 * an error thrown by `push`/`end`/`prepare`, or by a callback, ends the reader and releases its slots; every
 * later call, and any call from inside a callback, throws `<codec>_CALL_ORDER`.
 */
export abstract class AnnexBReader<P> implements FrameReader {
  // Field order is speed in XS: a property read walks the object's own properties in declaration order (and a
  // method call walks all of them before the prototype), so the fields of the steady-state read come first.
  /**
   * The walk's state lives in `auWalk`, not in the reader's fields (stale but for `au.start`), until `settle`: set by
   * H264Reader.assemble, when the reader is in its steady state (an access unit being collected, its open NAL unit
   * classified, the state synced).
   */
  protected portOwns = false;
  /** READY for a call, BUSY inside push/end (a callback calling back in is refused), CLOSED after end() or an error. */
  private phase = READY;
  /**
   * The board's camera read and walk (FrameReader.readPort: ByteScanPort.readAccessUnits, with pushAccessUnits; the
   * function itself, which reads the fields above and pushAccessUnits' arguments below by name).
   */
  readonly readPort: ByteScanPort['readAccessUnits'];
  /** The board's read-and-walk (ByteScanPort.pushAccessUnits, with closeAccessUnit): a steady-state read in one call. */
  private readonly pushPort: ByteScanPort | undefined;
  /** The access-unit walk's reused state (ByteScanPort.closeAccessUnit; layout AU_WALK). */
  protected readonly auWalk: Float64Array | undefined;
  readonly cursor: StreamCursor;
  protected readonly au = new AccessUnit();
  /** The stored parameter sets as the port last got them (they change only in JS, which then unsyncs the state). */
  protected walkSps: Uint8Array = NO_BYTES;
  protected walkPps: Uint8Array = NO_BYTES;
  protected readonly pool: FramePool;
  /**
   * The records the board's access-unit walk completed itself (AU_WALK.CLOSE), `auWalk[BATCH]` of them, to hand to
   * `onFrame` in order; BATCH_ENTRIES entries at most, reused. Absent without the board's frame record filler.
   */
  protected readonly batch: (Frame | null)[] | undefined;
  private readonly onFrame: (frame: Frame) => void;
  private readonly onRead: ((at: number) => void) | undefined;
  protected seq = 0;
  protected readonly syntax: NalSyntax;
  protected readonly vcl: Uint8Array;
  private readonly onParameterSets: ((ps: P) => void) | undefined;
  private readonly onNoFrameRecord: (() => boolean) | undefined;
  protected readonly strict: boolean;
  protected readonly scanner: AnnexBScanner;
  protected abstract readonly params: ParameterSource<P>;
  protected leadingZeros = 0; // before the first start code (strict mode), or -1 once one was seen
  protected seenStartCode = false;
  // The NAL unit whose start code came last; its end is not known yet.
  protected open = false;
  protected nalStart = 0; // logical offset of its start code
  protected nalHeader = 0; // logical offset of its header
  protected nalPrefix = 0;
  protected nalType = -1; // -1 until its header has been classified
  protected auState = AU_NONE;
  private auDrop: DropReason = 'corrupt';
  protected auSkipVcl = false; // a slice was skipped: the skipped stretch ends at the next boundary NAL
  private awaitKey: boolean;
  /** The board's NAL walk (ByteScanPort.classifyNals) when the codec has one; absent = the scanner loop. */
  protected readonly walkPort: ByteScanPort | undefined;
  /** The board's access-unit walk (ByteScanPort.closeAccessUnit); absent = the NAL walk. */
  protected readonly auPort: ByteScanPort | undefined;
  /** The native access-unit walk's state holds the reader's state as the port last returned it (H264Reader). */
  protected auSynced = false;
  /** The board's frame record filler (ByteScanPort.fillFrameRecord, with closeAccessUnit); absent = JS fills the record. */
  private readonly recordPort: ByteScanPort | undefined;
  /** The record being filled by `recordPort` (freed by `shutdown` if the port refused it). */
  private filling: Frame | undefined = undefined;
  /** pool.sizing.slotBytes, read once: every access unit is compared with it. */
  private readonly slotBytes: number;

  /** Access units dropped as corrupt in lenient mode (FramePool's drop reasons have no such entry). */
  corruptDrops = 0;
  /** The most recent error absorbed in lenient mode. */
  lastError: FieldcamError | undefined;
  /**
   * Lenient mode: why the input did not start as an Annex-B stream (B.1.1), which strict mode throws at once as
   * <codec>_NOT_ANNEXB. A device reports it while no frame has come (a camera sending MP4 or random bytes).
   */
  formatError: FieldcamError | undefined;

  constructor(syntax: NalSyntax, options: AnnexBReaderOptions<P>) {
    if (!options || !options.pool) throw new TypeError('options.pool is required');
    if (typeof options.onFrame !== 'function') throw new TypeError('options.onFrame must be a function');
    this.syntax = syntax;
    this.vcl = syntax.vcl;
    this.scanner = new AnnexBScanner(64, options.byteScan);
    this.pool = options.pool;
    this.onFrame = options.onFrame;
    this.onParameterSets = options.onParameterSets;
    this.onNoFrameRecord = options.onNoFrameRecord;
    this.strict = options.strict !== false;
    this.awaitKey = !this.strict; // a device stream may begin mid-GOP: start at the first key frame
    this.cursor = new StreamCursor(options.pool, options.overflowBytes ?? 0);
    this.slotBytes = options.pool.sizing.slotBytes;
    this.walkPort = syntax.nativeWalks && options.byteScan?.classifyNals ? options.byteScan : undefined;
    this.auPort = this.walkPort?.closeAccessUnit ? this.walkPort : undefined;
    this.recordPort = this.auPort?.fillFrameRecord ? this.auPort : undefined;
    this.pushPort = this.auPort?.pushAccessUnits ? this.auPort : undefined;
    this.readPort = this.pushPort?.readAccessUnits;
    this.onRead = options.onRead;
    this.auWalk = this.auPort ? new Float64Array(AU_WALK.LENGTH) : undefined;
    if (this.auWalk !== undefined && this.recordPort !== undefined) {
      const batch: (Frame | null)[] = [];
      const entries = options.pool.sizing.maxFrames < BATCH_ENTRIES ? options.pool.sizing.maxFrames : BATCH_ENTRIES;
      for (let k = 0; k < entries; k++) batch.push(null);
      this.batch = batch;
      this.auWalk[S_SLOT_BYTES] = this.slotBytes;
    }
  }

  /** Bytes pushed so far. */
  get bytesIn(): number {
    // The cursor's logical position is every byte pushed (the overflow scratch keeps the offsets contiguous).
    return this.cursor.position;
  }

  /** True once a start code (00 00 01) was seen anywhere in the input. */
  get sawStartCode(): boolean {
    return this.seenStartCode;
  }

  get parameterSets(): P | undefined {
    return this.params.current;
  }

  /** Makes room for the next read into `cursor.target` at `cursor.targetOffset` (up to `cursor.targetSpace`). */
  prepare(): PrepareResult {
    if (this.phase !== READY) this.refuseCall('prepare');
    // Room left in the slot being filled (and not the overflow scratch, which tries to return to the pool): ready as
    // it is, without the cursor's call (most reads).
    const cursor = this.cursor;
    if (cursor.targetSpace > 0 && !cursor.onScratch) return PREPARE_OK;
    for (let attempt = 0; ; attempt++) {
      const result = this.cursor.prepare();
      if (result !== PREPARE.FRAME_TOO_LARGE) return result;
      this.settle();
      if (this.strict) {
        this.shutdown();
        throw new FieldcamError(
          'POOL_FRAME_TOO_LARGE',
          `access unit #${this.seq} starting at byte ${this.au.start} is already ` +
            `${this.cursor.position - this.au.start} bytes, more than fits in a ${this.pool.sizing.slotBytes}-byte slot`,
        );
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
    const pushPort = this.pushPort;
    if (this.portOwns && this.phase === READY && pushPort !== undefined) {
      // The steady state (the walk's state is the port's): one native call commits the read and walks it, completing
      // the access units the reader would simply emit into `batch` (AU_WALK.CLOSE), and JS runs only to hand those
      // out or at an irregular boundary or a hand-over (`pushRest`). A middle-of-slice read costs this much.
      const s = this.auWalk!;
      const result = pushPort.pushAccessUnits!(this.cursor, n, s, this.au.table, this.walkSps, this.walkPps, this.pool, this.batch);
      if (result === WALK_QUIET) return;
      if (result === WALK_DONE) {
        // The read is walked: at most records to hand out (a frame's last read), with no other call between.
        if (s[S_BATCH] !== 0) this.handOut(true);
        return;
      }
      if (result >= 0) {
        this.pushRest(result);
        return;
      }
      // -1: `n` is not a read the port takes (0, too large, not an integer): the general path decides.
    }
    if (this.phase !== READY) this.refuseCall('push');
    const cursor = this.cursor;
    // n <= targetSpace, a slot's size (< 2^31): `(n | 0) === n` is the integer test, without a Math lookup per read.
    if (!(n > 0 && n <= cursor.targetSpace && (n | 0) === n)) {
      if (n === 0) return;
      throw new RangeError(`push(n): n is ${n}, the prepared space is ${cursor.targetSpace} bytes`);
    }
    const bytes = cursor.target;
    const from = cursor.targetOffset;
    const base = cursor.position - from;
    const to = from + n;
    cursor.commit(n);
    // BUSY while callbacks may run; any exception ends the reader (CLOSED), so no `finally` is needed to leave it.
    this.phase = BUSY;
    try {
      if (this.leadingZeros >= 0) this.checkStart(bytes, from, to, base);
      let i = from;
      // The board's walks take the common case (H264Reader): the access-unit walk the steady state (usually the whole
      // read, in one call), the NAL walk each start code it hands over (then the access-unit walk resumes). A NAL
      // whose header is still to come (the previous read ended right after its start code) is the scanner loop's, as
      // is everything after a NAL the walk leaves undecided.
      if (this.walkPort !== undefined && this.leadingZeros < 0 && !(this.open && this.nalType < 0)) {
        if (this.auPort !== undefined) i = this.assemble(bytes, i, to, base);
        if (i < to) i = this.walkOn(bytes, i, to, base);
      }
      if (i < to) this.scanOn(bytes, i, to, base);
      // Classify the newest NAL now if its header has arrived, so the previous frame goes out without delay.
      if (this.open && this.nalType < 0) this.classify(-1);
      // The cursor keeps every byte a frame or a pending decision may still need (updateKeep's common case inline).
      if (this.auState === AU_COLLECT) cursor.keepFrom = this.au.start;
      else this.updateKeep();
    } catch (err) {
      this.shutdown();
      throw err;
    }
    this.phase = READY;
  }

  /**
   * After the board's camera read (`readPort`, ByteScanPort.readAccessUnits) returned -n: its result in
   * auWalk[RESULT], then as `push` after its own steady-state call (FrameReader.readRest); returns n.
   */
  readRest(source: FrameSource, n: number): number {
    const s = this.auWalk!;
    let result = s[S_RESULT] as number;
    if (result >= WALK_TIMED) {
      // The read's time joins the input's ring before any frame of it is stamped.
      result -= WALK_TIMED;
      this.onRead?.(source.lastReadAt);
    }
    // (DONE only with records to hand out.)
    if (result === WALK_DONE) this.handOut(true);
    else if (result !== WALK_QUIET) this.pushRest(result);
    return n;
  }

  /** The rest of a read `pushAccessUnits` committed and walked up to a boundary or a hand-over (`result`): as `push` from there. */
  private pushRest(result: number): void {
    const cursor = this.cursor;
    const bytes = cursor.target;
    const to = cursor.targetOffset;
    const base = cursor.position - to;
    this.phase = BUSY;
    try {
      let i = this.resumeWalk(result, bytes, to, base);
      if (i < to) i = this.walkOn(bytes, i, to, base);
      if (i < to) this.scanOn(bytes, i, to, base);
      if (this.open && this.nalType < 0) this.classify(-1);
      if (this.auState === AU_COLLECT) cursor.keepFrom = this.au.start;
      else this.updateKeep();
    } catch (err) {
      this.shutdown();
      throw err;
    }
    this.phase = READY;
  }

  /**
   * Hands the records the board's walk completed (`batch`, auWalk[BATCH] of them, in stream order) to `onFrame`, and
   * takes back the walk's seq and the access unit it began; the caller checks that the batch is not empty.
   * `outermost`: called by `push` for a read the walk took whole, so this is the call's BUSY phase and its `try`
   * (one per frame, not two); else inside push's (H264Reader.resumeWalk). A callback that throws ends the reader:
   * `shutdown` returns the records not yet handed out to the pool.
   */
  protected handOut(outermost: boolean): void {
    // (Per frame on the reference clip, ~one record per call: no locals read once, no loop set-up before the first;
    // `do … while` since both callers hand out only a batch that is not empty.)
    const s = this.auWalk!;
    const n = s[S_BATCH] as number;
    this.seq = s[S_SEQ] as number;
    const start = s[S_AU_START] as number;
    this.au.start = start;
    if (outermost) this.phase = BUSY;
    let k = 0;
    try {
      do this.onFrame(this.batch![k++]!);
      while (k < n);
    } catch (err) {
      // Records from k on were not handed out: `shutdown` returns them.
      s[S_HANDED] = k;
      this.shutdown();
      throw err;
    }
    s[S_BATCH] = 0;
    if (outermost) {
      this.cursor.keepFrom = start;
      this.phase = READY;
    }
  }

  /**
   * Before the board's access-unit walk runs: may it complete access units itself (AU_WALK.CLOSE)? Yes when the
   * reader's closedAu would simply emit them: no key frame awaited, no parameter-set change to announce, and the
   * board fills records. The walk also gets the seq of the next frame. (While the port owns the state, awaitKey and
   * the parameter sets change only in closedAu or after `settle`, so the callers are `assemble` and `resumeWalk`.)
   */
  protected allowClose(): void {
    const s = this.auWalk!;
    s[S_CLOSE] = this.batch !== undefined && !this.awaitKey && !this.params.changed ? 1 : 0;
    s[S_SEQ] = this.seq;
  }

  /** The NAL walk from `i`, where the access-unit walk stopped (or was not there), alternating with it; returns where it ended. */
  private walkOn(bytes: Uint8Array, i: number, to: number, base: number): number {
    i = this.walk(bytes, i, to, base);
    while (i < to && !(this.open && this.nalType < 0)) {
      if (this.auPort && (i = this.assemble(bytes, i, to, base)) >= to) break;
      i = this.walk(bytes, i, to, base);
    }
    return i;
  }

  /** The scanner loop over the rest of the read: each start code through `startCode`. */
  private scanOn(bytes: Uint8Array, i: number, to: number, base: number): void {
    const scanner = this.scanner;
    while (i < to) {
      i = scanner.scan(bytes, i, to, base);
      for (let k = 0; k < scanner.count; k++) this.startCode(scanner.startAt[k]!, scanner.prefix[k]!, scanner.trailingZeros[k]!);
    }
  }

  /**
   * End of stream: emits the final access unit, validates, releases the cursor's slots.
   *
   * An access unit is known to be complete only when the next one starts (H.264 7.4.1.2.3, H.265 7.4.2.4.4). What
   * the end of input means is `lastComplete`: true for a file, which ends on a whole access unit (encoders and
   * muxers write whole ones), so the last one is emitted; false for a live camera cut by EOF or a stop, whose last
   * access unit may be cut anywhere: it is dropped and counted `truncated` (never uploaded half).
   */
  end(lastComplete = true): void {
    if (this.phase !== READY) this.refuseCall('end');
    this.settle();
    this.phase = BUSY;
    try {
      if (!lastComplete) {
        this.dropTail();
        return;
      }
      const syntax = this.syntax;
      if (this.cursor.position === 0) throw new FieldcamError('INPUT_EMPTY', `the ${syntax.name} input has no bytes`);
      if (!this.seenStartCode && this.strict) {
        throw new FieldcamError(syntax.notAnnexB, `no Annex-B start code (00 00 01) in ${this.cursor.position} bytes`);
      }
      if (this.open && this.nalType < 0) this.classify(this.cursor.position);
      // Zero bytes at the very end are trailing_zero_8bits (B.1.2), legal padding after the last NAL unit, not
      // part of it. (A NAL cut right after a 0x00 byte looks the same; the slice-header parse catches most cuts.)
      if (this.open) this.finishNal(this.cursor.position - this.scanner.zeros);
      if (this.auState === AU_COLLECT && !this.au.hasVcl) {
        this.recover(
          new FieldcamError(
            syntax.truncatedNal,
            `the stream ends with ${this.au.count} NAL unit(s) from byte ` + `${this.au.start} but no slice: access unit #${this.seq} is incomplete`,
          ),
          false,
        );
      }
      if (this.auState !== AU_NONE) this.completeAu();
    } finally {
      this.shutdown();
    }
  }

  /**
   * A live camera whose pool is full of frames that cannot be dropped (everything held is on the wire): the
   * access unit being assembled is dropped (`poolFull`), and reading goes on into the overflow scratch, where
   * every access unit is only counted as `poolFull`, until a slot is free; frames resume at the next key frame.
   * The input stays contiguous: nothing is lost uncounted. Returns false when the reader has no scratch.
   */
  overflow(): boolean {
    if (this.phase !== READY) this.refuseCall('overflow');
    this.settle();
    if (this.auState === AU_COLLECT) this.skipAu('poolFull', false);
    this.awaitKey = true;
    this.updateKeep();
    if (this.cursor.toScratch()) return true;
    // More than a header is pending (a run of zeros after a start code): give that NAL up.
    this.open = false;
    this.scanner.reset();
    this.updateKeep();
    return this.cursor.toScratch();
  }

  /** Drops the access unit being assembled (the pool is exhausted); frames resume at the next key frame. */
  abandonFrame(): void {
    if (this.phase !== READY) this.refuseCall('abandonFrame');
    this.settle();
    if (this.auState === AU_COLLECT) this.skipAu('poolFull', false);
    this.awaitKey = true;
    // The caller skips input it cannot store: what follows is not contiguous with what was scanned.
    this.open = false;
    this.scanner.reset();
    this.updateKeep();
  }

  /**
   * The board's access-unit walk (ByteScanPort.closeAccessUnit) over `bytes[from..to)`; returns where the NAL walk
   * goes on. Called only when `auPort` is set (H264Reader overrides it).
   */
  protected assemble(_bytes: Uint8Array, _from: number, to: number, _base: number): number {
    return to;
  }

  /**
   * The access-unit walk goes on after the port returned `result` (FRAME or HANDOVER) for `bytes[..to)`: returns
   * where the NAL walk goes on (`to` when the walk covered the read). H264Reader implements it with `assemble`.
   */
  protected resumeWalk(_result: number, _bytes: Uint8Array, to: number, _base: number): number {
    return to;
  }

  /**
   * The reader's state fields take back what the board's access-unit walk holds, if it holds the state (H264Reader:
   * `assemble` leaves it with the port between reads). Called before any code outside the walk reads them.
   */
  protected settle(): void {}

  /**
   * The board's NAL walk (ByteScanPort.classifyNals) over `bytes[from..to)`; returns where the scanner loop goes
   * on. Called only when `walkPort` is set, after the stream's first start code (H264Reader overrides it).
   */
  protected walk(_bytes: Uint8Array, _from: number, to: number, _base: number): number {
    return to;
  }

  /**
   * Reads the open NAL unit's header at `nalHeader` (and, for a slice after a picture, the bit that says whether
   * it is a picture's first): sets `nalType` and returns HEADER_BEGINS / HEADER_JOINS, or HEADER_WAIT while a
   * byte it needs is not certain to be the NAL's own (`end` < 0: its end is not known, and a 0x00 may begin the
   * next start code). Throws the codec's FieldcamError for a header that cannot be read.
   */
  protected abstract readHeader(available: number, end: number, auHasVcl: boolean): number;

  /** Checks the classified open NAL unit now that its length (to `end`) is known and adds it to the access unit. */
  protected abstract closeNal(end: number): void;

  protected startCode(startAt: number, prefix: number, trailingZeros: number): void {
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
  protected finishNal(end: number): void {
    if (this.nalType < 0) this.classify(end);
    if (this.open && this.nalType >= 0 && this.auState === AU_COLLECT) this.closeNal(end);
    this.open = false;
  }

  /**
   * Decides whether the open NAL unit starts a new access unit. `end` is the NAL's end when known, else -1: then
   * it returns with nalType still -1 until the bytes it needs are certain to be its own.
   */
  private classify(end: number): void {
    this.auSynced = false;
    const available = end >= 0 ? end : this.cursor.position;
    const auHasVcl = this.auState === AU_COLLECT ? this.au.hasVcl : this.auState === AU_SKIP && this.auSkipVcl;
    let header: number;
    try {
      header = this.readHeader(available, end, auHasVcl);
    } catch (err) {
      // A NAL with an unreadable header most likely begins the next picture: the one before it is complete.
      if (!this.strict && isFieldcamError(err) && this.auState === AU_COLLECT && this.au.hasVcl) this.completeAu();
      this.recover(err, true);
      return;
    }
    if (header !== HEADER_WAIT) this.enterAu(header === HEADER_BEGINS);
  }

  /** The classified open NAL unit begins an access unit (`startsAu`) or joins the current one. */
  protected enterAu(startsAu: boolean): void {
    this.auSynced = false;
    if (startsAu) this.completeAu();
    if (this.auState === AU_NONE) {
      if (this.cursor.onScratch) {
        // Read while the pool is full: this access unit can only be counted.
        this.auState = AU_SKIP;
        this.auDrop = 'poolFull';
        this.auSkipVcl = false;
        this.awaitKey = true;
      } else {
        this.auState = AU_COLLECT;
        this.au.begin(this.nalStart);
      }
    }
    if (this.auState === AU_SKIP && this.vcl[this.nalType] === 1) this.auSkipVcl = true;
  }

  /** The access unit being assembled is complete: emit it, or count it as dropped. */
  private completeAu(): void {
    if (this.auState === AU_SKIP) {
      if (this.auDrop === 'corrupt') this.corruptDrops++;
      this.pool.countDrop(this.auDrop);
      this.auState = AU_NONE;
      this.seq++;
      return;
    }
    const au = this.au;
    this.auState = AU_NONE;
    this.closedAu(au.start, au.end, au.count, au.key);
  }

  /**
   * A collected access unit [start, end) is complete, its `count` NAL units in `au.table`: emit it (a frame record
   * filled and handed to `onFrame`), or refuse or count it. The board's access-unit walk calls this straight from its
   * loop (H264Reader.resumeWalk: the walk has already begun the next access unit, so the reader's state is not
   * touched here). The emit is written out here, not a method of its own: one call fewer per frame in XS.
   */
  protected closedAu(start: number, end: number, count: number, key: boolean): void {
    if (end - start > this.slotBytes) {
      // Two slots may happen to hold it, but whether they do depends on where it starts: refuse it always.
      this.refuse(
        'POOL_FRAME_TOO_LARGE',
        'frameTooLarge',
        `access unit #${this.seq} at byte ${start} is ${end - start} bytes, more than fits in a ${this.slotBytes}-byte slot`,
      );
      this.seq++;
      return;
    }
    if (this.awaitKey && !key) {
      this.pool.countDrop('awaitKeyFrame');
      this.seq++;
      return;
    }
    const recordPort = this.recordPort;
    const pool = this.pool;
    let frame = recordPort !== undefined ? pool.takeFrame() : pool.newFrame();
    if (frame === undefined && this.onNoFrameRecord?.()) frame = recordPort !== undefined ? pool.takeFrame() : pool.newFrame();
    if (frame === undefined) {
      this.refuse('POOL_EXHAUSTED', 'poolFull', `no free frame record (pool.maxFrames ${this.pool.sizing.maxFrames}) for access unit #${this.seq}`);
      this.seq++;
      return;
    }
    if (recordPort !== undefined) {
      // The whole record (reset, pieces and slot references, NAL table, seq, key) in one native call. A refusal
      // (a reader bug: the range not held) throws before any field is written, and `shutdown` frees the record.
      this.filling = frame;
      recordPort.fillFrameRecord!(frame, this.cursor, this.au.table, count, start, end, this.seq, key);
      this.filling = undefined;
    } else {
      this.cursor.fillFrame(frame, start, end);
      const port = this.auPort;
      if (port && port.copyNalTable) {
        port.copyNalTable(this.au.table, count, start, frame.nalOffset, frame.nalLength, frame.nalPrefix, frame.nalType);
        frame.nalCount = count;
        frame.key = key;
      } else {
        this.au.copyTo(frame, start, count, key);
      }
      frame.seq = this.seq;
    }
    this.seq++;
    this.awaitKey = false;
    if (this.params.changed) {
      const change = this.params.takeChange();
      if (change && this.onParameterSets) this.onParameterSets(change);
    }
    this.onFrame(frame);
  }

  /** A complete access unit that cannot be delivered: strict mode throws, lenient mode counts it. */
  private refuse(code: ErrorCode, reason: DropReason, message: string): void {
    const err = new FieldcamError(code, message);
    if (this.strict) throw err;
    this.lastError = err;
    this.pool.countDrop(reason);
    this.awaitKey = true;
  }

  /** Lenient mode absorbs bitstream errors: the access unit is dropped and frames resume at the next key frame. */
  protected recover(err: unknown, nalIsVcl: boolean): void {
    if (this.strict || !isFieldcamError(err)) throw err;
    this.lastError = err;
    this.skipAu(err.code === this.syntax.noParameterSets ? 'noParameterSets' : 'corrupt', nalIsVcl);
    this.open = false;
  }

  /** Discards the access unit being assembled up to the next boundary (which must follow a slice). */
  private skipAu(cause: DropReason, nalIsVcl: boolean): void {
    this.auSynced = false;
    // The open NAL counts too: a slice classified but not yet closed (its end unknown) is already this access unit's
    // picture. Missing it, the next access unit's first NAL would not end the skip, and two frames would count as one.
    const openSlice = this.open && this.vcl[this.nalType] === 1;
    const hasVcl = openSlice || (this.auState === AU_SKIP ? this.auSkipVcl : this.auState === AU_COLLECT && this.au.hasVcl);
    if (this.auState !== AU_SKIP) this.auDrop = cause;
    this.auState = AU_SKIP;
    this.auSkipVcl = hasVcl || nalIsVcl;
    this.awaitKey = true;
  }

  /** Lenient twin of strict mode's start check: the first bytes must be zeros and a start code (B.1.1). */
  private checkStart(bytes: Uint8Array, from: number, to: number, base: number): void {
    try {
      this.leadingZeros = checkStreamStart(bytes, from, to, base, this.leadingZeros);
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      const code = this.syntax.notAnnexB;
      const named = err.code === code ? err : new FieldcamError(code, err.message);
      if (this.strict) throw named;
      this.formatError = named;
      this.leadingZeros = -1;
    }
  }

  /**
   * End of a live camera's input: the access unit in progress is incomplete (no next one started), so it is
   * counted — `truncated`, or the reason it was being skipped for — and never emitted. A lone start code, or a
   * NAL header that never arrived whole, begins no frame and counts nothing.
   */
  private dropTail(): void {
    const position = this.cursor.position;
    if (this.open && this.nalType < 0 && this.nalHeader + this.syntax.headerBytes <= position) this.classify(position);
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

  /** The contract's refusal: a call after the reader ended or failed, or from inside its own callback. */
  private refuseCall(method: string): never {
    const { callOrder, reader } = this.syntax;
    if (this.phase === BUSY) throw new FieldcamError(callOrder, `${reader}.${method}() was called from inside its own callback`);
    throw new FieldcamError(callOrder, `${reader}.${method}() after end() or an error; create a new reader`);
  }

  private shutdown(): void {
    if (this.phase === CLOSED) return;
    this.phase = CLOSED;
    if (this.filling !== undefined) {
      // fillFrameRecord refused the record (before writing any field: its slots are null since it was last freed).
      this.pool.freeFrame(this.filling);
      this.filling = undefined;
    }
    const s = this.auWalk;
    if (s !== undefined && this.batch !== undefined) {
      // Records the walk completed that were not handed out (a callback threw while they were) go back to the pool.
      for (let k = s[S_HANDED] as number; k < (s[S_BATCH] as number); k++) this.pool.freeFrame(this.batch[k]!);
      s[S_BATCH] = 0;
      s[S_HANDED] = 0;
    }
    this.open = false;
    this.cursor.close();
  }
}
