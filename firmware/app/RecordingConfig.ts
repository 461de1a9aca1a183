import type { DeviceBoard } from './DeviceConfig.ts';

/**
 * Recording mode (docs/events.md): `continuous` uploads every fragment (the default); `event` keeps `preRollMs` of video
 * in the frame pool and uploads only around events (control `event`, or a line on the local `trigger`).
 */
export interface RecordingConfig {
  readonly mode: 'continuous' | 'event';
  readonly preRollMs: number;
  readonly postMs: number;
  /** A FIFO the device reads trigger lines from (created if missing); absent = events only from the control channel. */
  readonly trigger?: string;
}

export const RECORDING_KEYS = Object.freeze(['mode', 'preRollMs', 'postMs', 'trigger'] as const);

/**
 * The longest pre-roll the board's pool can keep: its buffer (pool.bufferSeconds) less two fragments — the one open
 * and the one the pre-roll starts in, which begins up to a fragment before it.
 */
export function maxPreRollMs(board: DeviceBoard): number {
  return Math.max(0, Math.floor(board.pool.bufferSeconds * 1000 - 2 * Math.max(board.stream.fragmentMs, 1000)));
}
