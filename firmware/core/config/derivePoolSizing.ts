import { FieldcamError } from '../errors.ts';
import type { PoolSizing } from '../pool/FramePool.ts';

/** The `pool` section of a board manifest: what the camera produces and how long we must be able to hold it. */
export interface PoolBudget {
  /** Average encoded bitrate of the camera, kbit/s. */
  readonly bitrateKbps: number;
  /** Seconds of video held while the uplink is slow or down (kvs-reference.md §7.6 buffer_duration). */
  readonly bufferSeconds: number;
  /** Frames per second (frame records needed). */
  readonly fps: number;
  /** The largest access unit expected (an IDR at the highest quality); one slot holds one such frame. */
  readonly maxFrameBytes: number;
}

/**
 * Pool sizing from bitrate × buffer seconds (the KVS content-store formula, kvs-reference.md §7.3, with its
 * 1.2 defragmentation factor), rounded up to whole slots of `maxFrameBytes`. Two extra slots cover the
 * pair the reader is filling. Everything is allocated once from this; nothing grows later.
 */
export function derivePoolSizing(budget: PoolBudget): PoolSizing {
  for (const key of ['bitrateKbps', 'bufferSeconds', 'fps', 'maxFrameBytes'] as const) {
    const v = budget[key];
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      throw new FieldcamError('CONFIG_INVALID', `pool.${key} must be a positive number, got ${String(v)}`);
    }
  }
  const bytes = ((budget.bitrateKbps * 1000) / 8) * budget.bufferSeconds * 1.2;
  const slotBytes = Math.ceil(budget.maxFrameBytes);
  return {
    slotBytes,
    slotCount: Math.ceil(bytes / slotBytes) + 2,
    maxFrames: Math.ceil(budget.fps * budget.bufferSeconds * 1.2) + 2,
  };
}

/** What an audio track adds to a camera's pool (AudioInput). */
export interface AudioBudget {
  /** Packets per second: AAC rate / 1024, G.711 50. */
  readonly packetsPerSecond: number;
  /** Encoded bytes per second (AAC: up to 256 kbit/s assumed; G.711: rate × channels). */
  readonly bytesPerSecond: number;
}

/**
 * The pool of a camera with audio: its packets share the video's slots and frame records (one memory budget), so
 * the same buffer seconds of audio are added, and two slots for the pair the audio reader is filling, plus the
 * records of packets waiting for the video to reach their time (AudioInput PENDING_MAX).
 */
export function withAudio(sizing: PoolSizing, budget: PoolBudget, audio: AudioBudget): PoolSizing {
  const bytes = audio.bytesPerSecond * budget.bufferSeconds * 1.2;
  return {
    ...sizing,
    slotCount: sizing.slotCount + Math.ceil(bytes / sizing.slotBytes) + 2,
    maxFrames: sizing.maxFrames + Math.ceil(audio.packetsPerSecond * budget.bufferSeconds * 1.2) + AUDIO_PENDING_RECORDS,
  };
}

/** Records for audio packets that wait for the video (AudioInput's pending ring). */
export const AUDIO_PENDING_RECORDS = 128;
