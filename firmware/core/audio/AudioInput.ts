import { AUDIO_PENDING_RECORDS, type AudioBudget } from '../config/derivePoolSizing.ts';
import { FieldcamError } from '../errors.ts';
import type { AudioTrackSpec } from '../mkv/TrackSpec.ts';
import type { Frame } from '../media/Frame.ts';
import { PREPARE, StreamCursor, type PrepareResult } from '../media/StreamCursor.ts';
import type { FragmentQueue } from '../pool/FragmentQueue.ts';
import type { FramePool } from '../pool/FramePool.ts';
import { Slot } from '../pool/Slot.ts';
import { AAC_FRAME_SAMPLES, AAC_RATES, ADTS_HEADER_MIN, AdtsHeader } from './AdtsHeader.ts';
import { audioSpecificConfig, g711WaveFormat } from './audioCodecPrivate.ts';
import { AUDIO_CODECS, type AudioCodecId } from './audioCodecs.ts';
import { silentPacket } from './silentPacket.ts';

export interface AudioInputOptions {
  readonly codec: AudioCodecId;
  /** The camera's pool: audio packets are read into its slots and take its frame records, like video frames. */
  readonly pool: FramePool;
  /** The video's queue: packets are placed among its frames by timecode (FragmentQueue.insertAudio). */
  readonly queue: FragmentQueue;
  /** The declared format (the Matroska track, fixed at boot): Hz and channels. AAC ADTS headers must match it. */
  readonly sampleRate: number;
  readonly channels: number;
  /** Timecode of the first sample, ms: the video's start, so both tracks share one origin. */
  readonly startTimecode: number;
  /** A live input: packets are re-anchored to their read time (monotonic ms) when they arrive later than their samples say. */
  readonly capture?: { readonly monotonicAtStart: number };
  /**
   * A live input: when the audio is this far (ms) behind the video, the gap is filled with silence so the video
   * goes on and every fragment still has audio. Absent: filled only once the audio input ended (a file).
   */
  readonly stallMs?: number;
}

/** What an audio input of this format adds to the pool (derivePoolSizing withAudio). */
export function audioBudget(codec: AudioCodecId, sampleRate: number, channels: number): AudioBudget {
  return codec === 'aac'
    ? { packetsPerSecond: Math.ceil(sampleRate / AAC_FRAME_SAMPLES), bytesPerSecond: ((256_000 / 8) * Math.min(channels, 2)) / 2 }
    : { packetsPerSecond: 1000 / G711_PACKET_MS, bytesPerSecond: sampleRate * channels };
}

export type AudioDropReason = 'stopped' | 'noFragment' | 'late' | 'afterVideo' | 'format' | 'corrupt' | 'noRecord';

export interface AudioInputStats {
  /** Whole packets read from the input (ADTS frames, 20 ms of G.711). */
  packetsIn: number;
  /** Packets placed in the queue (the input's and silence). */
  packetsQueued: number;
  /** Silence packets made for gaps (the input stalled, or ended before the video). */
  silencePackets: number;
  /** Packets not queued, by reason (packets dropped later with their fragment: FramePool.audioDropped). */
  readonly drops: Record<AudioDropReason, number>;
}

/** G.711 packets: 20 ms, as RTP and KVS producers send them. */
const G711_PACKET_MS = 20;
/** Packets waiting for the video to reach their time (the video reads in bursts of a frame); the pool has records for them. */
const PENDING_MAX = AUDIO_PENDING_RECORDS;
/** A live packet whose read time is this much later than its samples say moves the audio clock forward (lost samples). */
const REANCHOR_MS = 500;

/**
 * The camera's audio track on the device: an AAC ADTS or raw G.711 byte stream read straight into the video's pool
 * (its own StreamCursor; zero payload copies, frame records from the same pool), split into packets, stamped by
 * sample count from the video's origin, and placed among the video frames by timecode, so each fragment carries
 * both tracks interleaved. A fragment still starts at a video key frame: audio never opens one.
 *
 * The uploader sends a video frame only once the audio reached its time (`through`, PoolFragmentSource), so no
 * audio can arrive for a fragment already on the wire. KVS refuses a fragment without a block of each declared
 * track (ACK 4011), so a gap — the input stalled for `stallMs`, or ended before the video — is filled with
 * silence packets (silentPacket) pointing at one constant slot: the video never waits longer than `stallMs`.
 */
export class AudioInput {
  readonly stats: AudioInputStats;
  private readonly o: AudioInputOptions;
  private readonly cursor: StreamCursor;
  private readonly header = new AdtsHeader();
  private readonly headerScratch = new Uint8Array(ADTS_HEADER_MIN);
  private readonly packetBytes: number;
  private readonly packetSamples: number;
  private readonly aacConfig: number;
  private readonly codecPrivate: Uint8Array;
  /** The silence packet's constant slot (never in the pool: one reference of its own, so it is never freed). */
  private readonly silence: Slot | undefined;
  private readonly pending: (Frame | null)[] = new Array<Frame | null>(PENDING_MAX).fill(null);
  private pendingHead = 0;
  private pendingCount = 0;
  /** Logical offset of the next packet's first byte. */
  private next = 0;
  /** Samples per channel stamped so far, and the timecode of sample 0 (moved by re-anchoring and rebase). */
  private samples = 0;
  private origin: number;
  private wallOffset: number;
  private resyncing = false;
  private capture: boolean;
  private stallMs: number | undefined;
  private done = false;
  /** The last format or stream error (status: `audioError`); undefined while the audio is fine. */
  problem: FieldcamError | undefined;

  constructor(options: AudioInputOptions) {
    this.o = options;
    const { codec, sampleRate, channels } = options;
    if (!AUDIO_CODECS[codec]) throw new RangeError(`unknown audio codec ${String(codec)}`);
    this.cursor = new StreamCursor(options.pool);
    this.origin = options.startTimecode;
    this.wallOffset = options.capture ? options.startTimecode - options.capture.monotonicAtStart : 0;
    this.capture = options.capture !== undefined;
    this.stallMs = options.stallMs;
    if (codec === 'aac') {
      const rateIndex = AAC_RATES.indexOf(sampleRate);
      if (rateIndex < 0) throw new FieldcamError('CONFIG_INVALID', `camera.audio.sampleRate ${sampleRate} is not an AAC rate (${AAC_RATES.join(', ')})`);
      this.packetSamples = AAC_FRAME_SAMPLES;
      this.packetBytes = 0;
      this.aacConfig = (1 << 8) | (rateIndex << 4) | channels; // AAC-LC: ADTS profile 1
      this.codecPrivate = audioSpecificConfig(1, rateIndex, channels);
    } else {
      this.packetSamples = (sampleRate * G711_PACKET_MS) / 1000;
      if (!Number.isInteger(this.packetSamples)) throw new FieldcamError('CONFIG_INVALID', `camera.audio.sampleRate ${sampleRate} is not a multiple of 50 Hz`);
      this.packetBytes = this.packetSamples * channels;
      this.aacConfig = -1;
      this.codecPrivate = g711WaveFormat(codec, sampleRate, channels);
    }
    const quiet = silentPacket(codec, channels, this.packetBytes);
    if (quiet) {
      this.silence = new Slot(-1, quiet);
      this.silence.refs = 1;
    }
    this.stats = {
      packetsIn: 0,
      packetsQueued: 0,
      silencePackets: 0,
      drops: { stopped: 0, noFragment: 0, late: 0, afterVideo: 0, format: 0, corrupt: 0, noRecord: 0 },
    };
  }

  /** The Matroska track (TrackNumber 2), known from the configuration at boot. */
  trackSpec(): AudioTrackSpec {
    return {
      codecId: AUDIO_CODECS[this.o.codec].mkvCodecId,
      codecPrivate: this.codecPrivate,
      sampleRate: this.o.sampleRate,
      channels: this.o.channels,
      bitDepth: this.o.codec === 'aac' ? 16 : 8,
    };
  }

  /** The input turned out to be a recording (a regular file): stamped by sample count only, filled only at its end. */
  keepCadence(): void {
    this.capture = false;
    this.stallMs = undefined;
  }

  /** Timecode up to which the audio is known (the end of the newest packet stamped), ms. */
  get through(): number {
    return this.origin + Math.round((this.samples * 1000) / this.o.sampleRate);
  }

  /** The input ended (or was closed): the video no longer waits for it. */
  get ended(): boolean {
    return this.done;
  }

  /** Where the next read goes: `prepare()`, read into `target` at `targetOffset` (≤ `targetSpace`), then `push(n, at)`. */
  prepare(): PrepareResult {
    const r = this.cursor.prepare();
    if (r !== PREPARE.FRAME_TOO_LARGE) return r;
    // A packet larger than a slot (garbage claiming a long frame): skip what is held and find the next header.
    this.drop('corrupt');
    this.next = this.cursor.position;
    this.cursor.keepFrom = this.next;
    this.resyncing = true;
    return this.cursor.prepare();
  }

  get target(): Uint8Array {
    return this.cursor.target;
  }

  get targetOffset(): number {
    return this.cursor.targetOffset;
  }

  get targetSpace(): number {
    return this.cursor.targetSpace;
  }

  /** `n` bytes were read into `target` at monotonic time `at`: whole packets are stamped and placed. */
  push(n: number, at: number): void {
    this.cursor.commit(n);
    const cursor = this.cursor;
    for (;;) {
      const avail = cursor.position - this.next;
      if (this.packetBytes > 0) {
        if (avail < this.packetBytes) break;
        this.packet(this.next, this.next + this.packetBytes, at);
        this.next += this.packetBytes;
        continue;
      }
      if (avail < ADTS_HEADER_MIN) break;
      const start = this.next;
      if (cursor.byteAt(start) !== 0xff || (cursor.byteAt(start + 1) & 0xf6) !== 0xf0) {
        // Not at a header: look for the next sync word, counting one corrupt packet per lost stretch.
        if (!this.resyncing) this.drop('corrupt');
        this.resyncing = true;
        this.next++;
        continue;
      }
      const h = this.header;
      const scratch = this.headerScratch;
      for (let i = 0; i < ADTS_HEADER_MIN; i++) scratch[i] = cursor.byteAt(start + i);
      try {
        h.parse(scratch, 0, avail, start, false);
      } catch (err) {
        this.problem = err as FieldcamError;
        if (!this.resyncing) this.drop('corrupt');
        this.resyncing = true;
        this.next++;
        continue;
      }
      if (avail < h.frameLength) break;
      this.resyncing = false;
      this.next += h.frameLength;
      if (h.config !== this.aacConfig) {
        this.drop('format');
        this.problem = new FieldcamError(
          'AUDIO_FORMAT_MISMATCH',
          `the AAC stream is ${h.sampleRate} Hz, ${h.channels} channel(s), ADTS profile ${h.profile}; camera.audio declares AAC-LC ${this.o.sampleRate} Hz, ${this.o.channels} channel(s)`,
        );
        continue;
      }
      this.packet(start + h.headerBytes, start + h.frameLength, at);
    }
    cursor.keepFrom = this.next;
  }

  /**
   * The video queued a frame: audio waiting for the video to reach its time joins the queue, and a gap (the input
   * ended, or stalled for `stallMs` on a live input) is filled with silence up to the video's end.
   */
  videoQueued(): void {
    const end = this.o.queue.newestEnd;
    while (this.pendingCount > 0 && this.pending[this.pendingHead]!.pts < end) this.place(this.shiftPending());
    const stall = this.stallMs;
    if (this.done || (stall !== undefined && end - this.through > stall)) this.fill(end);
  }

  /**
   * The audio input ended (EOF, or the camera stopped): its held bytes are released; from now on gaps are silence.
   * Call `videoQueued()` after the video's own end so the last fragment gets its audio.
   */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.cursor.close();
    this.videoQueued();
  }

  /** The run is over: packets still waiting (after the video's end) are freed and counted `afterVideo`. */
  close(): void {
    this.end();
    while (this.pendingCount > 0) {
      this.o.pool.freeFrame(this.shiftPending());
      this.drop('afterVideo');
    }
  }

  /** The clock was corrected before anything was sent (FrameInput.rebase moved the queued packets). */
  rebase(deltaMs: number): void {
    this.origin += deltaMs;
    this.wallOffset += deltaMs;
    for (let i = 0; i < this.pendingCount; i++) {
      const f = this.pending[(this.pendingHead + i) % PENDING_MAX]!;
      f.pts += deltaMs;
      f.dts += deltaMs;
    }
  }

  /** One whole packet at logical [from, to), read at `at`: a frame record pointing into the slots, stamped, placed. */
  private packet(from: number, to: number, at: number): void {
    this.stats.packetsIn++;
    if (this.capture) {
      // Samples went missing (the input paused): the packet starts at its read time, never earlier than the clock.
      const late = this.wallOffset + at - this.packetSamplesMs() - this.through;
      if (late > REANCHOR_MS) this.origin += late;
    }
    const frame = this.o.pool.newFrame();
    if (!frame) {
      this.samples += this.packetSamples;
      this.drop('noRecord');
      return;
    }
    this.cursor.fillFrame(frame, from, to);
    this.stamp(frame);
    this.placeOrWait(frame);
  }

  private packetSamplesMs(): number {
    return (this.packetSamples * 1000) / this.o.sampleRate;
  }

  private stamp(frame: Frame): void {
    frame.track = 1;
    frame.key = true;
    frame.pts = frame.dts = this.through;
    this.samples += this.packetSamples;
    frame.duration = this.through - frame.pts;
  }

  /**
   * Silence packets from `through` until `to` (the video's end), whole packets that end within it (a fragment is far
   * longer than a packet, so none is left without audio), each a record pointing at the constant slot.
   */
  private fill(to: number): void {
    const slot = this.silence;
    if (!slot) return;
    const rate = this.o.sampleRate;
    while (this.origin + Math.round(((this.samples + this.packetSamples) * 1000) / rate) <= to) {
      const frame = this.o.pool.newFrame();
      if (!frame) return;
      frame.slotA = slot;
      frame.startA = 0;
      frame.endA = slot.bytes.length;
      slot.refs++;
      this.stamp(frame);
      this.stats.silencePackets++;
      this.place(frame);
    }
  }

  /** Audio ahead of the video waits (in order) until the video reaches its time; the rest is placed now. */
  private placeOrWait(frame: Frame): void {
    const end = this.o.queue.newestEnd;
    if (end >= 0 && frame.pts < end && this.pendingCount === 0) {
      this.place(frame);
      return;
    }
    if (this.pendingCount === PENDING_MAX) {
      // The video stopped coming: the oldest waiting packet gives way.
      this.o.pool.freeFrame(this.shiftPending());
      this.drop('noFragment');
    }
    this.pending[(this.pendingHead + this.pendingCount) % PENDING_MAX] = frame;
    this.pendingCount++;
  }

  private shiftPending(): Frame {
    const f = this.pending[this.pendingHead]!;
    this.pending[this.pendingHead] = null;
    this.pendingHead = (this.pendingHead + 1) % PENDING_MAX;
    this.pendingCount--;
    return f;
  }

  private place(frame: Frame): void {
    const reason = this.o.queue.insertAudio(frame);
    if (reason === '') this.stats.packetsQueued++;
    else this.drop(reason);
  }

  private drop(reason: AudioDropReason): void {
    this.stats.drops[reason]++;
  }
}
