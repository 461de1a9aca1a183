import { FieldcamError } from '../errors.ts';
import type { PoolBudget } from './derivePoolSizing.ts';

/**
 * The `spool` section of a board manifest (or of a JSON configuration's `board`): how much of the board's storage
 * the spool may take, and how fast it drains (issue 15, docs/spool.md). maxBytes 0 = no spool.
 */
export interface SpoolBudget {
  /** Payload bytes the spool may hold; past it the oldest whole fragments are dropped (`spoolFull`). */
  readonly maxBytes: number;
  /** Bytes to leave free on the spool's file system (other files, the OS); below it the same. */
  readonly minFreeBytes: number;
  /** Spooled video sent per second at most while a backlog drains, kbit/s (above the camera's bitrate). */
  readonly drainKbps: number;
  /** Largest fragment the spool keeps (its read buffer, allocated at boot); a larger one is dropped as before. */
  readonly maxRecordBytes: number;
}

export const SPOOL_KEYS = Object.freeze(['maxBytes', 'minFreeBytes', 'drainKbps', 'maxRecordBytes']);

/** What the device allocates for a spool, derived from its budget, the pool and the fragment timing. */
export interface SpoolSizing {
  /**
   * Records the index holds: twice the fragments of `maxBytes` at the camera's bitrate (small fragments happen), at
   * least 64 (41 bytes each): a camera well below its budgeted bitrate fills a small spool with many small fragments.
   */
  readonly maxRecords: number;
  /** Frames one fragment may hold (a full-length fragment at the camera's frame rate). */
  readonly maxFramesPerFragment: number;
  /** Segment files: an eighth of the cap, 64 KiB to 8 MiB (released space comes back a segment at a time). */
  readonly segmentBytes: number;
}

/** Reads a `spool` section; every problem names `field`. Throws FieldcamError CONFIG_INVALID. */
export function parseSpoolBudget(o: Readonly<Record<string, unknown>>, field: string): SpoolBudget {
  for (const key of Object.keys(o)) {
    if (!SPOOL_KEYS.includes(key)) throw new FieldcamError('CONFIG_INVALID', `${field}: unknown key ${key} (allowed: ${SPOOL_KEYS.join(', ')})`);
  }
  const whole = (key: string, min: number, max: number): number => {
    const v = o[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    throw new FieldcamError('CONFIG_INVALID', `${field}.${key} must be a whole number in [${min}, ${max}]`);
  };
  return Object.freeze({
    maxBytes: whole('maxBytes', 0, 2 ** 40),
    minFreeBytes: whole('minFreeBytes', 0, 2 ** 40),
    drainKbps: whole('drainKbps', 1, 1_000_000),
    maxRecordBytes: whole('maxRecordBytes', 4096, 64 * 1024 * 1024),
  });
}

export function deriveSpoolSizing(budget: SpoolBudget, pool: PoolBudget, stream: { readonly fragmentMs: number; readonly maxFragmentMs: number }): SpoolSizing {
  const fragmentBytes = (pool.bitrateKbps * 125 * Math.max(stream.fragmentMs, 500)) / 1000;
  return Object.freeze({
    maxRecords: Math.min(65_536, Math.max(64, 2 * Math.ceil(budget.maxBytes / fragmentBytes))),
    maxFramesPerFragment: Math.ceil((pool.fps * stream.maxFragmentMs) / 1000) + 2,
    segmentBytes: Math.min(8 << 20, Math.max(64 << 10, Math.floor(budget.maxBytes / 8))),
  });
}
