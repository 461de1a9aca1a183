import type { ByteScanPort } from '../../io/ByteScan.ts';
import type { FrameReleasePort } from '../../io/FrameRelease.ts';
import { FieldcamError } from '../errors.ts';
import { CODECS, type CodecId, type CodecSpec } from './codecs.ts';
import type { CodecParameters, FrameReader } from './FrameReader.ts';
import type { TrackSpec } from '../mkv/MkvWriter.ts';
import { FragmentQueue } from '../pool/FragmentQueue.ts';
import type { FramePool } from '../pool/FramePool.ts';
import { CaptureClock } from './CaptureClock.ts';
import { MAX_NALS_PER_FRAME, type Frame } from './Frame.ts';
import type { FrameSource, SOURCE_END } from '../../io/FrameSource.ts';
import type { FRAME_QUEUE, FrameQueuePort } from '../../io/FrameQueue.ts';
import { PREPARE, type PrepareResult } from './StreamCursor.ts';

export type Codec = CodecId;

export interface FrameRate {
  readonly num: number;
  readonly den: number;
}

/** KVS's default frame_rate (kvs-reference.md §7.1), used when neither the caller nor the bitstream says. */
export const DEFAULT_FRAME_RATE: FrameRate = Object.freeze({ num: 25, den: 1 });

export interface FrameInputOptions {
  readonly codec: Codec;
  readonly pool: FramePool;
  /** Overrides the rate found in the bitstream (H.264 VUI timing); MJPEG carries none. */
  readonly fps?: FrameRate;
  /** A key frame opens a new fragment once the open one lasts this long (0 = every key frame). */
  readonly fragmentMs: number;
  /** Timecode of the first frame, ms (epoch ms for ABSOLUTE fragment timecodes). */
  readonly startTimecode: number;
  /** Strict (offline tools): corrupt input throws. Lenient (devices): drop, count, resync at a key frame. */
  readonly strict?: boolean;
  /** The board's native byte search for the readers (design.md §3). */
  readonly byteScan?: ByteScanPort;
  /** The board's native frame release for the queue (FragmentQueue.releaseHead); absent: the TypeScript path. */
  readonly releasePort?: FrameReleasePort;
  /** The board's native stamping and queueing of a frame in the steady state (FrameQueuePort); absent: TypeScript only. */
  readonly queuePort?: FrameQueuePort;
  /** Called after each frame is queued (the consumer drains `queue`). */
  readonly onQueued: (frame: Frame) => void;
  /**
   * Timestamps from the capture clock (a live camera): each `push(n, at)` says when those bytes were read (monotonic
   * ms), and a frame is stamped from the read that brought its first byte (CaptureClock), with
   * `startTimecode` the wall time at `monotonicAtStart`. Absent: the cadence the stream declares (files).
   */
  readonly capture?: { readonly monotonicAtStart: number };
  /** Longest fragment (FragmentQueue.maxFragmentMs): frames after a camera pause may not stretch one past it. */
  readonly maxFragmentMs?: number;
  /**
   * A live camera: a full pool drops the oldest un-sent fragment (also when frame records run out), and when
   * nothing can be dropped reading goes on into an overflow scratch of this many bytes (`overflow()`). 0/absent: a file.
   */
  readonly overflowBytes?: number;
}

export interface FrameInputStats {
  /** Frames queued. */
  frames: number;
  /** Whole access units / images the reader delivered, queued or not (stopped, awaiting a key frame, …). */
  accessUnits: number;
  keyFrames: number;
  width: number;
  height: number;
  fps: FrameRate;
  /** Where the frame rate came from: the caller, the H.264 VUI timing, or KVS's default. */
  fpsSource: 'option' | 'bitstream' | 'default';
  /** Capture timing: frames whose arrival moved the cadence (a pause, a burst). */
  reanchors: number;
}

/** Read once: `Math.round` is a global and a property lookup per use in XS (twice per frame). */
const round = Math.round;

/**
 * `readFrom` results besides the bytes read (> 0): nothing available yet (0, the source calls `onReadable`), the
 * source ended (SOURCE_END), or no room to read into (PREPARE's POOL_EXHAUSTED and FRAME_TOO_LARGE, as `prepare`
 * says them: the caller decides, as it does after `prepare`).
 */
export const READ_FROM = Object.freeze({
  NOTHING: 0,
  END: -1 satisfies typeof SOURCE_END, // firmware/core takes only types from firmware/io: checked here
  POOL_EXHAUSTED: -1 - PREPARE.POOL_EXHAUSTED,
  FRAME_TOO_LARGE: -1 - PREPARE.FRAME_TOO_LARGE,
} as const);
const PREPARE_OK = PREPARE.OK;
/** FrameQueuePort.queueFrame's answer for a frame it stamped and queued (firmware/core takes only types from firmware/io). */
const QUEUED = 1 satisfies typeof FRAME_QUEUE.QUEUED;

/** Reads remembered for capture times: a frame's first byte is looked up among the last READ_RING reads. */
const READ_RING = 64;

/**
 * The camera side of the device pipeline: a byte stream read straight into pool slots, split into frames
 * (H.264 access units or JPEG images), stamped at the frame rate and queued into fragments. Consumers —
 * the offline Muxer, the PutMedia uploader — drain `queue` and release frames when they are done.
 */
export class FrameInput {
  // The fields a frame reads come first: XS finds a property by walking the object's own properties in the order
  // they were defined (docs/performance.md, eighth step).
  /**
   * The source whose reads are offered to the board's port first (`readFrom`): one that a read the ordinary way
   * found to be a file descriptor (FrameSource.fd), with read times when capture timing needs them, while the
   * reader's board can take such reads (`readPort`). One identity test per read instead of those checks.
   */
  private fdSource: FrameSource | undefined = undefined;
  private readonly reader: FrameReader;
  /** The reader's board read (FrameReader.readPort, the port's function itself), read once. */
  private readonly readPort: FrameReader['readPort'];
  /** options.queuePort's queueFrame (the host's function itself: it reads only its arguments), read once. */
  private readonly queueFrame: FrameQueuePort['queueFrame'] | undefined;
  /** options.onQueued, read once. */
  private readonly onQueued: (frame: Frame) => void;
  readonly queue: FragmentQueue;
  readonly stats: FrameInputStats;
  private readCount = 0;
  private capture: CaptureClock | undefined;
  /** Timecode of frame 0, ms; moved by `rebase` when the wall clock turns out to have been wrong. */
  private origin: number;
  /** 1000 × fps.den and fps.num, kept with `fps`: a file's timecodes per frame without reading the rate object. */
  private tickScale: number;
  private tickNum: number;
  private formatFixed = false;
  private readonly options: FrameInputOptions;
  private readonly codec: CodecSpec;
  private readonly lengthScratch = new Uint8Array(4 * MAX_NALS_PER_FRAME);
  private parameterSets: CodecParameters | undefined;
  private fps: FrameRate;
  /** Ring of recent reads: logical stream offset one past each read's last byte, and when it was read. */
  private readonly readEnd = new Float64Array(READ_RING);
  private readonly readAt = new Float64Array(READ_RING);
  private readFirst = 0;

  constructor(options: FrameInputOptions) {
    this.options = options;
    this.onQueued = options.onQueued;
    this.queueFrame = options.queuePort?.queueFrame;
    this.fps = options.fps ?? DEFAULT_FRAME_RATE;
    this.tickScale = 1000 * this.fps.den;
    this.tickNum = this.fps.num;
    this.origin = options.startTimecode;
    this.stats = { frames: 0, accessUnits: 0, keyFrames: 0, width: 0, height: 0, fps: this.fps, fpsSource: options.fps ? 'option' : 'default', reanchors: 0 };
    this.queue = new FragmentQueue({
      pool: options.pool,
      minFragmentMs: options.fragmentMs,
      ...(options.maxFragmentMs !== undefined ? { maxFragmentMs: options.maxFragmentMs } : {}),
      ...(options.releasePort ? { releasePort: options.releasePort } : {}),
    });
    this.capture = options.capture ? new CaptureClock(options.startTimecode, options.capture.monotonicAtStart, this.periodMs()) : undefined;
    const live = (options.overflowBytes ?? 0) > 0;
    // Bound, not an arrow calling the method: one call per frame less in XS.
    const onFrame: (frame: Frame) => void = this.onFrame.bind(this);
    const codec = CODECS[options.codec];
    if (!codec) throw new RangeError(`unknown codec ${String(options.codec)}`);
    this.codec = codec;
    if (codec.nalTables && (options.pool.sizing.nalsPerFrame ?? MAX_NALS_PER_FRAME) < MAX_NALS_PER_FRAME) {
      throw new RangeError(`an ${codec.label} pool needs ${MAX_NALS_PER_FRAME} NAL entries per frame record (pool.nalsPerFrame)`);
    }
    this.reader = codec.createReader({
      pool: options.pool,
      strict: options.strict ?? true,
      onFrame,
      onParameterSets: (ps) => this.onParameterSets(ps),
      onFormat: (size) => this.onFormat(size.width, size.height),
      // A read the board's port took (readFrom): its end is the cursor's position once committed.
      onRead: (at) => this.noteRead(this.reader.cursor.position, at),
      ...(options.byteScan ? { byteScan: options.byteScan } : {}),
      ...(live ? { live: { overflowBytes: options.overflowBytes!, onNoFrameRecord: () => this.queue.reclaim() } } : {}),
    });
    this.readPort = this.reader.readPort;
  }

  /** Where the next read goes: `prepare()`, read into `target` at `targetOffset` (≤ `targetSpace`), then `push(n)`. */
  prepare(): PrepareResult {
    return this.reader.prepare();
  }

  get target(): Uint8Array {
    return this.reader.cursor.target;
  }

  get targetOffset(): number {
    return this.reader.cursor.targetOffset;
  }

  get targetSpace(): number {
    return this.reader.cursor.targetSpace;
  }

  /** The input turned out to be a recording: stamp it at its cadence, not from the capture clock (before the first push). */
  keepCadence(): void {
    if (this.bytesIn > 0) throw new RangeError('keepCadence() after input was pushed');
    this.capture = undefined;
  }

  /** `n` bytes were read into `target`; `at` is when (monotonic ms), needed with capture timing. */
  push(n: number, at?: number): void {
    // Read times are kept whenever given: a replayed recording keeps its cadence, yet each frame still has the
    // moment it was read (its capture → socket latency). (`at - at === 0`: finite, without a Number lookup.)
    if (at !== undefined && at - at === 0) {
      if (n > 0) this.noteRead(this.reader.cursor.position + n, at);
    } else if (this.capture && n > 0) {
      throw new RangeError('push(n, at): capture timing needs the read time');
    }
    this.reader.push(n);
  }

  /**
   * `prepare`, `source.read` of at most `limit` bytes into the target and `push(n, source.lastReadAt)` in one call
   * (a camera read is one method, not three calls through each layer's getters): returns the bytes pushed, or a
   * READ_FROM result. A source without read times gives a `lastReadAt` that is not finite (NaN).
   *
   * A source that is a file descriptor (FrameSource.fd) is, from its second read that brought bytes on, first offered
   * to the board's port (FrameReader.readPort): in the reader's steady state the read(2), the commit and the walk
   * are one native call. Every read it does not take (not the steady state; would block, end of stream, an error:
   * nothing changed) goes the way below, whose `source.read` repeats the syscall and decides, so every irregular case
   * stays here and in the source.
   */
  readFrom(source: FrameSource, limit: number): number {
    const reader = this.reader;
    if (source === this.fdSource) {
      const n = this.readPort!(source, limit, reader);
      if (n > 0) return n;
      if (n < 0) return reader.readRest(source, -n);
    }
    const cursor = reader.cursor;
    let space = cursor.targetSpace;
    // Room left in the slot being filled (not the overflow scratch): every reader's `prepare` answers OK then, so its
    // call is left out for most reads. (A closed cursor has no room: the reader's `prepare` refuses the call; one
    // from inside a callback is refused by its `push`.)
    if (!(space > 0 && !cursor.onScratch)) {
      const ready = reader.prepare();
      if (ready !== PREPARE_OK) return -1 - ready;
      space = cursor.targetSpace;
    }
    const n = source.read(cursor.target, cursor.targetOffset, space < limit ? space : limit);
    if (n <= 0) return n;
    const at = source.lastReadAt;
    if (at - at === 0) this.noteRead(cursor.position + n, at);
    else if (this.capture) throw new RangeError('readFrom(source): capture timing needs the read time (source.lastReadAt)');
    reader.push(n);
    if (source !== this.fdSource && source.fd !== undefined && this.readPort !== undefined) this.fdSource = source;
    return n;
  }

  /** A read that ends at logical offset `end`, made at `at` (monotonic ms), joins the ring of recent reads. */
  private noteRead(end: number, at: number): void {
    const i = (this.readFirst + this.readCount) % READ_RING;
    this.readEnd[i] = end;
    this.readAt[i] = at;
    if (this.readCount < READ_RING) this.readCount++;
    else this.readFirst = (this.readFirst + 1) % READ_RING;
  }

  /**
   * End of input. `lastComplete`: the input ended on a whole frame (a file), so the last one is flushed; false for
   * a live camera cut by EOF or a stop: its last access unit cannot be known complete and is dropped as
   * `truncated` (H.264; a JPEG is complete only at its EOI marker either way).
   */
  end(lastComplete = true): void {
    this.reader.end(lastComplete);
    // Event recording: no event can come for the pre-roll any more; its frames are counted, not left held.
    this.queue.dropAllHeld();
  }

  /**
   * The pool is full and nothing un-sent can be dropped (everything held is on the wire): drop the frame being
   * assembled and read on, counting, until a slot is free (H.264 with `overflowBytes`). false: reading must wait.
   */
  overflow(): boolean {
    return this.reader.overflow();
  }

  /**
   * While no frame has been queued although bytes arrived: why (the input is not Annex-B H.264, or the reader's
   * last error). undefined once a frame came, or when there is nothing to say yet.
   */
  problem(): FieldcamError | undefined {
    if (this.stats.accessUnits > 0) return undefined;
    const reader = this.reader;
    if (reader.sawStartCode === undefined) return reader.lastError;
    if (reader.bytesIn === 0) return undefined;
    if (reader.formatError) return reader.formatError;
    if (!reader.sawStartCode) {
      return new FieldcamError(this.codec.notThisCodec, `no Annex-B start code (00 00 01) in the first ${reader.bytesIn} bytes`);
    }
    return reader.lastError;
  }

  /** Bytes read from the input so far. */
  get bytesIn(): number {
    return this.reader.bytesIn;
  }

  /** Drops the frame being assembled (pool exhausted); input resumes at the next key frame. */
  abandonFrame(): void {
    this.reader.abandonFrame();
  }

  /**
   * Shifts every held frame and every frame to come by `deltaMs`. A board without an RTC stamps its first
   * frames with a wrong wall clock; once the uploader learns the real time (server Date header) and before
   * anything was sent, it moves them to the right place, so producer timestamps are true (design.md §4).
   */
  rebase(deltaMs: number): void {
    if (!Number.isFinite(deltaMs)) throw new RangeError('deltaMs must be finite');
    for (let i = 0; i < this.queue.length; i++) {
      const frame = this.queue.at(i);
      if (frame.sent) throw new RangeError('rebase after frames were sent would break their timecodes');
      frame.pts += deltaMs;
      frame.dts += deltaMs;
    }
    this.queue.shiftNewest(deltaMs);
    this.origin += deltaMs;
    this.capture?.rebase(deltaMs);
  }

  /** True once the first frame fixed the track format (size, codec private data). */
  get ready(): boolean {
    return this.formatFixed;
  }

  /** The Matroska track for this input; valid once a frame has been queued. */
  trackSpec(): TrackSpec {
    if (!this.formatFixed) throw new RangeError('trackSpec() before the first frame');
    const defaultDurationNs = Math.round((1e9 * this.fps.den) / this.fps.num);
    const { width, height } = this.stats;
    const scratch = this.lengthScratch;
    const push = this.codec.pushPayload;
    return {
      codecId: this.codec.mkvCodecId,
      width,
      height,
      ...(this.parameterSets ? { codecPrivate: this.parameterSets.codecPrivate } : {}),
      defaultDurationNs,
      pushPayload: (frame, out) => push(frame, out, scratch),
      ...(this.codec.blockPayload ? { payload: this.codec.blockPayload } : {}),
    };
  }

  private onParameterSets(ps: CodecParameters): void {
    if (this.parameterSets && !sameBytes(this.parameterSets.codecPrivate, ps.codecPrivate)) {
      throw new FieldcamError(
        this.codec.parametersChanged,
        `SPS/PPS changed after frame ${this.stats.frames} (${this.stats.width}x${this.stats.height} → ${ps.sps.width}x${ps.sps.height})`,
      );
    }
    this.parameterSets = ps;
    if (!this.options.fps && ps.sps.fps) {
      this.fps = ps.sps.fps;
      this.tickScale = 1000 * this.fps.den;
      this.tickNum = this.fps.num;
      this.stats.fpsSource = 'bitstream';
      this.capture?.setPeriod(this.periodMs());
    }
    this.setFormat(ps.sps.width, ps.sps.height);
  }

  private onFormat(width: number, height: number): void {
    if (this.formatFixed && (width !== this.stats.width || height !== this.stats.height)) {
      throw new FieldcamError(
        this.codec.parametersChanged,
        `image ${this.stats.frames} is ${width}x${height}, the stream started at ${this.stats.width}x${this.stats.height}`,
      );
    }
    this.setFormat(width, height);
  }

  private setFormat(width: number, height: number): void {
    this.stats.width = width;
    this.stats.height = height;
    this.stats.fps = this.fps;
  }

  private periodMs(): number {
    return (1000 * this.fps.den) / this.fps.num;
  }

  /** When the read that brought the byte at logical `offset` happened (the oldest remembered read if older). */
  private capturedAt(offset: number): number {
    while (this.readCount > 1 && (this.readEnd[this.readFirst] as number) <= offset) {
      this.readFirst = (this.readFirst + 1) % READ_RING;
      this.readCount--;
    }
    return this.readAt[this.readFirst] as number;
  }

  private onFrame(frame: Frame): void {
    // The steady state of a file (its cadence, a plain place in the queue) in one native call; anything else, and
    // every drop, counter and error, is the TypeScript path's below (FrameQueuePort.queueFrame changes nothing then).
    const queueFrame = this.queueFrame;
    if (queueFrame !== undefined && queueFrame(frame, this) === QUEUED) {
      this.onQueued(frame);
      return;
    }
    const stats = this.stats;
    stats.accessUnits++;
    // The reader's record arrives with capturedAt -1 (Frame.reset, fillFrameRecord).
    if (this.readCount > 0) frame.capturedAt = this.capturedAt(frame.streamOffset);
    const capture = this.capture;
    if (capture !== undefined) {
      capture.stamp(frame.capturedAt, frame);
      stats.reanchors = capture.reanchors;
    } else {
      // A file: timecodes follow its frame rate from the first frame, computed from the sequence number (not by
      // accumulating rounded durations), so long runs never drift; durations absorb the rounding.
      const seq = frame.seq;
      const pts = this.origin + round((seq * this.tickScale) / this.tickNum);
      frame.pts = frame.dts = pts;
      frame.duration = this.origin + round(((seq + 1) * this.tickScale) / this.tickNum) - pts;
    }
    if (!this.queue.push(frame)) return;
    this.formatFixed = true;
    stats.frames++;
    if (frame.key) stats.keyFrames++;
    this.onQueued(frame);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
