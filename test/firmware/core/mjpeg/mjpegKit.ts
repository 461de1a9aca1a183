// Shared helpers for the MJPEG suites: an oracle for the fixture's image boundaries that does not use the
// code under test, byte-building helpers, and a driver that feeds a byte stream through MjpegReader the
// way a board does (prepare → read into the slot → push) and records everything it saw.
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { MjpegReader, type MjpegReaderCounters } from '../../../../firmware/core/mjpeg/MjpegReader.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { boardByteScan, fixture } from '../../../harness/index.ts';
import { concatBytes as concat } from '../../../harness/support.ts';
export { concat };

export const FIXTURE = 'mjpeg-320x240-10fps.mjpeg';

/**
 * The fixture's images, split where an EOI is immediately followed by an SOI (ffmpeg's MJPEG muxer writes
 * them back to back, and its images carry no thumbnails), so the split is independent of the parser.
 */
export function fixtureImages(): Uint8Array[] {
  const all = fixture(FIXTURE);
  const images: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + 3 < all.length; i++) {
    if (all[i] === 0xff && all[i + 1] === 0xd9 && all[i + 2] === 0xff && all[i + 3] === 0xd8) {
      images.push(all.slice(start, i + 2));
      start = i + 2;
    }
  }
  images.push(all.slice(start));
  return images;
}

export function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

/** A marker segment: X'FF', code, 2-byte length counting itself, parameters. */
export function segment(code: number, body: Uint8Array | readonly number[]): Uint8Array {
  const length = body.length + 2;
  return concat([[0xff, code, length >> 8, length & 0xff], body]);
}

/** Offset of the first X'FF' `code` marker in a JPEG header (searches only before the first SOS). */
export function markerAt(image: Uint8Array, code: number): number {
  for (let i = 2; i + 1 < image.length; i++) {
    if (image[i] === 0xff && image[i + 1] === code) return i;
    if (image[i] === 0xff && image[i + 1] === 0xda && code !== 0xda) break;
  }
  throw new Error(`marker ${code.toString(16)} not found`);
}

/** `image` with `insert` placed at byte `at`. */
export function insertAt(image: Uint8Array, at: number, insert: Uint8Array | readonly number[]): Uint8Array {
  return concat([image.subarray(0, at), insert, image.subarray(at)]);
}

/** The frame's payload gathered from its one or two pieces (a test-side copy). */
export function frameBytes(frame: Frame): Uint8Array {
  const lenA = frame.endA - frame.startA;
  const out = new Uint8Array(frame.size);
  out.set(frame.slotA!.bytes.subarray(frame.startA, frame.endA), 0);
  if (frame.slotB) out.set(frame.slotB.bytes.subarray(frame.startB, frame.endB), lenA);
  return out;
}

export interface RunOptions {
  /** Bytes per read, or a function of the read index. */
  readonly readSize?: number | ((k: number) => number);
  readonly slotBytes?: number;
  readonly slotCount?: number;
  readonly maxFrames?: number;
  readonly strict?: boolean;
  /** Keep frames instead of freeing them in onFrame. */
  readonly hold?: boolean;
  /** Called when prepare() reports POOL_EXHAUSTED; return false to stop reading. */
  readonly onExhausted?: (reader: MjpegReader, held: Frame[], pool: FramePool) => boolean;
  /** The board's byte scans; absent: the runner's board (native inside XS, none under Node); undefined: none. */
  readonly byteScan?: ByteScanPort | undefined;
}

export interface RunResult {
  readonly frames: Uint8Array[];
  readonly formats: string[];
  readonly error: unknown;
  readonly code: string | undefined;
  readonly counters: MjpegReaderCounters;
  readonly frameTooLarge: number;
  readonly poolFull: number;
  readonly lastError: string | undefined;
  readonly slotsInUse: number;
  readonly framesInUse: number;
  readonly size: string | undefined;
  readonly flags: { key: boolean; nalCount: number; seq: number }[];
  readonly straddled: number;
}

/** Feeds `input` through a reader as a board would; never throws (the error is returned). */
export function run(input: Uint8Array, options: RunOptions = {}): RunResult {
  const pool = new FramePool({
    slotCount: options.slotCount ?? 4,
    slotBytes: options.slotBytes ?? 65536,
    maxFrames: options.maxFrames ?? 4,
  });
  const byteScan = 'byteScan' in options ? options.byteScan : boardByteScan();
  const frames: Uint8Array[] = [];
  const formats: string[] = [];
  const flags: { key: boolean; nalCount: number; seq: number }[] = [];
  const held: Frame[] = [];
  let straddled = 0;
  const reader = new MjpegReader({
    pool,
    strict: options.strict ?? true,
    // Inside XS the board's scan unless the caller says otherwise (`byteScan: undefined`: the TypeScript scan).
    ...(byteScan ? { byteScan } : {}),
    onFormat: (s) => formats.push(`${s.width}x${s.height}`),
    onFrame: (frame) => {
      frames.push(frameBytes(frame));
      flags.push({ key: frame.key, nalCount: frame.nalCount, seq: frame.seq });
      if (frame.slotB) straddled++;
      if (options.hold) held.push(frame);
      else pool.freeFrame(frame);
    },
  });
  const readSize = options.readSize ?? 4096;
  let error: unknown;
  try {
    let pos = 0;
    let k = 0;
    // Every pass either pushes at least one byte or stops: the loop is bounded by the input length.
    for (let guard = 0; pos < input.length; guard++) {
      if (guard > 2 * input.length + 16) throw new Error('read loop made no progress');
      if (reader.prepare() !== PREPARE.OK) {
        if (options.onExhausted?.(reader, held, pool)) continue;
        throw new Error('pool exhausted');
      }
      const want = typeof readSize === 'number' ? readSize : readSize(k);
      const n = Math.max(1, Math.min(want, reader.cursor.targetSpace, input.length - pos));
      reader.cursor.target.set(input.subarray(pos, pos + n), reader.cursor.targetOffset);
      reader.push(n);
      pos += n;
      k++;
    }
    reader.end();
  } catch (err) {
    error = err;
  }
  for (const f of held) pool.freeFrame(f);
  return {
    frames,
    formats,
    error,
    code: error instanceof FieldcamError ? error.code : undefined,
    counters: { ...reader.counters },
    frameTooLarge: pool.drops.frameTooLarge,
    poolFull: pool.drops.poolFull,
    lastError: reader.lastError?.code,
    slotsInUse: pool.stats.slotsInUse,
    framesInUse: pool.stats.framesInUse,
    size: reader.size ? `${reader.size.width}x${reader.size.height}` : undefined,
    flags,
    straddled,
  };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
