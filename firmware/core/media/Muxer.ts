import { FieldcamError } from '../errors.ts';
import { H264Reader, type ParameterSets } from '../h264/H264Reader.ts';
import { pushAvccPayload } from '../h264/pushAvccPayload.ts';
import { MjpegReader } from '../mjpeg/MjpegReader.ts';
import { pushMjpegPayload } from '../mjpeg/pushMjpegPayload.ts';
import type { FragmentMetadata } from '../mkv/FragmentMetadata.ts';
import { MkvWriter, type TrackSpec } from '../mkv/MkvWriter.ts';
import { FragmentQueue } from '../pool/FragmentQueue.ts';
import type { FramePool } from '../pool/FramePool.ts';
import { MAX_NALS_PER_FRAME, type Frame } from './Frame.ts';
import type { PrepareResult } from './StreamCursor.ts';
import { ViewList } from './ViewList.ts';

export type Codec = 'h264' | 'mjpeg';

export interface FrameRate {
  readonly num: number;
  readonly den: number;
}

/** KVS's default frame_rate (kvs-reference.md §7.1), used when neither the caller nor the bitstream says. */
export const DEFAULT_FRAME_RATE: FrameRate = Object.freeze({ num: 25, den: 1 });

export interface MuxerOptions {
  readonly codec: Codec;
  readonly pool: FramePool;
  /** Overrides the rate found in the bitstream (H.264 VUI timing); MJPEG carries none. */
  readonly fps?: FrameRate;
  /** A key frame opens a new fragment once the open one lasts this long (0 = every key frame). */
  readonly fragmentMs: number;
  /** Longest fragment allowed (KVS: 20 s hard limit, 10 s in the API reference; we default to 10 s). */
  readonly maxFragmentMs: number;
  /** Timecode of the first frame, ms (epoch ms for ABSOLUTE fragment timecodes). */
  readonly startTimecode: number;
  readonly metadata?: FragmentMetadata;
  /** Close each fragment with the end-of-fragment tag so it can be acknowledged at once. */
  readonly endOfFragment: boolean;
  readonly segmentUid?: Uint8Array;
  /** Receives each batch of output ranges; they are valid only during the call. */
  readonly sink: (views: ViewList) => void;
  /** Observes every block written (instrumentation: benchmarks, tests). */
  readonly onBlock?: (frame: Frame, views: ViewList) => void;
}

export interface MuxerStats {
  frames: number;
  keyFrames: number;
  fragments: number;
  bytesOut: number;
  width: number;
  height: number;
  fps: FrameRate;
  /** Where the frame rate came from: the caller, the H.264 VUI timing, or KVS's default. */
  fpsSource: 'option' | 'bitstream' | 'default';
}

/**
 * The device media pipeline without the network: a byte stream read straight into pool slots, split into
 * frames, stamped at the frame rate, grouped into fragments and written as one Matroska segment. The
 * offline `fieldcam mux` and the PutMedia uploader share every part of it except the sink.
 */
export class Muxer {
  private readonly options: MuxerOptions;
  private readonly reader: H264Reader | MjpegReader;
  private readonly queue: FragmentQueue;
  private readonly views = new ViewList(8 + 2 * MAX_NALS_PER_FRAME);
  private readonly lengthScratch = new Uint8Array(4 * MAX_NALS_PER_FRAME);
  private writer: MkvWriter | undefined;
  private parameterSets: ParameterSets | undefined;
  private fps: FrameRate;
  private fragmentOpen = false;
  readonly stats: MuxerStats;

  constructor(options: MuxerOptions) {
    this.options = options;
    this.fps = options.fps ?? DEFAULT_FRAME_RATE;
    this.stats = {
      frames: 0, keyFrames: 0, fragments: 0, bytesOut: 0, width: 0, height: 0,
      fps: this.fps, fpsSource: options.fps ? 'option' : 'default',
    };
    this.queue = new FragmentQueue({ pool: options.pool, minFragmentMs: options.fragmentMs });
    const onFrame = (frame: Frame) => this.onFrame(frame);
    this.reader =
      options.codec === 'h264'
        ? new H264Reader({ pool: options.pool, onFrame, onParameterSets: (ps) => this.onParameterSets(ps) })
        : new MjpegReader({ pool: options.pool, onFrame, onFormat: (size) => this.onFormat(size.width, size.height) });
  }

  /** Where the next read goes: call `prepare()`, read into `target` at `targetOffset` (≤ `targetSpace`), then `push(n)`. */
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

  push(n: number): void {
    this.reader.push(n);
  }

  /** End of input: flushes the last frame and closes the last fragment. */
  end(): void {
    this.reader.end();
    if (this.fragmentOpen && this.options.endOfFragment && this.writer) {
      this.views.clear();
      this.writer.endFragment(this.views);
      this.emit();
    }
    this.fragmentOpen = false;
  }

  private onParameterSets(ps: ParameterSets): void {
    if (this.parameterSets && !sameBytes(this.parameterSets.codecPrivate, ps.codecPrivate)) {
      throw new FieldcamError('H264_PARAMETER_SETS_CHANGED',
        `SPS/PPS changed after frame ${this.stats.frames} (${this.stats.width}x${this.stats.height} → ${ps.sps.width}x${ps.sps.height})`);
    }
    this.parameterSets = ps;
    if (!this.options.fps && ps.sps.fps) {
      this.fps = ps.sps.fps;
      this.stats.fpsSource = 'bitstream';
    }
    this.setFormat(ps.sps.width, ps.sps.height);
  }

  private onFormat(width: number, height: number): void {
    if (this.writer && (width !== this.stats.width || height !== this.stats.height)) {
      throw new FieldcamError('MJPEG_SIZE_CHANGED',
        `image ${this.stats.frames} is ${width}x${height}, the stream started at ${this.stats.width}x${this.stats.height}`);
    }
    this.setFormat(width, height);
  }

  private setFormat(width: number, height: number): void {
    this.stats.width = width;
    this.stats.height = height;
    this.stats.fps = this.fps;
  }

  private onFrame(frame: Frame): void {
    // Timecodes follow the frame rate from the first frame, computed from the sequence number (not by
    // accumulating rounded durations), so long runs never drift; durations absorb the rounding.
    const { num, den } = this.fps;
    const at = (n: number) => this.options.startTimecode + Math.round((n * 1000 * den) / num);
    frame.pts = frame.dts = at(frame.seq);
    frame.duration = at(frame.seq + 1) - frame.pts;
    if (!this.queue.push(frame)) return;
    this.stats.frames++;
    if (frame.key) this.stats.keyFrames++;
    this.drain();
  }

  private drain(): void {
    const writer = this.writer ?? this.startSegment();
    for (let frame = this.queue.nextUnsent(); frame; frame = this.queue.nextUnsent()) {
      this.views.clear();
      if (frame.fragmentStart) {
        if (this.fragmentOpen && this.options.endOfFragment) {
          writer.endFragment(this.views);
          this.emit();
          this.views.clear();
        }
        writer.startFragment(frame.pts, this.views, this.options.metadata);
        this.options.metadata?.fragmentDone();
        this.fragmentOpen = true;
        this.stats.fragments++;
      }
      writer.block(frame, this.views);
      this.options.onBlock?.(frame, this.views);
      this.emit();
      frame.sent = true;
    }
    // Offline, a frame written is a frame delivered: give its slots back at once.
    this.queue.releaseSent();
  }

  private startSegment(): MkvWriter {
    const scratch = this.lengthScratch;
    const track: TrackSpec =
      this.options.codec === 'h264'
        ? {
            codecId: 'V_MPEG4/ISO/AVC',
            width: this.stats.width,
            height: this.stats.height,
            codecPrivate: this.parameterSets!.codecPrivate,
            defaultDurationNs: Math.round((1e9 * this.fps.den) / this.fps.num),
            pushPayload: (frame, out) => pushAvccPayload(frame, out, scratch),
          }
        : {
            codecId: 'V_MJPEG',
            width: this.stats.width,
            height: this.stats.height,
            defaultDurationNs: Math.round((1e9 * this.fps.den) / this.fps.num),
            pushPayload: pushMjpegPayload,
          };
    const writer = new MkvWriter({
      track,
      maxFragmentMs: this.options.maxFragmentMs,
      ...(this.options.segmentUid ? { segmentUid: this.options.segmentUid } : {}),
    });
    this.views.clear();
    writer.header(this.views);
    this.emit();
    this.writer = writer;
    return writer;
  }

  private emit(): void {
    this.stats.bytesOut += this.views.byteLength;
    this.options.sink(this.views);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
