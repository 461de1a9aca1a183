import { closeSync, openSync, readSync } from 'node:fs';
import { nodeHash } from '../../firmware/boards/node/nodeHash.ts';
import { nodeSocket } from '../../firmware/boards/node/nodeSocket.ts';
import { nodeClock, nodeTimers } from '../../firmware/boards/node/nodeTime.ts';
import { derivePoolSizing } from '../../firmware/core/config/derivePoolSizing.ts';
import { FieldcamError } from '../shared/hostErrors.ts';
import { KvsControlClient, type KvsCredentials } from '../../firmware/core/kvs/KvsControlClient.ts';
import { PoolFragmentSource } from '../../firmware/core/kvs/PoolFragmentSource.ts';
import { PutMediaSession, type SessionEvent, type SessionStats } from '../../firmware/core/kvs/PutMediaSession.ts';
import { ServerClock } from '../../firmware/core/net/ServerClock.ts';
import { FrameInput, type Codec, type FrameRate } from '../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import type { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';
import type { BoardManifest } from '../shared/loadBoardManifest.ts';
import { readIntoSlot } from './readIntoSlot.ts';
import type { AwsTarget } from './resolveAwsTarget.ts';
import { AudioInput } from '../../firmware/core/audio/AudioInput.ts';
import { AdtsHeader } from '../../firmware/core/audio/AdtsHeader.ts';
import type { AudioCodecId } from '../../firmware/core/audio/audioCodecs.ts';
import { withAudio } from '../../firmware/core/config/derivePoolSizing.ts';
import { audioBudget } from '../../firmware/core/audio/AudioInput.ts';
import { kvsMediaType } from '../../firmware/core/media/kvsMediaType.ts';

export interface StreamFileOptions {
  readonly video: string;
  readonly codec: Codec;
  readonly streamName: string;
  readonly board: BoardManifest;
  readonly aws: AwsTarget;
  /** Current credentials; called before each signature, so a refreshed set is used at once. */
  readonly credentials: () => KvsCredentials | undefined;
  readonly realtime: boolean;
  readonly fps?: FrameRate;
  readonly metadata?: FragmentMetadata;
  readonly createRetentionHours?: number;
  readonly endOfFragment?: boolean;
  readonly stalenessMs?: number;
  readonly onEvent?: (event: SessionEvent) => void;
  readonly onProgress?: (stats: SessionStats, framesIn: number) => void;
  /** Play the file again and again (a camera that never stops) until `shouldStop` says so. */
  readonly loop?: boolean;
  /** Strict (default): corrupt input is an error. Lenient (simulated devices): drop and resync, as a board does. */
  readonly strict?: boolean;
  readonly shouldStop?: () => boolean;
  /** Live status for dashboards: called after each read. */
  readonly onStatus?: (status: StreamStatus) => void;
  /**
   * An audio file for a second track (AAC in ADTS, raw G.711 8 kHz mono), from the video's start: read into the same
   * pool beside the video and interleaved by timecode as on a device (AudioInput); a shorter file ends in silence.
   */
  readonly audio?: { readonly path: string; readonly codec: AudioCodecId };
}

export interface StreamStatus {
  readonly stats: SessionStats;
  readonly framesIn: number;
  readonly fragmentsIn: number;
  readonly poolSlotsInUse: number;
  readonly poolSlots: number;
  readonly connected: boolean;
  /** Monotonic ms of the last PERSISTED acknowledgement, or -1. */
  readonly lastPersistedAt: number;
}

export interface StreamFileResult {
  readonly stats: SessionStats;
  readonly framesIn: number;
  readonly fragmentsIn: number;
  /** Audio packets read from the `audio` file and silence packets made (absent without audio). */
  readonly audio?: { readonly packetsIn: number; readonly packetsQueued: number; readonly silencePackets: number };
  readonly error?: FieldcamError;
}

const REALTIME_READ = 16 * 1024;

/** Reads at `position`, starting over at the beginning at the end of the file (a camera that loops). */
function readLooping(fd: number, target: Uint8Array, offset: number, length: number, position: { at: number }): number {
  let n = readSync(fd, target, offset, length, position.at);
  if (n === 0 && position.at > 0) n = readSync(fd, target, offset, length, (position.at = 0));
  position.at += n;
  return n;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The audio is read at most this far ahead of the video, and the video no further ahead of the audio. */
const AUDIO_LEAD_MS = 1000;

/** An audio file's track format: AAC's from its first ADTS header, G.711 8 kHz mono (what `ffmpeg -f alaw` writes). */
function audioFormat(fd: number, path: string, codec: AudioCodecId): { sampleRate: number; channels: number } {
  if (codec !== 'aac') return { sampleRate: 8000, channels: 1 };
  const head = new Uint8Array(9);
  const n = readSync(fd, head, 0, head.length, 0);
  const h = new AdtsHeader();
  try {
    h.parse(head, 0, n, 0, false);
  } catch (err) {
    throw new FieldcamError('AUDIO_ADTS_INVALID', `${path}: ${(err as Error).message}`);
  }
  return { sampleRate: h.sampleRate, channels: h.channels };
}
/**
 * `fieldcam stream`: the device pipeline on Node — the file read straight into the board's frame pool,
 * split and fragmented by FrameInput, uploaded by PutMediaSession — with static credentials.
 * As fast as possible, a full pool pauses reading (no loss); in real time the file behaves like a camera:
 * frames are read at their timestamps and a full pool drops the oldest un-sent fragment.
 */
export async function streamFile(o: StreamFileOptions): Promise<StreamFileResult> {
  let fd: number;
  try {
    fd = o.video === '-' ? 0 : openSync(o.video, 'r');
  } catch (err) {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `cannot open ${o.video}: ${(err as Error).message}`);
  }
  const clock = new ServerClock(nodeClock);
  if (o.audio && o.loop) throw new FieldcamError('CLI_USAGE', 'an --audio track cannot loop with the video');
  let audioFd: number | undefined;
  let format: { sampleRate: number; channels: number } | undefined;
  if (o.audio) {
    try {
      audioFd = openSync(o.audio.path, 'r');
    } catch (err) {
      if (o.video !== '-') closeSync(fd);
      throw new FieldcamError('CLI_INPUT_NOT_FOUND', `cannot open ${o.audio.path}: ${(err as Error).message}`);
    }
    format = audioFormat(audioFd, o.audio.path, o.audio.codec);
  }
  const sizing = derivePoolSizing(o.board.pool);
  const pool = new FramePool(o.audio && format ? withAudio(sizing, o.board.pool, audioBudget(o.audio.codec, format.sampleRate, format.channels)) : sizing);
  let session: PutMediaSession | undefined;
  let fragmentsIn = 0;
  const t0 = clock.now();
  const input = new FrameInput({
    codec: o.codec,
    pool,
    ...(o.fps ? { fps: o.fps } : {}),
    fragmentMs: o.board.stream.fragmentMs,
    startTimecode: t0,
    strict: o.strict ?? true,
    onQueued: (frame) => {
      if (frame.fragmentStart) fragmentsIn++;
      audio?.videoQueued();
      session?.framesQueued();
    },
  });
  const audio =
    o.audio && format
      ? new AudioInput({ codec: o.audio.codec, pool, queue: input.queue, sampleRate: format.sampleRate, channels: format.channels, startTimecode: t0 })
      : undefined;
  let audioAt = 0;
  /** Reads the audio file up to AUDIO_LEAD_MS past the video; true when the video is that far ahead and must wait. */
  const readAudio = (): boolean => {
    if (!audio || audio.ended) return false;
    while (audio.through <= input.queue.newestEnd + AUDIO_LEAD_MS) {
      if (audio.prepare() !== PREPARE.OK) break;
      const n = readSync(audioFd!, audio.target, audio.targetOffset, audio.targetSpace, audioAt);
      if (n === 0) {
        audio.end();
        session?.framesQueued();
        return false;
      }
      audioAt += n;
      audio.push(n, 0);
    }
    return input.queue.newestEnd > audio.through + AUDIO_LEAD_MS;
  };
  const credentials = o.credentials;
  const tls = o.aws.ca ? { ca: o.aws.ca } : {};
  const control = new KvsControlClient({
    sockets: nodeSocket,
    timers: nodeTimers,
    hash: nodeHash,
    clock,
    region: o.aws.region,
    target: o.aws.control,
    credentials,
    userAgent: 'fieldcam/0.1 (node)',
  });
  let lastPersistedAt = -1;
  session = new PutMediaSession({
    source: new PoolFragmentSource(input, audio),
    control,
    sockets: nodeSocket,
    timers: nodeTimers,
    hash: nodeHash,
    clock,
    region: o.aws.region,
    streamName: o.streamName,
    credentials,
    ...(o.aws.control.tls ? { dataTls: tls } : {}),
    ...(o.createRetentionHours !== undefined
      ? { createStream: { retentionHours: o.createRetentionHours, mediaType: kvsMediaType(o.codec, o.audio ? [o.audio.codec] : []) } }
      : {}),
    maxFragmentMs: o.board.stream.maxFragmentMs,
    endOfFragment: o.endOfFragment ?? true,
    ...(o.metadata ? { metadata: o.metadata } : {}),
    ...(o.stalenessMs ? { stalenessMs: o.stalenessMs } : {}),
    random: Math.random,
    userAgent: 'fieldcam/0.1 (node)',
    onEvent: (e) => {
      if (e.type === 'ack' && e.ack.eventType === 'PERSISTED') lastPersistedAt = nodeClock.monotonic();
      o.onEvent?.(e);
    },
  });
  const status = (): StreamStatus => ({
    stats: session!.stats,
    framesIn: input.stats.frames,
    fragmentsIn,
    poolSlotsInUse: pool.stats.slotsInUse,
    poolSlots: pool.sizing.slotCount,
    connected: session!.connected,
    lastPersistedAt,
  });
  session.start();
  const started = nodeClock.monotonic();
  const position = { at: 0 };
  let failed: FieldcamError | undefined;
  try {
    for (;;) {
      if (readAudio()) {
        await pause(20); // the video waits for its audio (the pool is full of it until ACKs free slots)
        continue;
      }
      const ready = input.prepare();
      if (ready === PREPARE.FRAME_TOO_LARGE) {
        throw new FieldcamError('POOL_FRAME_TOO_LARGE', `a frame is larger than a pool slot of board ${o.board.name}`);
      }
      if (ready === PREPARE.POOL_EXHAUSTED) {
        // A camera cannot wait: drop the oldest un-sent fragment. A file can: wait for acknowledgements.
        if (!(o.realtime && input.queue.reclaim())) await pause(20);
        o.onProgress?.(session.stats, input.stats.frames);
        continue;
      }
      const want = o.realtime ? Math.min(REALTIME_READ, input.targetSpace) : input.targetSpace;
      if (o.shouldStop?.()) break;
      const n =
        o.loop && o.video !== '-'
          ? readLooping(fd, input.target, input.targetOffset, want, position)
          : readIntoSlot(fd, input.target, input.targetOffset, want, o.video);
      if (n === 0) break;
      input.push(n);
      o.onProgress?.(session.stats, input.stats.frames);
      o.onStatus?.(status());
      if (o.realtime && input.queue.length > 0) {
        const newest = input.queue.at(input.queue.length - 1);
        const due = newest.pts - t0 - (nodeClock.monotonic() - started);
        if (due > 0) await pause(due);
      } else {
        await pause(0); // let the socket and ACKs run
      }
    }
    input.end();
    audio?.close();
    session.framesQueued();
  } catch (err) {
    failed = err instanceof FieldcamError ? err : new FieldcamError('INPUT_READ_FAILED', String(err));
  } finally {
    if (o.video !== '-') closeSync(fd);
    if (audioFd !== undefined) closeSync(audioFd);
  }
  let error = failed;
  try {
    await session.stop();
  } catch (err) {
    error ??= err instanceof FieldcamError ? err : new FieldcamError('UPLOAD_NETWORK', String(err));
  }
  const a = audio?.stats;
  return {
    stats: session.stats,
    framesIn: input.stats.frames,
    fragmentsIn,
    ...(a ? { audio: { packetsIn: a.packetsIn, packetsQueued: a.packetsQueued, silencePackets: a.silencePackets } } : {}),
    ...(error ? { error } : {}),
  };
}
