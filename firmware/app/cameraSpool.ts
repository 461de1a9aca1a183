import { audioBudget, type AudioInput } from '../core/audio/AudioInput.ts';
import { deriveSpoolSizing } from '../core/config/spoolBudget.ts';
import type { Frame } from '../core/media/Frame.ts';
import { MAX_NALS_PER_FRAME } from '../core/media/Frame.ts';
import type { FrameInput } from '../core/media/FrameInput.ts';
import type { FramePool } from '../core/pool/FramePool.ts';
import { SpoolFragmentSource, type SpoolStats } from '../core/spool/SpoolFragmentSource.ts';
import { SpoolLog } from '../core/spool/SpoolLog.ts';
import type { Board } from '../io/Board.ts';
import type { ClockPort } from '../io/Clock.ts';
import type { DeviceConfig } from './DeviceConfig.ts';

/**
 * The bytes of a camera's spool read buffer (the largest frame: the pool's slot), 0 when it has no spool. The caller
 * allocates them with the frame pool, outside the JS heap where the board has such memory (docs/spool.md).
 */
export function spoolReadBytes(config: DeviceConfig): number {
  const budget = config.board.spool;
  if (!budget || budget.maxBytes === 0 || config.spoolDir === undefined) return 0;
  return Math.ceil(config.board.pool.maxFrameBytes);
}

/** What a camera's spool takes from its uploader besides the pool. */
export interface CameraSpoolParts {
  /** The camera's audio (its packets are spooled with the video). */
  readonly audio?: AudioInput;
  /** A live fragment's tags (event recording: EventGate.tagsFor), kept in its record. */
  readonly fragmentTags?: (start: Frame) => Uint8Array | undefined;
  /** spoolReadBytes(config) of memory for the read buffer (outside the JS heap); absent: in the JS heap. */
  readonly readBuffer?: Uint8Array;
}

/**
 * A camera's spool (docs/spool.md), or undefined when its configuration has none: a folder (`config.spoolDir`; one
 * per camera when a device has several) and a budget (`board.spool` with maxBytes > 0). In event recording it keeps
 * the clip fragments the pool gives up, with their clip tags (pre-roll no event admitted is never spooled); with
 * audio it keeps the packets among the frames. Everything is allocated here, at boot. `clock`: the uploader's
 * (server-corrected) clock, the one producer timestamps come from.
 */
export function createCameraSpool(
  board: Board,
  clock: ClockPort,
  config: DeviceConfig,
  input: FrameInput,
  pool: FramePool,
  onReady: () => void,
  parts: CameraSpoolParts = {},
): SpoolFragmentSource | undefined {
  const budget = config.board.spool;
  const dir = config.spoolDir;
  const readBytes = spoolReadBytes(config);
  if (!budget || readBytes === 0 || dir === undefined) return undefined;
  const sizing = deriveSpoolSizing(budget, config.board.pool, config.board.stream);
  const readBuffer = parts.readBuffer ?? new Uint8Array(readBytes);
  const log = new SpoolLog({
    storage: board.storage,
    dir,
    segmentBytes: sizing.segmentBytes,
    maxRecords: sizing.maxRecords,
    maxRecordBytes: budget.maxRecordBytes,
    scratch: readBuffer, // open()'s checksum pass runs before anything is read back
  });
  // Audio packets of a full-length fragment join its frames in the record.
  const audio = config.camera.audio;
  const packets = audio
    ? Math.ceil((audioBudget(audio.codec, audio.sampleRate, audio.channels).packetsPerSecond * config.board.stream.maxFragmentMs) / 1000) + 2
    : 0;
  return new SpoolFragmentSource({
    input,
    pool,
    log,
    storage: board.storage,
    dir,
    clock,
    timers: board.timers,
    maxBytes: budget.maxBytes,
    minFreeBytes: budget.minFreeBytes,
    drainBytesPerSecond: budget.drainKbps * 125,
    maxFramesPerFragment: Math.min(sizing.maxFramesPerFragment + packets, pool.sizing.maxFrames),
    maxVideoFramesPerFragment: sizing.maxFramesPerFragment, // audio packets have no NAL table
    nalsPerFrame: pool.sizing.nalsPerFrame ?? MAX_NALS_PER_FRAME,
    maxFrameBytes: readBytes,
    readBuffer,
    ...(parts.audio ? { audio: parts.audio } : {}),
    ...(parts.fragmentTags ? { fragmentTags: parts.fragmentTags } : {}),
    onReady,
  });
}

/** The spool's figures for status lines and telemetry (one object per status line, not per frame). */
export interface SpoolStatus {
  readonly spoolBytes: number;
  readonly spoolFragments: number;
  /** Age of the oldest spooled fragment, ms; -1 when empty. */
  readonly spoolOldestAgeMs: number;
  /** Spooled bytes handed to the uploader per second since the previous status line. */
  readonly spoolDrainBytesPerSecond: number;
  /** Bytes written to storage per hour since boot (flash wear). */
  readonly spoolWrittenBytesPerHour: number;
  readonly spoolFragmentsSpooled: number;
  readonly spoolFragmentsDropped: number;
  readonly spoolFragmentsRefused: number;
  readonly spoolError?: string;
}

/** Reads the spool's figures; the drain rate is over the window since the previous call (`window` is updated). */
export function spoolStatus(spool: SpoolFragmentSource, window: { at: number; drained: number }, now: number): SpoolStatus {
  const s: SpoolStats = spool.stats;
  const elapsed = now - window.at;
  const rate = elapsed > 0 ? Math.round(((s.bytesDrained - window.drained) * 1000) / elapsed) : 0;
  window.at = now;
  window.drained = s.bytesDrained;
  // At least a minute, so the first status lines do not extrapolate one fragment to an hour.
  const hours = Math.max(spool.uptimeMs(), 60_000) / 3_600_000;
  return {
    spoolBytes: s.bytes,
    spoolFragments: s.fragments,
    spoolOldestAgeMs: Math.round(spool.oldestAgeMs()),
    spoolDrainBytesPerSecond: rate,
    spoolWrittenBytesPerHour: Math.round(s.bytesWritten / hours),
    spoolFragmentsSpooled: s.fragmentsSpooled,
    spoolFragmentsDropped: s.fragmentsDropped,
    spoolFragmentsRefused: s.fragmentsRefused,
    ...(s.error !== undefined ? { spoolError: s.error } : {}),
  };
}
