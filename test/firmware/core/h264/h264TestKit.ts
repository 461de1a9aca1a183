// Shared helpers for the H.264 suites: feeding a byte stream through H264Reader in chosen read sizes, a naive
// reference NAL splitter (deliberately simple and independent of AnnexBScanner), byte helpers, a seeded PRNG and
// a bit writer for synthetic parameter sets. Pure ECMAScript: runs under Node and XS.
import { AU_WALK } from '../../../../firmware/core/h264/accessUnitWalk.ts';
import { H264Reader, type ParameterSets } from '../../../../firmware/core/h264/H264Reader.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE, type StreamCursor } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { concatBytes, mulberry32 as prng } from '../../../harness/support.ts';
export { prng };

/**
 * findStartCodes by its contract, byte by byte and as plainly as possible: the reference the board's C scan
 * (firmware/runtime/scan.c, word at a time) is checked against. Refuses ranges outside the view.
 */
export function referenceFindStartCodes(bytes: Uint8Array, from: number, to: number, found: Uint32Array): number {
  if (from < 0 || to > bytes.length || from > to) throw new RangeError(`range ${from}..${to} outside ${bytes.length}`);
  let n = 0;
  for (let p = from + 2; p < to && n < found.length / 2; p++) {
    if (bytes[p] !== 1 || bytes[p - 1] !== 0 || bytes[p - 2] !== 0) continue;
    let z = 0;
    while (p - 1 - z >= from && bytes[p - 1 - z] === 0) z++;
    found[2 * n] = p;
    found[2 * n + 1] = z;
    n++;
  }
  return n;
}

/**
 * classifyNals by its contract (ByteScanPort), byte by byte and as plainly as possible: the reference the board's
 * C walk (scan.c) is checked against, and the port the reader's walk runs on under Node.
 */
export function referenceClassifyNals(bytes: Uint8Array, from: number, to: number, zeros: number, hasVcl: boolean, out: Uint32Array): number {
  if (from < 0 || to > bytes.length || from > to) throw new RangeError(`range ${from}..${to} outside ${bytes.length}`);
  const max = (out.length - 1) >> 2;
  let n = 0;
  let z = zeros;
  for (let i = from; i < to; i++) {
    const b = bytes[i] as number;
    if (b === 0) {
      z++;
      continue;
    }
    if (b === 1 && z >= 2) {
      const r = 1 + 4 * n++;
      out[r] = i;
      out[r + 1] = z;
      let type = 255;
      let starts = false;
      const header = i + 1 < to ? (bytes[i + 1] as number) : 0;
      if (header !== 0 && (header & 0x80) === 0) {
        const t = header & 0x1f;
        const slice = t === 1 || t === 5;
        if (slice && hasVcl) {
          const next = i + 2 < to ? (bytes[i + 2] as number) : 0;
          if (next !== 0) {
            type = t;
            starts = (next & 0x80) !== 0;
          }
        } else {
          type = t;
          starts = hasVcl && ((t >= 6 && t <= 9) || (t >= 14 && t <= 18));
        }
        if (type !== 255) hasVcl = slice || (hasVcl && !starts);
      }
      out[r + 2] = type;
      out[r + 3] = starts ? 1 : 0;
      if (type === 255 || n === max) return n;
    }
    z = 0;
  }
  out[0] = z;
  return n;
}

/**
 * closeAccessUnit by its contract (ByteScanPort; firmware/runtime/accessunits.c), byte by byte and as plainly as
 * possible: the reference the board's C walk is checked against, and the port the reader runs on under Node.
 */
export function referenceCloseAccessUnit(
  bytes: Uint8Array,
  from: number,
  to: number,
  base: number,
  s: Float64Array,
  table: Float64Array,
  sps: Uint8Array,
  pps: Uint8Array,
  cursor?: object,
  pool?: object,
  batch?: unknown[],
): number {
  if (from < 0 || to > bytes.length || from > to) throw new RangeError(`range ${from}..${to} outside ${bytes.length}`);
  const completer = cursor && pool && batch ? { cursor: cursor as StreamCursor, pool: pool as unknown as PoolStack, batch } : undefined;
  const carried = s[AU_WALK.ZEROS]!;
  let z = carried;
  let quiet = true;
  for (let p = from; p < to; p++) {
    const b = bytes[p]!;
    if (b === 0) {
      z++;
      continue;
    }
    if (b === 1 && z >= 2) {
      const result = referenceStartCode(bytes, to, base, s, table, sps, pps, p, z, completer?.cursor);
      quiet = false;
      if (result === AU_WALK.HANDOVER) {
        const runStart = p - z;
        s[AU_WALK.STOP] = runStart < from ? from : runStart;
        s[AU_WALK.ZEROS] = runStart < from ? carried : 0;
        return result;
      }
      if (result === AU_WALK.FRAME && !(completer && referenceComplete(s, table, completer))) return result;
    }
    z = 0;
  }
  s[AU_WALK.ZEROS] = z;
  return quiet ? AU_WALK.QUIET : AU_WALK.DONE;
}

/** FramePool's free-record stack as the contract names it (private fields of the pool). */
interface PoolStack {
  freeFrames: Frame[];
  freeCount: number;
  freeLow: number;
}

/**
 * records.c's fieldcamBatchFrameRecord by its contract: the record on top of the pool's free stack, filled
 * (fillFrameRecord's contract) and put at batch[at]; false, with nothing changed, when there is no free record or no
 * such batch entry, or the range is not one the cursor holds. Shared by the access-unit walk's and the MJPEG walk's twins.
 */
export function referenceBatchRecord(
  pool: object,
  batch: unknown[],
  at: number,
  cursor: StreamCursor,
  table: Float64Array,
  count: number,
  start: number,
  end: number,
  seq: number,
  key: boolean,
): boolean {
  const p = pool as unknown as PoolStack;
  if (at >= batch.length || p.freeCount === 0) return false;
  if (!cursor.holds(start) || end > cursor.position || end <= start || cursor.onScratch) return false;
  const frame = p.freeFrames[p.freeCount - 1]!;
  referenceScanPort.fillFrameRecord!(frame, cursor, table, count, start, end, seq, key);
  p.freeCount--;
  if (p.freeCount < p.freeLow) p.freeLow = p.freeCount;
  batch[at] = frame;
  return true;
}

/**
 * closeAccessUnit's completion (state[CLOSE]) by its contract: the complete access unit in DONE_* into the record on
 * top of the pool's free stack, appended to the batch; false, with nothing changed, when the reader must judge it.
 */
function referenceComplete(s: Float64Array, table: Float64Array, o: { cursor: StreamCursor; pool: PoolStack; batch: unknown[] }): boolean {
  if (s[AU_WALK.CLOSE] !== 1) return false;
  const start = s[AU_WALK.DONE_START]!;
  const end = s[AU_WALK.DONE_END]!;
  const n = s[AU_WALK.BATCH]!;
  if (end - start > s[AU_WALK.SLOT_BYTES]!) return false;
  if (!referenceBatchRecord(o.pool, o.batch, n, o.cursor, table, s[AU_WALK.DONE_COUNT]!, start, end, s[AU_WALK.SEQ]!, s[AU_WALK.DONE_KEY] === 1)) return false;
  s[AU_WALK.BATCH] = n + 1;
  s[AU_WALK.SEQ] = s[AU_WALK.SEQ]! + 1;
  return true;
}

/** pushAccessUnits by its contract: the cursor's commit, then referenceCloseAccessUnit over the read. */
export function referencePushAccessUnits(
  cursor: object,
  n: number,
  s: Float64Array,
  table: Float64Array,
  sps: Uint8Array,
  pps: Uint8Array,
  pool?: object,
  batch?: unknown[],
): number {
  const c = cursor as StreamCursor;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > c.targetSpace) return -1;
  const from = c.targetOffset;
  const base = c.position - from;
  c.commit(n);
  return referenceCloseAccessUnit(c.target, from, from + n, base, s, table, sps, pps, c, pool, batch);
}

/** One start code of referenceCloseAccessUnit: close the open NAL unit quietly or hand over, classify the next. */
function referenceStartCode(
  d: Uint8Array,
  to: number,
  base: number,
  s: Float64Array,
  table: Float64Array,
  sps: Uint8Array,
  pps: Uint8Array,
  p: number,
  zeros: number,
  cursor?: StreamCursor,
): number {
  // A NAL unit's byte at logical offset `at`: in this read's slot, or (with the reader's cursor) in its previous slot.
  const byte = (at: number): number | undefined =>
    at >= base ? d[at - base] : cursor !== undefined && !cursor.onScratch && cursor.holds(at) ? cursor.byteAt(at) : undefined;
  const prefix = zeros >= 3 ? 4 : 3;
  const startAt = base + p - prefix + 1;
  const end = startAt - (zeros - prefix + 1);
  const h = s[AU_WALK.NAL_HEADER]!;
  const length = end - h;
  const open = s[AU_WALK.NAL_TYPE]!;
  const openSlice = open === 1 || open === 5;
  const header = p + 1 < to ? d[p + 1]! : 0;
  const type = header & 0x1f;
  const slice = type === 1 || type === 5;
  if (header === 0 || header & 0x80 || !(slice || (type >= 6 && type <= 9))) return AU_WALK.HANDOVER;
  const hasVcl = openSlice || s[AU_WALK.AU_HAS_VCL] === 1;
  let startsAu = !slice && hasVcl;
  if (slice && hasVcl) {
    const next = p + 2 < to ? d[p + 2]! : 0;
    if (next === 0) return AU_WALK.HANDOVER;
    startsAu = (next & 0x80) !== 0;
  }
  // Would the reader's closeNal add the open NAL unit without a word?
  if (s[AU_WALK.AU_COUNT]! >= 32) return AU_WALK.HANDOVER;
  if (open === 7 || open === 8) {
    const stored = open === 7 ? sps : pps;
    if (stored.length === 0 || stored.length !== length) return AU_WALK.HANDOVER;
    for (let i = 0; i < length; i++) if (byte(h + i) !== stored[i]) return AU_WALK.HANDOVER;
  } else if (openSlice) {
    if (s[AU_WALK.PIC_SIZE]! <= 0 || length < 5) return AU_WALK.HANDOVER;
    const b1 = byte(h + 1);
    const b2 = byte(h + 2);
    const b3 = byte(h + 3);
    const b4 = byte(h + 4);
    if (b1 === undefined || b2 === undefined || b3 === undefined || b4 === undefined) return AU_WALK.HANDOVER;
    // An emulation_prevention_three_byte among these four needs a zero pair before it (the NAL header is never zero).
    if ((b1 === 0 && b2 === 0) || (b2 === 0 && b3 === 0)) return AU_WALK.HANDOVER;
    const bits: number[] = [];
    for (const v of [b1, b2, b3, b4]) for (let k = 7; k >= 0; k--) bits.push((v >> k) & 1);
    const fields: number[] = [];
    let i = 0;
    for (let f = 0; f < 3; f++) {
      let lead = 0;
      while (i < 32 && bits[i] === 0) {
        lead++;
        i++;
      }
      if (i + lead + 1 > 32) return AU_WALK.HANDOVER;
      let value = 0;
      for (let k = 0; k <= lead; k++) value = value * 2 + bits[i + k]!;
      fields.push(value - 1);
      i += lead + 1;
    }
    const [firstMb, sliceType, ppsId] = fields as [number, number, number];
    const kind = sliceType % 5;
    const vcl = s[AU_WALK.AU_HAS_VCL] === 1;
    if (sliceType > 9 || kind === 1 || (open === 5 && kind !== 2 && kind !== 4)) return AU_WALK.HANDOVER;
    if (firstMb >= s[AU_WALK.PIC_SIZE]! || (!vcl && firstMb !== 0) || (vcl && (open === 5) !== (s[AU_WALK.AU_KEY] === 1))) return AU_WALK.HANDOVER;
    if (ppsId !== s[AU_WALK.PPS_ID]) return AU_WALK.HANDOVER;
  } else if (open !== 6 && open !== 9) {
    return AU_WALK.HANDOVER;
  }
  const r = 4 * s[AU_WALK.AU_COUNT]!;
  table[r] = h;
  table[r + 1] = length;
  table[r + 2] = s[AU_WALK.NAL_PREFIX]!;
  table[r + 3] = open;
  s[AU_WALK.AU_COUNT] = s[AU_WALK.AU_COUNT]! + 1;
  s[AU_WALK.AU_END] = end;
  if (openSlice) {
    s[AU_WALK.AU_HAS_VCL] = 1;
    if (open === 5) s[AU_WALK.AU_KEY] = 1;
  }
  s[AU_WALK.NAL_START] = startAt;
  s[AU_WALK.NAL_HEADER] = startAt + prefix;
  s[AU_WALK.NAL_PREFIX] = prefix;
  s[AU_WALK.NAL_TYPE] = type;
  s[AU_WALK.STOP] = p;
  if (!startsAu) return AU_WALK.DONE;
  // Complete: handed out in DONE_*, and the next access unit begun with the new NAL unit.
  s[AU_WALK.DONE_START] = s[AU_WALK.AU_START]!;
  s[AU_WALK.DONE_END] = s[AU_WALK.AU_END]!;
  s[AU_WALK.DONE_COUNT] = s[AU_WALK.AU_COUNT]!;
  s[AU_WALK.DONE_KEY] = s[AU_WALK.AU_KEY]!;
  s[AU_WALK.AU_START] = startAt;
  s[AU_WALK.AU_END] = startAt;
  s[AU_WALK.AU_COUNT] = 0;
  s[AU_WALK.AU_HAS_VCL] = 0;
  s[AU_WALK.AU_KEY] = 0;
  s[AU_WALK.ZEROS] = 0;
  return AU_WALK.FRAME;
}

/** The board's H.264 byte scans by their contracts (ByteScanPort), for Node runs of the suites that judge the board's. */
export const referenceScanPort: ByteScanPort = Object.freeze({
  indexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number {
    for (let i = from; i < to; i++) if (bytes[i] === value) return i;
    return -1;
  },
  findStartCodes: referenceFindStartCodes,
  classifyNals: referenceClassifyNals,
  closeAccessUnit: referenceCloseAccessUnit,
  pushAccessUnits: referencePushAccessUnits,
  copyNalTable(table: Float64Array, count: number, start: number, offsets: Uint32Array, lengths: Uint32Array, prefixes: Uint8Array, types: Uint8Array): void {
    if (4 * count > table.length || count > offsets.length || count > lengths.length || count > prefixes.length || count > types.length) {
      throw new RangeError(`count ${count} is more than the arrays hold`);
    }
    for (let i = 0; i < count; i++) {
      offsets[i] = table[4 * i]! - start;
      lengths[i] = table[4 * i + 1]!;
      prefixes[i] = table[4 * i + 2]!;
      types[i] = table[4 * i + 3]!;
    }
  },
  // The contract in TypeScript: what the reader does without the port (reset, the cursor's pieces, the NAL table).
  fillFrameRecord(frame: object, cursor: object, table: Float64Array, count: number, start: number, end: number, seq: number, key: boolean): void {
    const f = frame as Frame;
    const c = cursor as StreamCursor;
    if (!c.holds(start) || end > c.position || end <= start || c.onScratch) throw new RangeError(`range ${start}..${end} is not held`);
    f.reset();
    c.fillFrame(f, start, end);
    referenceScanPort.copyNalTable!(table, count, start, f.nalOffset, f.nalLength, f.nalPrefix, f.nalType);
    f.nalCount = count;
    f.key = key;
    f.seq = seq;
  },
});

export interface ReadOptions {
  /** Bytes per read: a number, or a function of the read index. Default 4096. */
  readonly reads?: number | ((index: number) => number);
  readonly slotBytes?: number;
  readonly slotCount?: number;
  readonly maxFrames?: number;
  readonly strict?: boolean;
  /** The board's byte scan (native on XS); absent = the reader's JS loop. */
  readonly byteScan?: ByteScanPort;
  /** Replaces the default consumer (summarise, then free). It must free the frame itself. */
  readonly onFrame?: (frame: Frame, pool: FramePool) => void;
}

export interface FrameSummary {
  seq: number;
  key: boolean;
  size: number;
  /** Per NAL: [offset, length, prefix, type, FNV-1a hash of its bytes]. */
  nals: number[][];
}

export interface ReadResult {
  frames: FrameSummary[];
  parameterSets: ParameterSets[];
  /** Frames emitted before the first onParameterSets call (must stay 0). */
  framesBeforeParameterSets: number;
  reader: H264Reader;
  pool: FramePool;
}

export function fnv(frame: { byteAt(i: number): number }, from: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ frame.byteAt(from + i), 0x01000193) >>> 0;
  return h;
}

export function summarize(frame: Frame): FrameSummary {
  const nals: number[][] = [];
  for (let i = 0; i < frame.nalCount; i++) {
    const offset = frame.nalOffset[i] as number;
    const length = frame.nalLength[i] as number;
    nals.push([offset, length, frame.nalPrefix[i] as number, frame.nalType[i] as number, fnv(frame, offset, length)]);
  }
  return { seq: frame.seq, key: frame.key, size: frame.size, nals };
}

/** Feeds `data` through a new H264Reader and ends it. Throws whatever the reader throws. */
export function readH264(data: Uint8Array, options: ReadOptions = {}): ReadResult {
  const pool = new FramePool({
    slotCount: options.slotCount ?? 4,
    slotBytes: options.slotBytes ?? 65536,
    maxFrames: options.maxFrames ?? 8,
  });
  const result: ReadResult = {
    frames: [],
    parameterSets: [],
    framesBeforeParameterSets: 0,
    reader: undefined as unknown as H264Reader,
    pool,
  };
  const reader = new H264Reader({
    pool,
    strict: options.strict,
    ...(options.byteScan ? { byteScan: options.byteScan } : {}),
    onFrame(frame) {
      if (result.parameterSets.length === 0) result.framesBeforeParameterSets++;
      if (options.onFrame) {
        options.onFrame(frame, pool);
      } else {
        result.frames.push(summarize(frame));
        pool.freeFrame(frame);
      }
    },
    onParameterSets(ps) {
      result.parameterSets.push(ps);
    },
  });
  result.reader = reader;
  const reads = options.reads ?? 4096;
  let offset = 0;
  for (let index = 0; offset < data.length; index++) {
    const state = reader.prepare();
    if (state !== PREPARE.OK) throw new Error(`test harness: prepare() returned ${state}`);
    const want = typeof reads === 'number' ? reads : reads(index);
    const n = Math.max(1, Math.min(want, reader.cursor.targetSpace, data.length - offset));
    reader.cursor.target.set(data.subarray(offset, offset + n), reader.cursor.targetOffset);
    reader.push(n);
    offset += n;
  }
  reader.end();
  return result;
}

export interface NalRef {
  /** Offset of the NAL header byte. */
  header: number;
  /** End of the NAL (exclusive), trailing zero bytes excluded. */
  end: number;
  prefix: number;
  type: number;
}

/** Reference splitter: the obvious byte-by-byte search for 00 00 01, written independently of the scanner. */
export function findNals(data: Uint8Array): NalRef[] {
  const nals: NalRef[] = [];
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      const header = i + 3;
      const prefix = i > 0 && data[i - 1] === 0 ? 4 : 3;
      const last = nals[nals.length - 1];
      if (last) {
        let end = i;
        while (end > last.header && data[end - 1] === 0) end--;
        last.end = end;
      }
      nals.push({ header, end: data.length, prefix, type: (data[header] ?? 0) & 0x1f });
      i = header;
    } else {
      i++;
    }
  }
  return nals;
}

export function hex(text: string): Uint8Array {
  const clean = text.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Writes RBSP bits MSB first; `nal()` adds emulation prevention bytes (7.4.1) and rbsp_trailing_bits. */
export class BitWriter {
  private readonly bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  ue(value: number): this {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.u(len, 0);
    return this.u(len + 1, v);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** The raw bits so far, zero-padded to whole bytes (no trailing bits, no emulation prevention). */
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((bit, i) => {
      if (bit) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }

  /** A NAL unit: the RBSP so far + rbsp_stop_one_bit + alignment, with 00 00 0x (x <= 3) escaped as 00 00 03 0x. */
  nal(): Uint8Array {
    this.bits.push(1);
    while (this.bits.length % 8) this.bits.push(0);
    const rbsp = this.bytes();
    const out: number[] = [];
    let zeros = 0;
    for (const b of rbsp) {
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return new Uint8Array(out);
  }
}
