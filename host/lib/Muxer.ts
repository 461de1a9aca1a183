import type { ByteScanPort } from '../../firmware/io/ByteScan.ts';
import type { FrameReleasePort } from '../../firmware/io/FrameRelease.ts';
import type { FrameSource } from '../../firmware/io/FrameSource.ts';
import type { FrameQueuePort } from '../../firmware/io/FrameQueue.ts';
import { AUDIO_CODECS } from '../../firmware/core/audio/audioCodecs.ts';
import type { AudioPackets } from '../../firmware/core/audio/AudioPackets.ts';
import type { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';
import { MkvWriter } from '../../firmware/core/mkv/MkvWriter.ts';
import type { MkvBlockPort } from '../../firmware/core/mkv/MkvBlockPort.ts';
import type { FragmentQueue } from '../../firmware/core/pool/FragmentQueue.ts';
import type { FramePool } from '../../firmware/core/pool/FramePool.ts';
import { MAX_NALS_PER_FRAME, type Frame } from '../../firmware/core/media/Frame.ts';
import { FrameInput, type Codec, type FrameInputStats, type FrameRate } from '../../firmware/core/media/FrameInput.ts';
import type { PrepareResult } from '../../firmware/core/media/StreamCursor.ts';
import { ViewList } from '../../firmware/core/media/ViewList.ts';

export { DEFAULT_FRAME_RATE, type Codec, type FrameRate } from '../../firmware/core/media/FrameInput.ts';

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
  /** The board's native byte search for the readers (design.md §3). */
  readonly byteScan?: ByteScanPort;
  /**
   * Audio tracks (offline `mux --audio`), from the same start as the video: each packet goes into the fragment its
   * time falls in, interleaved with the video by timecode. Every fragment must get audio (MKV_TRACK_MISSING_IN_FRAGMENT).
   */
  readonly audio?: readonly AudioPackets[];
  /** The board's native stamping and queueing (FrameQueuePort); absent: FrameInput's TypeScript path. */
  readonly queuePort?: FrameQueuePort;
  /** The board's native SimpleBlock writer (MkvBlockPort); absent: the Matroska writer's TypeScript path. */
  readonly blockPort?: MkvBlockPort;
  /** The board's native frame release (FrameReleasePort); absent: FragmentQueue's TypeScript path. */
  readonly releasePort?: FrameReleasePort;
}

export interface MuxerStats extends FrameInputStats {
  fragments: number;
  bytesOut: number;
  /** Audio packets written (all tracks), and those after the last video frame's end, left out. */
  audioPackets: number;
  audioLeftOut: number;
}

/**
 * The device pipeline without the network: FrameInput (read into the pool, split, stamp, fragment) drained
 * into one Matroska segment. Offline, a frame written is a frame delivered, so it is released at once; the
 * PutMedia uploader drains the same FrameInput but releases on acknowledgement.
 */
export class Muxer {
  // The fields every frame reads come first: XS finds a property by walking the object's own properties in the
  // order they were defined (docs/performance.md, eighth step).
  /** The input's queue, read once. */
  private readonly queue: FragmentQueue;
  /**
   * The board's release (FrameReleasePort.releaseHead, the function itself: a native call with no JS frame) and the
   * pool it releases into; undefined without the port.
   */
  private readonly releaseHead: FrameReleasePort['releaseHead'] | undefined;
  private readonly pool: FramePool;
  /**
   * Once the segment started, when a frame's output is its block alone (no audio to interleave, no onBlock to call):
   * the writer's block into `views` as a function of the frame (MkvWriter.blockAloneInto: one native call where the
   * board has it), for `write`'s common case; else undefined.
   */
  private writeAlone: ((frame: Frame) => number) | undefined;
  private readonly views = new ViewList(8 + 2 * MAX_NALS_PER_FRAME);
  private bytesOut = 0;
  private readonly sink: (views: ViewList) => void;
  private readonly input: FrameInput;
  /**
   * One read from `source` (FrameInput.readFrom): the bytes pushed, or a READ_FROM result. The input's method itself,
   * bound: once or twice per frame, and a method that only passes the call on costs XS a frame of its own.
   */
  readonly readFrom: (source: FrameSource, limit: number) => number;
  private writer: MkvWriter | undefined;
  /** The options each frame consults, read once (a property lookup fewer per use, per frame). */
  private readonly audio: readonly AudioPackets[] | undefined;
  /** The end of the last video frame written, for the audio after it (kept by writeFrame: `write`'s lean path has no audio). */
  private videoEnd = 0;
  private readonly onBlock: ((frame: Frame, views: ViewList) => void) | undefined;
  private fragmentOpen = false;
  private readonly options: MuxerOptions;
  private fragments = 0;
  private readonly snapshot: MuxerStats;
  /** Next packet of each audio track, and the counters. */
  private readonly audioNext: number[];
  private audioPackets = 0;

  constructor(options: MuxerOptions) {
    this.options = options;
    this.audio = options.audio;
    this.onBlock = options.onBlock;
    this.sink = options.sink;
    this.input = new FrameInput({
      codec: options.codec,
      pool: options.pool,
      ...(options.fps ? { fps: options.fps } : {}),
      fragmentMs: options.fragmentMs,
      startTimecode: options.startTimecode,
      ...(options.byteScan ? { byteScan: options.byteScan } : {}),
      ...(options.releasePort ? { releasePort: options.releasePort } : {}),
      ...(options.queuePort ? { queuePort: options.queuePort } : {}),
      // Bound, not an arrow calling the method: one call per frame less in XS.
      onQueued: this.write.bind(this),
    });
    this.readFrom = this.input.readFrom.bind(this.input);
    this.queue = this.input.queue;
    this.releaseHead = options.releasePort?.releaseHead;
    this.pool = options.pool;
    this.snapshot = { ...this.input.stats, fragments: 0, bytesOut: 0, audioPackets: 0, audioLeftOut: 0 };
    this.audioNext = (options.audio ?? []).map(() => 0);
  }

  /** Counters, refreshed in place on each read (one object for the muxer's life: no allocation). */
  get stats(): MuxerStats {
    Object.assign(this.snapshot, this.input.stats);
    this.snapshot.fragments = this.fragments;
    this.snapshot.bytesOut = this.bytesOut;
    this.snapshot.audioPackets = this.audioPackets;
    let left = 0;
    const audio = this.options.audio ?? [];
    for (let t = 0; t < audio.length; t++) left += audio[t]!.count - (this.audioNext[t] as number);
    this.snapshot.audioLeftOut = left;
    return this.snapshot;
  }

  prepare(): PrepareResult {
    return this.input.prepare();
  }

  get target(): Uint8Array {
    return this.input.target;
  }

  get targetOffset(): number {
    return this.input.targetOffset;
  }

  get targetSpace(): number {
    return this.input.targetSpace;
  }

  push(n: number): void {
    this.input.push(n);
  }

  /** End of input: flushes the last frame and closes the last fragment. */
  end(): void {
    this.input.end();
    if (this.fragmentOpen && this.writer && this.options.audio) {
      this.writeAudioBefore(this.writer, this.videoEnd);
      this.writer.checkTracksPresent();
    }
    if (this.fragmentOpen && this.options.endOfFragment && this.writer) {
      this.views.clear();
      this.writer.endFragment(this.views);
      this.emit();
    }
    this.fragmentOpen = false;
  }

  /**
   * Offline, a frame written is a frame done: each is written as it is queued and released at once, so the frame
   * just queued is normally the only one held and is written without walking the queue. Most frames continue the
   * open fragment and are their block alone: a block written into the emptied views, the sink, the release (one
   * native call each where the board has them). Anything else (a frame a rule refused stays queued, strict mode)
   * goes the general way, `drain`.
   */
  private write(frame: Frame): void {
    const queue = this.queue;
    if (queue.length !== 1) {
      this.drain();
      return;
    }
    const writeAlone = this.writeAlone;
    if (writeAlone !== undefined && !frame.fragmentStart) {
      let bytes = writeAlone(frame);
      // Refused, the writer's state unchanged: its own method names the refusal (it throws, the views left empty).
      if (bytes < 0) bytes = this.writer!.blockAlone(frame, this.views);
      this.bytesOut += bytes;
      this.sink(this.views);
    } else {
      this.writeFrame(frame);
    }
    // The port takes the steady state; anything else (it changed nothing) is the queue's own releaseHead, errors included.
    const release = this.releaseHead;
    if (release === undefined || !release(queue, this.pool)) queue.releaseHead();
  }

  private drain(): void {
    const queue = this.queue;
    for (let frame = queue.nextUnsent(); frame; frame = queue.nextUnsent()) {
      this.writeFrame(frame);
      frame.sent = true;
    }
    queue.releaseSent();
  }

  private writeFrame(frame: Frame): void {
    const writer = this.writer ?? this.startSegment();
    // Audio that starts before this frame goes first, into the fragment still open (interleaving by timecode).
    if (this.audio !== undefined && this.fragmentOpen) this.writeAudioBefore(writer, frame.pts);
    const views = this.views;
    views.clear();
    if (frame.fragmentStart) {
      if (this.fragmentOpen && this.options.endOfFragment) {
        writer.endFragment(views);
        this.emit();
        views.clear();
      }
      writer.startFragment(frame.pts, views, this.options.metadata);
      this.options.metadata?.fragmentDone();
      this.fragmentOpen = true;
      this.fragments++;
    }
    writer.block(frame, views);
    if (frame.pts + frame.duration > this.videoEnd) this.videoEnd = frame.pts + frame.duration;
    if (this.onBlock !== undefined) this.onBlock(frame, views);
    // `emit` written out: once per frame, and a call costs more than its two lines in XS (docs/performance.md).
    this.bytesOut += views.byteLength;
    this.sink(views);
  }

  private startSegment(): MkvWriter {
    const writer = new MkvWriter({
      track: this.input.trackSpec(),
      ...(this.options.audio
        ? {
            audio: this.options.audio.map((a) => ({
              codecId: AUDIO_CODECS[a.codec].mkvCodecId,
              codecPrivate: a.codecPrivate,
              sampleRate: a.sampleRate,
              channels: a.channels,
              bitDepth: a.bitDepth,
            })),
          }
        : {}),
      maxFragmentMs: this.options.maxFragmentMs,
      ...(this.options.segmentUid ? { segmentUid: this.options.segmentUid } : {}),
      ...(this.options.blockPort ? { blockPort: this.options.blockPort } : {}),
    });
    this.views.clear();
    writer.header(this.views);
    this.emit();
    this.writer = writer;
    if (this.audio === undefined && this.onBlock === undefined) this.writeAlone = writer.blockAloneInto(this.views);
    return writer;
  }

  /**
   * Writes every audio packet that starts before `limit` (ms) into the open fragment, lowest timecode first across
   * tracks, so the fragment's blocks stay in time order (KVS: monotonically increasing frame timestamps).
   */
  private writeAudioBefore(writer: MkvWriter, limit: number): void {
    const audio = this.options.audio!;
    const start = this.options.startTimecode;
    for (;;) {
      let best = -1;
      let bestAt = limit;
      for (let t = 0; t < audio.length; t++) {
        const i = this.audioNext[t] as number;
        if (i >= audio[t]!.count) continue;
        const at = start + audio[t]!.timeMs(i);
        if (at < bestAt) {
          best = t;
          bestAt = at;
        }
      }
      if (best < 0) return;
      const a = audio[best]!;
      const i = this.audioNext[best] as number;
      this.views.clear();
      writer.audioBlock(best, bestAt, a.bytes, a.offset[i] as number, a.length[i] as number, this.views);
      this.emit();
      this.audioNext[best] = i + 1;
      this.audioPackets++;
    }
  }

  private emit(): void {
    this.bytesOut += this.views.byteLength;
    this.sink(this.views);
  }
}
