import { AudioInput, type AudioInputStats } from '../core/audio/AudioInput.ts';
import { kvsMediaType } from '../core/media/kvsMediaType.ts';
import { cameraPoolSizing } from './poolBudget.ts';
import { FieldcamError, isFieldcamError } from '../core/errors.ts';
import { EventGate, type EventGateReport, type EventOutcome } from '../core/events/EventGate.ts';
import type { EventRequest } from '../core/events/EventRequest.ts';
import { EVENT_LIMITS } from '../core/events/eventLimits.ts';
import { METADATA_LIMITS } from '../core/mkv/mkvLimits.ts';
import type { IotCredentialsClient, IotCredentialsEvent } from '../core/iot/IotCredentialsClient.ts';
import { KvsControlClient, type KvsCredentials } from '../core/kvs/KvsControlClient.ts';
import { LatencyStats } from '../core/kvs/LatencyStats.ts';
import { PoolFragmentSource } from '../core/kvs/PoolFragmentSource.ts';
import { PutMediaSession, type SessionEvent, type SessionStats } from '../core/kvs/PutMediaSession.ts';
import { ServerClock } from '../core/net/ServerClock.ts';
import type { Frame } from '../core/media/Frame.ts';
import { FrameInput, READ_FROM } from '../core/media/FrameInput.ts';
import { PREPARE } from '../core/media/StreamCursor.ts';
import { FragmentMetadata } from '../core/mkv/FragmentMetadata.ts';
import { type DropReason, FramePool, type PoolSizing } from '../core/pool/FramePool.ts';
import { SOURCE_END, type FrameSource } from '../io/FrameSource.ts';
import type { TimerHandle } from '../io/Timer.ts';
import type { Board } from '../io/Board.ts';
import type { DeviceConfig, StaticCredentials } from './DeviceConfig.ts';
import { deviceUserAgent, iotCredentialsFor } from './iotCredentialsFor.ts';
import { CODECS } from '../core/media/codecs.ts';
import type { SpoolFragmentSource } from '../core/spool/SpoolFragmentSource.ts';
import { createCameraSpool, spoolReadBytes, spoolStatus, type SpoolStatus } from './cameraSpool.ts';

/** Reads per event-loop turn before yielding, so sockets and ACKs run between camera reads. */
const READS_PER_TURN = 8;
/** How often a full pool is looked at again when the camera can wait (a file): ACKs free slots meanwhile. */
const POOL_RETRY_MS = 20;
/**
 * A live camera that sends bytes but no frame for this long (device time, from its first byte) is not sending
 * the configured codec: the device exits with DEVICE_EXIT.CAMERA naming why. Two maximum-length GOPs (10 s each).
 */
export const CAMERA_NO_FRAME_MS = 20_000;
/** How often the camera's first frame is looked for (and its problem, for status and health, updated). */
const CAMERA_CHECK_MS = 1000;
/** The overflow scratch a live camera is read into while every slot is on the wire (StreamCursor). */
const OVERFLOW_BYTES = 4096;
/**
 * A live camera's un-sent backlog beyond this is dropped whole, oldest first (latency pressure, drop reason
 * `latency`): on a link that cannot carry the camera the newest video keeps arriving instead of a replay of
 * the past (docs/reliability.md). Half of KVS's default replay_duration (40 s, kvs-reference.md §1 item 17).
 */
const LIVE_MAX_LATENCY_MS = 20_000;
/**
 * A live camera's audio this far behind its video is a stalled input: the gap is filled with silence so the video
 * goes on (the uploader holds each video frame until the audio reached its time; KVS refuses a fragment without
 * audio, ACK 4011). Well above any encoder's audio delay, well below a fragment's maximum length.
 */
const AUDIO_STALL_MS = 2000;
/** An input that can wait (a file) has its audio read at most this far ahead of its video, and the video no further ahead of the audio. */
const AUDIO_LEAD_MS = 1000;

export interface UploaderStatus {
  readonly framesIn: number;
  readonly fragmentsIn: number;
  readonly poolSlotsInUse: number;
  readonly poolSlots: number;
  /** Frames dropped, all reasons: with the frames stored, every frame the camera fed. */
  readonly framesDropped: number;
  /** The same by reason (FramePool DROP_REASONS). */
  readonly drops: Readonly<Record<DropReason, number>>;
  /** While the camera has sent bytes but no frame: why (H264_NOT_ANNEXB, …). */
  readonly cameraError: string | undefined;
  readonly connected: boolean;
  /** Monotonic ms of the last PERSISTED acknowledgement, or -1. */
  readonly lastPersistedAt: number;
  readonly stats: SessionStats;
  /**
   * Capture → socket per frame, ms: from the camera read that brought a frame's first byte to its chunk handed to
   * the socket (first send, not replays), live cameras only. A window: the status line reads it and clears it.
   */
  readonly captureToSocket: LatencyStats;
  /** Recording mode "event": events, clips, fragments admitted, pre-roll fill, the open clip (docs/events.md); absent when continuous. */
  readonly events?: EventGateReport;
  /** The camera's audio track (camera.audio): packets read, queued, silence made, drops; absent without audio. */
  readonly audio?: Readonly<AudioInputStats> & { readonly droppedWithFragments: number; readonly error: string | undefined };
  /** The spool's figures (docs/spool.md); absent without a spool. */
  readonly spool?: SpoolStatus;
}

/**
 * What a camera of a device with several shares with the others, built once by runDevice: the IoT credentials client
 * (the device starts and closes it), its pool's range of the device's one arena, and its fair share of each turn.
 */
export interface SharedParts {
  readonly iot?: IotCredentialsClient;
  /** The TLS configuration of every KVS connection (the CA bundle, read once for the device). */
  readonly tls?: { readonly ca: string };
  /** This camera's pool (poolBudget.ts planPools): its sizing and where it starts in `arena` (absent: an ArrayBuffer of its own). */
  readonly pool?: { readonly sizing: PoolSizing; readonly arena?: ArrayBufferLike; readonly offset: number };
  /** This camera's spool read buffer (spoolReadBytes), beside the pools outside the JS heap; absent: its own. */
  readonly spoolBuffer?: Uint8Array;
  /**
   * Bytes read per event-loop turn before yielding, besides READS_PER_TURN: a camera that floods its pipe gets
   * this much per turn like every other camera, and the sockets and ACKs of all of them run in between.
   */
  readonly turnBytes?: number;
}

export interface UploaderResult {
  readonly status: UploaderStatus;
  readonly error?: FieldcamError;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The device pipeline, event-driven and platform-free: camera bytes read straight into the frame pool, split
 * and fragmented by FrameInput, uploaded by PutMediaSession. A live camera that outruns the uplink loses the
 * oldest un-sent fragment (the named overflow policy); a file waits for acknowledgements instead. `run()`
 * resolves when the camera ended (or `stop()` was called) and the last fragment is PERSISTED, or with the
 * error that ended the run.
 */
export class CameraUploader {
  readonly pool: FramePool;
  readonly input: FrameInput;
  /** The camera's audio (camera.audio), in the same pool and queue as the video; undefined: video only. */
  readonly audio: AudioInput | undefined;
  readonly session: PutMediaSession;
  /** The IoT credentials provider client when the configuration came from a device bundle. */
  readonly iot: IotCredentialsClient | undefined;
  /**
   * Tags for the next fragments: the configured persistent ones, plus one-shot tags from the control channel.
   * Absent when neither is configured (its 4 KiB encoder matters on ESP32-class heaps).
   */
  readonly metadata: FragmentMetadata | undefined;
  /** Recording mode "event": holds the pre-roll and admits clips around events; undefined = continuous. */
  readonly gate: EventGate | undefined;
  /** The crash-safe spool behind the pool (docs/spool.md); undefined when the configuration has none. */
  readonly spool: SpoolFragmentSource | undefined;
  private readonly spoolWindow = { at: 0, drained: 0 };
  private readonly board: Board;
  /** `tag` commands waiting to learn which fragment their tag went on. */
  private tagWaiters: ((timecode: number) => void)[] = [];
  private streaming = true;
  private readonly config: DeviceConfig;
  private source: FrameSource | undefined;
  private audioSource: FrameSource | undefined;
  private fragmentsIn = 0;
  private lastPersistedAt = -1;
  /** Capture → socket per frame since the last status line (fixed memory: 512 samples, the newest kept). */
  private readonly captureToSocket = new LatencyStats(512);
  private pumpTimer: TimerHandle | undefined;
  private cameraTimer: TimerHandle | undefined;
  /** Monotonic ms of the camera's first byte, -1 before. */
  private firstByteAt = -1;
  private ended = false;
  /** The credentials client is this camera's own (started and closed with it), not the device's shared one. */
  private readonly ownsIot: boolean;
  private readonly turnBytes: number;
  /** A recording rather than a camera: the configuration says so, or the camera port found a regular file. */
  private get recorded(): boolean {
    return this.config.camera.recorded === true || this.source?.recorded === true;
  }

  /** The camera's input ended (EOF), as opposed to a stop or a failure. */
  private cameraEnded = false;
  private finish: ((result: UploaderResult) => void) | undefined;

  constructor(
    board: Board,
    config: DeviceConfig,
    onEvent?: (event: SessionEvent) => void,
    onCredentials?: (event: IotCredentialsEvent) => void,
    shared?: SharedParts,
  ) {
    this.board = board;
    this.config = config;
    this.turnBytes = shared?.turnBytes ?? Infinity;
    const clock = new ServerClock(board.clock);
    let spoolBuffer = shared?.spoolBuffer;
    if (shared?.pool) {
      this.pool = new FramePool(shared.pool.sizing, shared.pool.arena, shared.pool.offset);
    } else {
      const sizing = cameraPoolSizing(config);
      // The spool's read buffer sits after the slots in the same memory (outside the JS heap where the board has it).
      const poolBytes = sizing.slotCount * sizing.slotBytes;
      const readBytes = spoolReadBytes(config);
      const arena = board.framePoolMemory?.(poolBytes + readBytes);
      this.pool = new FramePool(sizing, arena);
      if (arena && readBytes > 0) spoolBuffer = new Uint8Array(arena, poolBytes, readBytes);
    }
    const startTimecode = config.pin ? config.pin.startTimeMs : clock.now();
    // A live camera is stamped from the capture clock (when its bytes arrived); a file (or a pinned test run)
    // keeps the cadence it declares.
    const live = config.camera.live;
    const capture = live && !config.pin ? { capture: { monotonicAtStart: board.clock.monotonic() } } : {};
    this.input = new FrameInput({
      ...capture,
      maxFragmentMs: config.board.stream.maxFragmentMs,
      ...(live ? { overflowBytes: OVERFLOW_BYTES } : {}),
      codec: config.camera.codec,
      pool: this.pool,
      ...(config.camera.fps ? { fps: config.camera.fps } : {}),
      fragmentMs: config.board.stream.fragmentMs,
      startTimecode,
      ...(board.byteScan ? { byteScan: board.byteScan } : {}),
      ...(board.frameRelease ? { releasePort: board.frameRelease } : {}),
      ...(board.frameQueue ? { queuePort: board.frameQueue } : {}),
      strict: false, // a camera glitch drops frames and resyncs at the next key frame; it never stops the device
      onQueued: (frame) => {
        if (frame.fragmentStart) this.fragmentsIn++;
        this.audio?.videoQueued(); // audio up to this frame's end joins the queue before the uploader looks
        this.spool?.frameQueued(frame);
        this.session.framesQueued();
      },
    });
    const audioConfig = config.camera.audio;
    this.audio = audioConfig
      ? new AudioInput({
          codec: audioConfig.codec,
          pool: this.pool,
          queue: this.input.queue,
          sampleRate: audioConfig.sampleRate,
          channels: audioConfig.channels,
          startTimecode,
          ...capture,
          ...(live ? { stallMs: AUDIO_STALL_MS } : {}),
        })
      : undefined;
    const { endpoint, stream } = config;
    const tls = shared?.tls ?? { ca: board.readText(endpoint.caFile) };
    const userAgent = deviceUserAgent(board, config);
    this.ownsIot = shared?.iot === undefined;
    const iot =
      shared?.iot ??
      iotCredentialsFor(board, config, clock, (e) => {
        if (e.type === 'failed') this.end(new FieldcamError(e.code, e.message));
        onCredentials?.(e);
      });
    this.iot = iot;
    let credentials: () => KvsCredentials | undefined;
    if (iot) {
      // A refusal that retrying cannot fix ends the session at its next signature instead of buffering forever.
      credentials = () => {
        if (iot.error) throw iot.error;
        return iot.current();
      };
    } else {
      const c = config.credentials as StaticCredentials;
      const keys: KvsCredentials = {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      };
      credentials = () => keys;
    }
    const control = new KvsControlClient({
      sockets: board.sockets,
      timers: board.timers,
      hash: board.hash,
      clock,
      region: stream.region,
      target: { host: endpoint.host, port: endpoint.port, tls },
      credentials,
      userAgent,
      ...(config.board.net ? { deadlines: config.board.net } : {}),
    });
    const recording = config.recording;
    if (recording?.mode === 'event') {
      // A clip fragment carries FIELDCAM_CLIP, FIELDCAM_EVENTS and up to EVENT_LIMITS.tagsMax event tags, and a `tag`
      // command one more: the configured metadata must leave them room within KVS's items per fragment.
      const room = METADATA_LIMITS.maxItems - 2 - EVENT_LIMITS.tagsMax - 1;
      const configured = Object.keys(stream.metadata ?? {}).length;
      if (configured > room) {
        throw new FieldcamError(
          'CONFIG_INVALID',
          `config stream.metadata has ${configured} items; with recording.mode "event" at most ${room} (clip tags need the rest of the ${METADATA_LIMITS.maxItems} per fragment)`,
        );
      }
      this.gate = new EventGate({
        queue: this.input.queue,
        preRollMs: recording.preRollMs,
        postMs: recording.postMs,
        onAdmitted: () => {
          if (!this.ended) this.session.framesQueued();
        },
      });
      this.input.queue.setGate(this.gate);
    } else {
      this.gate = undefined;
    }
    const gate = this.gate;
    const metadata = stream.metadata || config.control ? new FragmentMetadata() : undefined;
    this.metadata = metadata;
    for (const name of Object.keys(stream.metadata ?? {})) metadata!.put(name, stream.metadata![name]!, true);
    // Spool records carry audio packets among the frames and an event clip's tags (docs/spool.md).
    this.spool = createCameraSpool(
      board,
      clock,
      config,
      this.input,
      this.pool,
      () => {
        if (!this.ended) this.session.framesQueued();
      },
      {
        ...(this.audio ? { audio: this.audio } : {}),
        ...(gate ? { fragmentTags: (start: Frame) => gate.tagsFor(start) } : {}),
        ...(spoolBuffer ? { readBuffer: spoolBuffer } : {}),
      },
    );
    const spool = this.spool;
    const mediaType = kvsMediaType(config.camera.codec, audioConfig ? [audioConfig.codec] : []);
    this.session = new PutMediaSession({
      source: this.spool ?? new PoolFragmentSource(this.input, this.audio),
      control,
      sockets: board.sockets,
      timers: board.timers,
      hash: board.hash,
      clock,
      region: stream.region,
      streamName: stream.name,
      credentials,
      dataTls: tls,
      ...(stream.createRetentionHours !== undefined ? { createStream: { retentionHours: stream.createRetentionHours, mediaType } } : {}),
      maxFragmentMs: config.board.stream.maxFragmentMs,
      endOfFragment: true,
      ...(config.camera.live ? { maxLatencyMs: LIVE_MAX_LATENCY_MS } : {}),
      ...(config.board.net ? { deadlines: config.board.net } : {}),
      ...(metadata ? { metadata } : {}),
      // A spooled fragment goes up with the tags its record kept (an earlier boot's clip too), a live one with its clip's.
      ...(spool ? { fragmentTags: (start) => spool.fragmentTags(start) } : gate ? { fragmentTags: (start) => gate.tagsFor(start) } : {}),
      onFragmentStart: (timecode) => {
        // Once per fragment; the one-shot tags just went out on this one.
        if (this.tagWaiters.length === 0) return;
        for (const w of this.tagWaiters.splice(0)) w(timecode);
      },
      ...(config.pin ? { segmentUid: hexBytes(config.pin.segmentUid) } : {}),
      ...(board.mkvBlock ? { blockPort: board.mkvBlock } : {}),
      ...(board.ackScan ? { ackScan: board.ackScan } : {}),
      random: board.random,
      userAgent,
      onFrameSent: (frame) => {
        // Once per frame: a replay after a reconnect sends it again, but it reached a socket the first time.
        if (frame.capturedAt < 0) return;
        this.captureToSocket.add(board.clock.monotonic() - frame.capturedAt);
        frame.capturedAt = -1;
      },
      onEvent: (e) => {
        if (e.type === 'ack' && e.ack.eventType === 'PERSISTED') this.lastPersistedAt = board.clock.monotonic();
        if (e.type === 'failed') this.end(new FieldcamError(e.code, e.message));
        onEvent?.(e);
      },
    });
  }

  /** Streaming on or off (control `start`/`stop`); stopping resolves once the last fragment is PERSISTED. */
  setStreaming(on: boolean): Promise<void> {
    if (on === this.streaming) return on ? Promise.resolve() : this.session.pause();
    this.streaming = on;
    this.spool?.setPaced(on); // a pause delivers everything held first
    if (on) {
      this.input.queue.resume();
      this.session.resume();
      return Promise.resolve();
    }
    // The camera keeps being read (a pipe must not fill up): its frames are dropped as `stopped`.
    this.input.queue.pause();
    return this.session.pause();
  }

  /** The camera's name in its device (CAMERA_NAME), or its stream's when it is the device's only camera. */
  get name(): string {
    return this.config.cameraName ?? this.config.stream.name;
  }

  get streamName(): string {
    return this.config.stream.name;
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  /** Fragment duration from the next fragment on (control `set fragmentMs`). */
  setFragmentMs(ms: number): void {
    this.input.queue.setMinFragmentMs(ms);
  }

  /**
   * A one-shot tag on the next fragment sent (throws METADATA_* when KVS would refuse it); resolves with that
   * fragment's timecode once it is on the wire. A replayed fragment does not carry it again.
   */
  tagNextFragment(name: string, value: string): Promise<number> {
    if (!this.metadata) throw new FieldcamError('CONTROL_UNSUPPORTED', 'fragment tags need the control channel configured');
    this.metadata.put(name, value, false);
    return new Promise((resolve) => this.tagWaiters.push(resolve));
  }

  /**
   * An event now (control `event`, a trigger line): its pre-roll and post window go up as one clip (docs/events.md).
   * Throws EVENT_MODE_OFF when the device records continuously, EVENT_NO_VIDEO before the first frame.
   */
  event(request: EventRequest): EventOutcome {
    if (!this.gate) throw new FieldcamError('EVENT_MODE_OFF', `${this.config.stream.name} records continuously (recording.mode)`);
    return this.gate.event(request);
  }

  /** Bytes held in the pool and not yet acknowledged (telemetry: walks the queue, never per frame). */
  bytesBehind(): number {
    const queue = this.input.queue;
    let bytes = 0;
    for (let i = 0; i < queue.length; i++) bytes += queue.at(i).size;
    return bytes;
  }

  status(): UploaderStatus {
    const drops = this.pool.drops;
    return {
      framesIn: this.input.stats.frames,
      fragmentsIn: this.fragmentsIn,
      poolSlotsInUse: this.pool.stats.slotsInUse,
      poolSlots: this.pool.sizing.slotCount,
      framesDropped: this.pool.dropped,
      drops,
      cameraError: this.input.problem()?.code,
      connected: this.session.connected,
      lastPersistedAt: this.lastPersistedAt,
      stats: this.session.stats,
      captureToSocket: this.captureToSocket,
      ...(this.gate ? { events: this.gate.report() } : {}),
      ...(this.audio ? { audio: { ...this.audio.stats, droppedWithFragments: this.pool.audioDropped, error: this.audio.problem?.code } } : {}),
      ...(this.spool ? { spool: spoolStatus(this.spool, this.spoolWindow, this.board.clock.monotonic()) } : {}),
    };
  }

  run(): Promise<UploaderResult> {
    if (this.finish) throw new RangeError('run() called twice');
    const done = new Promise<UploaderResult>((resolve) => (this.finish = resolve));
    try {
      this.source = this.board.camera(this.config.camera.fd)({ onReadable: () => this.schedule(0) });
      const audio = this.config.camera.audio;
      if (audio) this.audioSource = this.board.camera(audio.fd)({ onReadable: () => this.schedule(0) });
      if (this.recorded) {
        this.input.keepCadence();
        this.audio?.keepCadence();
      }
    } catch (err) {
      this.finish!({ status: this.status(), error: isFieldcamError(err) ? err : new FieldcamError('INPUT_READ_FAILED', String(err)) });
      return done;
    }
    if (this.ownsIot) this.iot?.start();
    this.spool?.start();
    this.spoolWindow.at = this.board.clock.monotonic();
    this.session.start();
    if (this.config.camera.live) this.cameraTimer = this.board.timers.set(CAMERA_CHECK_MS, () => this.checkCamera());
    this.pump();
    return done;
  }

  /** Stops reading the camera, sends what is buffered and waits for the last PERSISTED. */
  stop(): void {
    this.end(undefined);
  }

  /** Ends the run with `error` after sending what is buffered (the device's shared credentials were refused for good). */
  fail(error: FieldcamError): void {
    this.end(error);
  }

  /**
   * Until the first frame: a camera that sends bytes that yield no frame (random bytes, an MP4 file) is reported
   * in status (`cameraError`, health red), and after CAMERA_NO_FRAME_MS the run ends with that code (exit 10).
   */
  private checkCamera(): void {
    this.cameraTimer = undefined;
    if (this.ended || this.input.stats.accessUnits > 0) return;
    if (this.firstByteAt >= 0 && this.board.clock.monotonic() - this.firstByteAt >= CAMERA_NO_FRAME_MS) {
      this.end(this.noFrames());
      return;
    }
    this.cameraTimer = this.board.timers.set(CAMERA_CHECK_MS, () => this.checkCamera());
  }

  /** The error of a camera that delivered no frame at all. */
  private noFrames(): FieldcamError {
    const problem = this.input.problem();
    const bytes = this.input.bytesIn;
    if (bytes === 0) return new FieldcamError('INPUT_EMPTY', `the camera (fd ${this.config.camera.fd}) sent no bytes`);
    const what = `the camera sent ${bytes} bytes and no ${CODECS[this.config.camera.codec].frameNoun}`;
    return problem ? new FieldcamError(problem.code, `${what}: ${problem.message}`) : new FieldcamError('INPUT_NO_FRAMES', what);
  }

  private schedule(ms: number): void {
    if (this.pumpTimer !== undefined || this.ended) return;
    this.pumpTimer = this.board.timers.set(ms, () => {
      this.pumpTimer = undefined;
      this.pump();
    });
  }

  private pump(): void {
    const input = this.input;
    try {
      for (let reads = 0, bytes = 0; reads < READS_PER_TURN && bytes < this.turnBytes && !this.ended; reads++) {
        if (this.audio && this.pumpAudio()) {
          // An input that can wait: its video waits for its audio (which waits for the pool or for bytes).
          this.schedule(POOL_RETRY_MS);
          return;
        }
        // prepare, read and push in one call (FrameInput.readFrom); the results below are what it could not do.
        const source = this.source!;
        const n = input.readFrom(source, this.turnBytes - bytes);
        if (n === READ_FROM.FRAME_TOO_LARGE) {
          throw new FieldcamError('POOL_FRAME_TOO_LARGE', `a frame is larger than a pool slot of board ${this.config.board.name} (pool.maxFrameBytes)`);
        }
        if (n === READ_FROM.POOL_EXHAUSTED) {
          // A camera cannot wait: drop the oldest un-sent fragment whole; when everything held is already on the
          // wire, drop what arrives (counted) and keep reading, so the pipe never holds frames nobody counts.
          // A file can wait for acknowledgements.
          if (this.config.camera.live && (input.queue.reclaim() || input.overflow())) continue;
          this.schedule(POOL_RETRY_MS);
          return;
        }
        if (n === 0) return; // onReadable schedules the next pump
        if (n === SOURCE_END) {
          this.cameraEnded = true;
          this.end(undefined);
          return;
        }
        if (this.firstByteAt < 0) this.firstByteAt = source.lastReadAt;
        bytes += n;
      }
      if (!this.ended) this.schedule(0);
    } catch (err) {
      this.end(isFieldcamError(err) ? err : new FieldcamError('INPUT_READ_FAILED', String(err)));
    }
  }

  /**
   * Reads the audio input while it has bytes (an input that can wait: while it is not ahead of its video). Returns
   * true when the video must wait: such an input's video is more than AUDIO_LEAD_MS ahead of audio not readable now.
   */
  private pumpAudio(): boolean {
    const audio = this.audio!;
    const source = this.audioSource;
    // A recording, or any input that can wait (not live): audio and video are read in step.
    const inStep = this.recorded || !this.config.camera.live;
    if (!source || audio.ended) return false;
    for (let reads = 0; reads < READS_PER_TURN; reads++) {
      if (inStep && audio.through > this.input.queue.newestEnd + AUDIO_LEAD_MS) return false;
      let ready = audio.prepare();
      // A live input cannot wait: the oldest un-sent fragment makes room, as for the video.
      if (ready === PREPARE.POOL_EXHAUSTED && !inStep && this.input.queue.reclaim()) ready = audio.prepare();
      if (ready !== PREPARE.OK) break;
      const n = source.read(audio.target, audio.targetOffset, audio.targetSpace);
      if (n === 0) break;
      if (n === SOURCE_END) {
        audio.end();
        source.close();
        this.session.framesQueued();
        return false;
      }
      audio.push(n, source.lastReadAt);
    }
    return inStep && this.input.queue.newestEnd > audio.through + AUDIO_LEAD_MS;
  }

  /** The camera ended, stop() was called, or something failed: flush, wait for the last ACK, settle once. */
  private end(error: FieldcamError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (this.pumpTimer !== undefined) this.board.timers.clear(this.pumpTimer);
    this.pumpTimer = undefined;
    if (this.cameraTimer !== undefined) this.board.timers.clear(this.cameraTimer);
    this.cameraTimer = undefined;
    this.source?.close();
    if (this.audio && !this.audio.ended) this.audioSource?.close();
    let failure = error;
    const live = this.config.camera.live;
    try {
      // A live camera's last access unit is incomplete unless the next one began: dropped as `truncated`. A
      // recording (a regular file, or a replay the configuration names) ends on a whole one.
      this.input.end(!live || this.recorded);
    } catch (err) {
      failure ??= isFieldcamError(err) ? err : new FieldcamError('INPUT_READ_FAILED', String(err));
    }
    // The audio after the video's end is left out; a gap before it (the audio ended first) becomes silence.
    this.audio?.close();
    // A live camera that ended having delivered nothing usable is a camera problem, not a clean run.
    if (live && this.cameraEnded && this.input.stats.accessUnits === 0) failure ??= this.noFrames();
    this.spool?.setPaced(false); // the end delivers everything held, spooled fragments too, at link speed
    this.session.framesQueued();
    // The credentials client stays up until the session settles: draining the last fragments needs it.
    this.session.stop().then(
      () => {
        if (this.ownsIot) this.iot?.close();
        const status = this.status();
        this.spool?.close();
        this.finish!({ status, ...(failure ? { error: failure } : {}) });
      },
      (err: unknown) => {
        if (this.ownsIot) this.iot?.close();
        this.spool?.keepPool(); // what the pool held unacknowledged goes to storage for the next boot
        const status = this.status();
        this.spool?.close();
        this.finish!({ status, error: failure ?? (isFieldcamError(err) ? err : new FieldcamError('UPLOAD_NETWORK', String(err))) });
      },
    );
  }
}
