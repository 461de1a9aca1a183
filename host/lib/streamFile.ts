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
import { CODECS } from '../../firmware/core/media/codecs.ts';

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
  const pool = new FramePool(derivePoolSizing(o.board.pool));
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
      session?.framesQueued();
    },
  });
  const credentials = o.credentials;
  const tls = o.aws.ca ? { ca: o.aws.ca } : {};
  const control = new KvsControlClient({
    sockets: nodeSocket, timers: nodeTimers, hash: nodeHash, clock, region: o.aws.region,
    target: o.aws.control, credentials, userAgent: 'fieldcam/0.1 (node)',
  });
  let lastPersistedAt = -1;
  session = new PutMediaSession({
    source: new PoolFragmentSource(input), control, sockets: nodeSocket, timers: nodeTimers, hash: nodeHash, clock,
    region: o.aws.region, streamName: o.streamName, credentials,
    ...(o.aws.control.tls ? { dataTls: tls } : {}),
    ...(o.createRetentionHours !== undefined ? { createStream: { retentionHours: o.createRetentionHours, mediaType: CODECS[o.codec].kvsMediaType } } : {}),
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
    stats: session!.stats, framesIn: input.stats.frames, fragmentsIn, poolSlotsInUse: pool.stats.slotsInUse,
    poolSlots: pool.sizing.slotCount, connected: session!.connected, lastPersistedAt,
  });
  session.start();
  const started = nodeClock.monotonic();
  const position = { at: 0 };
  let failed: FieldcamError | undefined;
  try {
    for (;;) {
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
      const n = o.loop && o.video !== '-'
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
    session.framesQueued();
  } catch (err) {
    failed = err instanceof FieldcamError ? err : new FieldcamError('INPUT_READ_FAILED', String(err));
  } finally {
    if (o.video !== '-') closeSync(fd);
  }
  let error = failed;
  try {
    await session.stop();
  } catch (err) {
    error ??= err instanceof FieldcamError ? err : new FieldcamError('UPLOAD_NETWORK', String(err));
  }
  return { stats: session.stats, framesIn: input.stats.frames, fragmentsIn, ...(error ? { error } : {}) };
}
