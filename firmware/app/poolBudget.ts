import { derivePoolSizing, withAudio } from '../core/config/derivePoolSizing.ts';
import { audioBudget } from '../core/audio/AudioInput.ts';
import { FieldcamError } from '../core/errors.ts';
import type { PoolSizing } from '../core/pool/FramePool.ts';
import { CODECS } from '../core/media/codecs.ts';
import type { DeviceConfig } from './DeviceConfig.ts';

/** Each camera's pool (bitrate × buffer seconds, FramePool sizing) and where it starts in the device's one arena. */
export interface PoolPlan {
  readonly pools: readonly { readonly sizing: PoolSizing; readonly offset: number; readonly bytes: number }[];
  readonly totalBytes: number;
  readonly budgetBytes: number;
}

/**
 * The device's memory budget for frame pools, checked at boot before anything is allocated: every camera's pool
 * from its own bitrate × seconds (derivePoolSizing), side by side in one arena, must fit the board's
 * `poolBudgetBytes` (absent: one camera's pool at the board's budget). Throws CONFIG_INVALID naming the numbers.
 */
export function planPools(board: DeviceConfig['board'], cameras: readonly DeviceConfig[]): PoolPlan {
  let offset = 0;
  const pools = cameras.map((c) => {
    const sizing = cameraPoolSizing(c);
    const bytes = sizing.slotCount * sizing.slotBytes;
    const pool = { sizing, offset, bytes };
    offset += bytes;
    return pool;
  });
  const one = derivePoolSizing(board.pool);
  const budgetBytes = board.poolBudgetBytes ?? one.slotCount * one.slotBytes;
  if (offset > budgetBytes) {
    const each = cameras.map((c, i) => `${c.cameraName ?? c.stream.name} ${pools[i]!.bytes}`).join(', ');
    throw new FieldcamError(
      'CONFIG_INVALID',
      `the frame pools of ${cameras.length} camera(s) need ${offset} bytes (${each}); board ${board.name} allows ${budgetBytes} (memory.poolBudgetBytes${board.poolBudgetBytes === undefined ? ", absent: one camera's pool" : ''}): fewer cameras, a lower bitrateKbps per camera, or a board with a larger budget`,
    );
  }
  return Object.freeze({ pools: Object.freeze(pools), totalBytes: offset, budgetBytes });
}

/**
 * One camera's pool (the one rule, for a device with one camera or several): bitrate × buffer seconds
 * (derivePoolSizing); MJPEG frame records need no NAL table (it matters on ESP32-class heaps); a camera with
 * audio adds its packets' records and bytes for the same seconds (withAudio), since they share the pool.
 */
export function cameraPoolSizing(c: DeviceConfig): PoolSizing {
  const sizing = { ...derivePoolSizing(c.board.pool), ...(CODECS[c.camera.codec].nalTables ? {} : { nalsPerFrame: 0 }) };
  const audio = c.camera.audio;
  return audio ? withAudio(sizing, c.board.pool, audioBudget(audio.codec, audio.sampleRate, audio.channels)) : sizing;
}
