import type { ByteScanPort } from '../../io/ByteScan.ts';
import type { FrameSource } from '../../io/FrameSource.ts';
import { FieldcamError, type ErrorCode } from '../errors.ts';
import type { Frame } from '../media/Frame.ts';
import { PREPARE, StreamCursor, type PrepareResult } from '../media/StreamCursor.ts';
import type { FramePool } from '../pool/FramePool.ts';
import { JPEG_EVENT, JpegScanner } from './JpegScanner.ts';
import { JPEG_SCAN, JPEG_STATE } from './jpegScanState.ts';
import { MJPEG_WALK } from './mjpegWalk.ts';

const EVENT = JPEG_SCAN.EVENT;
const STATE = JPEG_SCAN.STATE;
const WIDTH = JPEG_SCAN.WIDTH;
const HEIGHT = JPEG_SCAN.HEIGHT;
const MARKER = JPEG_STATE.MARKER;
const SEEK_FF = JPEG_STATE.SEEK_FF;
const NONE = JPEG_EVENT.NONE;
const SOI = JPEG_EVENT.SOI;
const EOI = JPEG_EVENT.EOI;
const ERROR = JPEG_EVENT.ERROR;
const ASSEMBLING = MJPEG_WALK.ASSEMBLING;
const IMAGE_START = MJPEG_WALK.IMAGE_START;
const GAP_START = MJPEG_WALK.GAP_START;
const SAW_IMAGE = MJPEG_WALK.SAW_IMAGE;
const SEQ = MJPEG_WALK.SEQ;
const BATCH = MJPEG_WALK.BATCH;
const HANDED = MJPEG_WALK.HANDED;
const STOP = MJPEG_WALK.STOP;
const TIMED = MJPEG_WALK.TIMED;
const GAP_FREE = MJPEG_WALK.GAP_FREE;

/**
 * Entries of the board walk's batch (at most maxFrames): a 64 KiB read holds about 12 images of 320x240; past the
 * last entry the walk leaves the next image to `parse`. A constant, so the reader's heap does not grow with the pool.
 */
const BATCH_ENTRIES = 16;

const READY = 0;
const BUSY = 1;
const CLOSED = 2;

/** Named limits of the MJPEG reader. The largest image is the pool's `slotBytes`. */
export const MJPEG_LIMITS = Object.freeze({
  /**
   * Strict mode: bytes tolerated before the first SOI (fill bytes, zero padding, a line break); more is
   * not MJPEG. A device (lenient) may join a stream mid-image, so it skips whatever comes first.
   */
  maxLeadingBytes: 64,
  /** Strict mode: bytes tolerated between an EOI and the next SOI (cameras pad images to DMA blocks). */
  maxPaddingBytes: 65536,
} as const);

export interface MjpegReaderOptions {
  readonly pool: FramePool;
  /** Receives each complete image. The callee owns the frame and returns it with `pool.freeFrame`. */
  onFrame(frame: Frame): void;
  /** Called before the first frame, and again before a frame whose size differs from the previous one. */
  onFormat?(size: { width: number; height: number }): void;
  /**
   * true (default, offline tools): malformed input throws and ends the reader. false (device): a bad
   * image is dropped and counted (`counters`, `lastError`), and reading resumes at the next SOI.
   */
  readonly strict?: boolean;
  /** The board's native byte search (design.md §3); absent = Uint8Array.prototype.indexOf. */
  readonly byteScan?: ByteScanPort;
  /** A read `readPort` took from a source with read times, before any frame of it is handed out (FrameReaderOptions.onRead). */
  onRead?(at: number): void;
}

/** A JPEG image has no NAL units: the empty table ByteScanPort.fillFrameRecord copies none from. */
const NO_NAL_TABLE = new Float64Array(0);

/** A gap up to this many bytes passes both MJPEG_LIMITS, so push checks only longer ones (checkGap). */
const GAP_CHECKED = Math.min(MJPEG_LIMITS.maxLeadingBytes, MJPEG_LIMITS.maxPaddingBytes);

/**
 * The reader's own tally, for telemetry and tests. Images dropped for the pool are also counted in
 * `pool.drops` as the H.264 reader does: `frameTooLarge`, and `poolFull` for `abandoned` and `noFrameRecord`.
 */
export interface MjpegReaderCounters {
  /** Images emitted. */
  frames: number;
  /** Bytes outside any image: before the first SOI, between images, and skipped while resynchronising. */
  paddingBytes: number;
  /** Images cut short by the next SOI or by the end of the input (lenient). */
  truncated: number;
  /** Images dropped for a malformed marker segment (lenient). */
  invalid: number;
  /** Images dropped for having no frame header or line count (lenient). */
  noFrameSize: number;
  /** Images dropped by `abandonFrame()`. */
  abandoned: number;
  /** Complete images dropped because every frame record was held (lenient). */
  noFrameRecord: number;
}

/**
 * Splits an MJPEG byte stream (concatenated JPEG images, as ESP32-CAM style cameras send) into frames
 * without copying: bytes are read straight into pool slots through `cursor`, parsed incrementally by a
 * `JpegScanner`, and each image from its SOI to its EOI becomes one key frame.
 *
 * Loop: `prepare()`; read up to `cursor.targetSpace` bytes into `cursor.target` at `cursor.targetOffset`;
 * `push(n)`; at the end of input `end()`. Any error thrown ends the reader and releases its slots; every later
 * call, and any call from inside `onFrame`/`onFormat`, throws MJPEG_CALL_ORDER (docs/architecture.md, "Incremental
 * parsers").
 */
export class MjpegReader {
  // Hot fields first: XS finds an own property (and a method, after them) by walking the fields in declaration order.
  /** READY for a call, BUSY inside push (a callback calling back in is refused), CLOSED after end() or an error. */
  // (phase, cursor, jpeg, walk, pool and batch are also the board's readJpeg's: it finds them by name.)
  private phase = READY;
  /** The board's camera read and walk in one call (FrameReader.readPort: ByteScanPort.readJpeg, with pushJpeg). */
  readonly readPort: ByteScanPort['readJpeg'];
  readonly cursor: StreamCursor;
  /** The scanner's state record, and the board's scan of it (ByteScanPort.scanJpeg), called without the method between. */
  private readonly jpeg: Uint32Array;
  /** Where the reader is between images (MJPEG_WALK): shared with the board's walk, which completes images into `batch`. */
  private readonly walk = new Float64Array(MJPEG_WALK.LENGTH);
  /** The records the board's walk completed, in stream order (walk[BATCH] of them); absent without the board's records. */
  private readonly batch: (Frame | null)[] | undefined;
  private readonly scanJpeg: ByteScanPort['scanJpeg'];
  /** With it, the board's commit and walk of a read in one call (ByteScanPort.pushJpeg). */
  private readonly pushJpeg: ByteScanPort['pushJpeg'];
  private readonly slotBytes: number;
  readonly strict: boolean;
  /** The board's frame record filler (ByteScanPort.fillFrameRecord, the function itself); absent = JS fills the record. */
  private readonly fillFrameRecord: ByteScanPort['fillFrameRecord'];
  private readonly pool: FramePool;
  readonly counters: MjpegReaderCounters = {
    frames: 0,
    paddingBytes: 0,
    truncated: 0,
    invalid: 0,
    noFrameSize: 0,
    abandoned: 0,
    noFrameRecord: 0,
  };
  private format: { readonly width: number; readonly height: number } | undefined;
  private readonly onFrame: (frame: Frame) => void;
  private readonly onRead: ((at: number) => void) | undefined;
  private readonly onFormat: ((size: { width: number; height: number }) => void) | undefined;
  private readonly scanner: JpegScanner;
  /** The most recent error absorbed in lenient mode. */
  lastError: FieldcamError | undefined;

  constructor(options: MjpegReaderOptions) {
    if (!options || typeof options.onFrame !== 'function') throw new TypeError('options.onFrame must be a function');
    if (!options.pool) throw new TypeError('options.pool is required');
    this.scanner = new JpegScanner(options.byteScan);
    this.jpeg = this.scanner.state;
    this.scanJpeg = this.scanner.native;
    this.pushJpeg = this.scanJpeg ? options.byteScan?.pushJpeg : undefined;
    this.readPort = this.pushJpeg ? options.byteScan?.readJpeg : undefined;
    this.onRead = options.onRead;
    this.pool = options.pool;
    this.slotBytes = options.pool.sizing.slotBytes;
    this.onFrame = options.onFrame;
    this.onFormat = options.onFormat;
    this.strict = options.strict ?? true;
    this.cursor = new StreamCursor(options.pool);
    this.fillFrameRecord = options.byteScan?.fillFrameRecord;
    this.walk[MJPEG_WALK.SLOT_BYTES] = this.slotBytes;
    // The one rule for which gaps checkGap sees, here and in the board's walk: none when lenient.
    this.walk[GAP_FREE] = this.strict ? GAP_CHECKED : Number.POSITIVE_INFINITY;
    if (this.pushJpeg !== undefined && this.fillFrameRecord !== undefined) {
      const batch: (Frame | null)[] = [];
      const entries = options.pool.sizing.maxFrames < BATCH_ENTRIES ? options.pool.sizing.maxFrames : BATCH_ENTRIES;
      for (let k = 0; k < entries; k++) batch.push(null);
      this.batch = batch;
    }
  }

  /** The size of the last image emitted. */
  get size(): { readonly width: number; readonly height: number } | undefined {
    return this.format;
  }

  /** Makes room for the next read: OK, or POOL_EXHAUSTED until a frame is freed (or `abandonFrame()`). */
  prepare(): PrepareResult {
    if (this.phase !== READY) this.refuseCall('prepare');
    let result = this.cursor.prepare();
    if (result === PREPARE.FRAME_TOO_LARGE) {
      // push() already refuses images over a slot; this only guards the cursor's own invariant.
      this.tooLarge();
      result = this.cursor.prepare();
    }
    return result;
  }

  /**
   * Commits `n` bytes read at `cursor.targetOffset` and parses them, emitting each complete image (`parse`). With
   * the board's walk, JS runs only to hand out the images it completed, and for what it leaves to `parse`.
   */
  push(n: number): void {
    if (this.phase !== READY) this.refuseCall('push');
    const cursor = this.cursor;
    const from = cursor.targetOffset;
    const to = from + n;
    // bytes[i] is at logical offset base + i.
    const base = cursor.position - from;
    // With the board's pushJpeg the commit and the walk are one native call; -1: n refused, nothing changed.
    let i = -1;
    const pushJpeg = this.pushJpeg;
    if (pushJpeg) {
      i = pushJpeg(cursor, n, this.jpeg, this.walk, this.pool, this.batch);
      if (i >= 0 && this.walk[BATCH] !== 0) this.handOut();
    }
    if (i < 0) {
      // (n | 0) === n: an integer (n is at most a slot's size, far below 2^31).
      if (!(n >= 0 && n <= cursor.targetSpace) || (n | 0) !== n) {
        throw new RangeError(`push(n): n is ${n}, the prepared space is ${cursor.targetSpace} bytes`);
      }
      if (n === 0) return;
      cursor.commit(n);
    }
    this.parse(i, from, to, base);
  }

  /**
   * After the board's camera read (`readPort`, ByteScanPort.readJpeg, on this reader's fields) returned -n: as `push`
   * after its own call, from MJPEG_WALK.STOP and TIMED (FrameReader.readRest); returns n.
   */
  readRest(source: FrameSource, n: number): number {
    const w = this.walk;
    // The read's time joins the input's ring before any frame of it is stamped.
    if (w[TIMED] !== 0) this.onRead?.(source.lastReadAt);
    // The images the walk completed come before whatever it stopped at.
    if (w[BATCH] !== 0) this.handOut();
    const i = w[STOP]!;
    if (i >= 0) {
      const cursor = this.cursor;
      const to = cursor.targetOffset;
      this.parse(i, to - n, to, cursor.position - to);
    }
    return n;
  }

  /**
   * Hands the records the board's walk completed (`batch`, walk[BATCH] of them, in stream order) to `onFrame`. A
   * callback that throws ends the reader: `close` returns the records not yet handed out to the pool.
   */
  private handOut(): void {
    const w = this.walk;
    const n = w[BATCH]!;
    this.phase = BUSY;
    let k = 0;
    try {
      do this.onFrame(this.batch![k++]!);
      while (k < n);
    } catch (err) {
      this.counters.frames += k;
      w[HANDED] = k;
      this.close();
      throw err;
    }
    this.counters.frames += n;
    w[BATCH] = 0;
    this.phase = READY;
  }

  /**
   * A committed read bytes[from..to) (logical offset base + index), after the board's walk up to `i` (an event it left
   * waits in the record), or from `from` when `i` is -1: every image event, then the gap and what the cursor keeps.
   */
  private parse(i: number, from: number, to: number, base: number): void {
    const cursor = this.cursor;
    const st = this.jpeg;
    const w = this.walk;
    // A read the board walked whole (most reads) can neither call back nor fail: no loop and no `try` (30 computrons
    // in XS) for it.
    if (i !== to || st[EVENT] !== NONE) {
      const bytes = cursor.target;
      const scanJpeg = this.scanJpeg;
      const scanner = this.scanner;
      // A sentinel X'FF' in the unread tail of the slot bounds the TypeScript scan's indexOf to the new bytes; the
      // next read overwrites it, and no frame refers past the cursor's position.
      if (!scanJpeg && to < bytes.length) bytes[to] = 0xff;
      // BUSY while callbacks may run; any exception ends the reader (CLOSED), so no `finally` is needed to leave it.
      this.phase = BUSY;
      try {
        // pushJpeg's scan: its event waits in the record.
        let scanned = i >= 0;
        if (!scanned) i = from;
        while (scanned || i < to) {
          if (scanned) {
            scanned = false;
          } else {
            // An image being assembled is never scanned past `slotBytes`, so it is refused at the same byte
            // (and before any later error in it) however the stream was cut into reads.
            let stop = to;
            if (w[ASSEMBLING] !== 0) {
              const cap = w[IMAGE_START]! + this.slotBytes - base;
              if (cap <= i) {
                this.tooLarge();
                continue;
              }
              if (cap < stop) stop = cap;
            }
            i = scanJpeg ? scanJpeg(bytes, i, stop, st) : scanner.scan(bytes, i, stop);
          }
          const event = st[EVENT];
          if (event === SOI) {
            // startImage, inline: once per image.
            const start = base + i - 2;
            const gapStart = w[GAP_START]!;
            if (start - gapStart > w[GAP_FREE]!) this.checkGap(start);
            // An SOI that cut the previous image short starts one byte before the gap (its X'FF' was read first).
            if (start > gapStart) this.counters.paddingBytes += start - gapStart;
            w[SAW_IMAGE] = 1;
            w[ASSEMBLING] = 1;
            w[IMAGE_START] = start;
          } else if (event === EOI) this.endImage(base + i);
          else if (event === ERROR) this.imageFailed(base + i);
        }
      } catch (err) {
        // A malformed image (strict) or a throwing callback leaves the rest of the read unparsed.
        this.close();
        throw err;
      }
      this.phase = READY;
    }
    const position = base + to;
    // Outside an image (JPEG_STATE.SEEK or SEEK_FF): the gap so far, less an X'FF' that may open the next SOI. (A
    // gap refused here ends the reader in `fail`.)
    const state = st[STATE]!;
    if (state < MARKER) {
      const gapEnd = position - (state === SEEK_FF ? 1 : 0);
      if (gapEnd - w[GAP_START]! > w[GAP_FREE]!) this.checkGap(gapEnd);
    }
    // The SOI of the next image may begin with the last byte read; the cursor always keeps the slot
    // before the one being filled, so one byte of look-behind is held without asking for it.
    cursor.keepFrom = w[ASSEMBLING] !== 0 ? w[IMAGE_START]! : position;
  }

  /**
   * End of input; releases the cursor's slots. No bytes at all is INPUT_EMPTY. Strict: no SOI at all is
   * MJPEG_NOT_JPEG and a partial image MJPEG_TRUNCATED; lenient counts the partial image.
   */
  end(): void {
    if (this.phase !== READY) this.refuseCall('end');
    const total = this.cursor.position;
    this.close();
    if (total === 0) throw new FieldcamError('INPUT_EMPTY', 'the MJPEG input has no bytes');
    const w = this.walk;
    if (w[SAW_IMAGE] === 0 && this.strict) throw new FieldcamError('MJPEG_NOT_JPEG', `no SOI marker (FFD8) in ${total} bytes`);
    if (!this.scanner.inImage) {
      this.counters.paddingBytes += total - w[GAP_START]!;
    } else if (w[ASSEMBLING] !== 0) {
      if (this.strict) throw new FieldcamError('MJPEG_TRUNCATED', `the input ends inside the image that starts at byte ${w[IMAGE_START]}`);
      this.counters.truncated++;
    }
  }

  /** Bytes read so far (FrameReader). */
  get bytesIn(): number {
    return this.cursor.position;
  }

  /** MJPEG has no overflow scratch: a full pool makes reading wait (FrameReader). */
  overflow(): boolean {
    if (this.phase !== READY) this.refuseCall('overflow');
    return false;
  }

  /**
   * Drops the image being assembled (pool exhausted). Its remaining bytes are still parsed, so an EXIF
   * thumbnail in them is not mistaken for the next image; if the caller skipped input instead, the parse
   * fails quietly and the reader resynchronises at the next SOI.
   */
  abandonFrame(): void {
    if (this.phase !== READY) this.refuseCall('abandonFrame');
    if (this.walk[ASSEMBLING] === 0) return;
    this.walk[ASSEMBLING] = 0;
    this.counters.abandoned++;
    this.pool.countDrop('poolFull');
    this.cursor.keepFrom = this.cursor.position;
  }

  private endImage(end: number): void {
    const w = this.walk;
    w[GAP_START] = end;
    if (w[ASSEMBLING] === 0) return; // the end of a dropped image
    w[ASSEMBLING] = 0;
    const start = w[IMAGE_START]!;
    const fillFrameRecord = this.fillFrameRecord;
    const frame = fillFrameRecord ? this.pool.takeFrame() : this.pool.newFrame();
    if (!frame) {
      const message = `no free frame record (pool.maxFrames ${this.pool.sizing.maxFrames}) for the image at byte ${start}`;
      if (this.strict) this.fail('POOL_EXHAUSTED', message);
      this.lastError = new FieldcamError('POOL_EXHAUSTED', message);
      this.counters.noFrameRecord++;
      this.pool.countDrop('poolFull');
      return;
    }
    if (fillFrameRecord) {
      // The whole record (reset, pieces and slot references, no NAL table, seq, key) in one native call.
      try {
        fillFrameRecord(frame, this.cursor, NO_NAL_TABLE, 0, start, end, w[SEQ]!, true);
      } catch (err) {
        this.pool.freeFrame(frame); // refused before any field was written: its slots are null since it was last freed
        throw err;
      }
    } else {
      this.cursor.fillFrame(frame, start, end);
      frame.key = true; // every JPEG image decodes on its own
      frame.nalCount = 0;
      frame.seq = w[SEQ]!;
    }
    w[SEQ] = w[SEQ]! + 1;
    this.counters.frames++;
    const st = this.jpeg;
    const width = st[WIDTH]!;
    const height = st[HEIGHT]!;
    const format = this.format;
    if (!format || format.width !== width || format.height !== height) {
      this.format = Object.freeze({ width, height });
      // The board's walk completes images of this size only (MJPEG_WALK.WIDTH, HEIGHT).
      w[MJPEG_WALK.WIDTH] = width;
      w[MJPEG_WALK.HEIGHT] = height;
      this.onFormat?.(this.format);
    }
    this.onFrame(frame);
  }

  private imageFailed(at: number): void {
    const scanner = this.scanner;
    const w = this.walk;
    w[GAP_START] = at;
    if (w[ASSEMBLING] === 0) return; // errors inside an image already dropped are not reported again
    w[ASSEMBLING] = 0;
    const code = scanner.errorCode;
    const message = `${scanner.errorDetail}, in the image that starts at byte ${w[IMAGE_START]} (error at byte ${at})`;
    if (this.strict) this.fail(code, message);
    this.lastError = new FieldcamError(code, message);
    const counters = this.counters;
    if (code === 'MJPEG_TRUNCATED') counters.truncated++;
    else if (code === 'MJPEG_NO_FRAME_SIZE') counters.noFrameSize++;
    else counters.invalid++;
  }

  /** Strict: POOL_FRAME_TOO_LARGE. Lenient: counted; the rest of the image is parsed and discarded. */
  private tooLarge(): void {
    const message = `the image that starts at byte ${this.walk[IMAGE_START]} has no EOI within ${this.pool.sizing.slotBytes} bytes (one slot)`;
    if (this.strict) this.fail('POOL_FRAME_TOO_LARGE', message);
    this.lastError = new FieldcamError('POOL_FRAME_TOO_LARGE', message);
    this.pool.countDrop('frameTooLarge');
    this.walk[ASSEMBLING] = 0;
    this.cursor.keepFrom = this.cursor.position;
  }

  /**
   * Strict mode: too many bytes outside an image, before the first SOI or between images. Callers skip the call for
   * a gap of at most walk[GAP_FREE] bytes (GAP_CHECKED, which no limit refuses; every gap when lenient).
   */
  private checkGap(position: number): void {
    const gapStart = this.walk[GAP_START]!;
    const gap = position - gapStart;
    const sawImage = this.walk[SAW_IMAGE] !== 0;
    if (!sawImage && gap > MJPEG_LIMITS.maxLeadingBytes) {
      this.fail('MJPEG_NOT_JPEG', `no SOI marker (FFD8) in the first ${gap} bytes (limit ${MJPEG_LIMITS.maxLeadingBytes})`);
    }
    if (sawImage && gap > MJPEG_LIMITS.maxPaddingBytes) {
      this.fail('MJPEG_NOT_JPEG', `${gap} bytes without an SOI marker after byte ${gapStart} (limit ${MJPEG_LIMITS.maxPaddingBytes})`);
    }
  }

  private fail(code: ErrorCode, message: string): never {
    this.close();
    throw new FieldcamError(code, message);
  }

  private close(): void {
    if (this.phase === CLOSED) return;
    this.phase = CLOSED;
    const w = this.walk;
    const batch = this.batch;
    if (batch !== undefined) {
      // Records the walk completed that were not handed out (a callback threw while they were) go back to the pool.
      for (let k = w[HANDED]!; k < w[BATCH]!; k++) this.pool.freeFrame(batch[k]!);
      w[BATCH] = 0;
      w[HANDED] = 0;
    }
    this.cursor.close();
  }

  /** The incremental-parser contract's guard (docs/architecture.md): none after end() or an error, none from a callback. */
  private refuseCall(method: string): never {
    if (this.phase === BUSY) throw new FieldcamError('MJPEG_CALL_ORDER', `MjpegReader.${method}() was called from inside its own callback`);
    throw new FieldcamError('MJPEG_CALL_ORDER', `MjpegReader.${method}() after end() or an error; create a new reader`);
  }
}
