/**
 * Incremental start-code finder for an H.264 Annex-B byte stream (ITU-T H.264 B.1, B.2).
 *
 * A start code is `00 00 01` (3 bytes) or `00 00 00 01` (4 bytes: zero_byte + start_code_prefix_one_3bytes).
 * Zero bytes before it beyond those are trailing_zero_8bits (B.1.2) and belong to no NAL unit. Bytes arrive in
 * arbitrary reads, so the run of zero bytes at the end of one read is carried into the next: a start code may
 * straddle reads and pool slots, and positions are reported as logical stream offsets.
 *
 * Results go into preallocated typed arrays (the shape of the native primitive on XS); `scan()` stops early when
 * they are full and the caller resumes from the index it returns. Nothing is allocated per call.
 *
 * Without a ByteScanPort.findStartCodes the loop tests every third byte first (the candidate `00 00 01` at s..s+2 is
 * impossible whenever byte s+2 is above 1), so payload bytes are mostly skipped three at a time. With one (the XS
 * board: C, word at a time), one call per read returns the start codes and JS touches no payload byte.
 */
import type { ByteScanPort } from '../../io/ByteScan.ts';

/** Start codes per findStartCodes call: a 16 KiB read of 1080p slices holds a handful. */
const FOUND_PAIRS = 16;

export class AnnexBScanner {
  readonly capacity: number;
  /** Logical offset of each start code's first byte (its zero_byte when 4 bytes long). */
  readonly startAt: Float64Array;
  /** Start code length: 3 or 4. */
  readonly prefix: Uint8Array;
  /** trailing_zero_8bits just before each start code: the previous NAL unit ends at startAt - trailingZeros. */
  readonly trailingZeros: Float64Array;
  /** Start codes found by the last `scan()`. */
  count = 0;
  /** Zero bytes at the very end of everything scanned so far (a start code may be in progress). */
  zeros = 0;

  private readonly byteScan: ByteScanPort | undefined;
  /** (index of the 01, zeros before it) pairs from the board's findStartCodes, reused; absent without one. */
  private readonly found: Uint32Array | undefined;

  constructor(capacity = 64, byteScan?: ByteScanPort) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.byteScan = byteScan;
    this.found = byteScan?.findStartCodes ? new Uint32Array(2 * FOUND_PAIRS) : undefined;
    this.startAt = new Float64Array(capacity);
    this.prefix = new Uint8Array(capacity);
    this.trailingZeros = new Float64Array(capacity);
  }

  /** Forgets the carried zero run (after a discontinuity in the stream). */
  reset(): void {
    this.zeros = 0;
    this.count = 0;
  }

  /**
   * Scans `bytes[from..to)`, where `bytes[i]` is at logical stream offset `base + i`. Returns the index where
   * scanning stopped: `to`, or just past the `01` of the start code that filled the result table.
   */
  scan(bytes: Uint8Array, from: number, to: number, base: number): number {
    this.count = 0;
    const carried = this.zeros;
    let zeros = carried;
    // Head, byte by byte: a start code whose zeros arrived in earlier reads has its 01 at `from` or `from + 1`.
    // Without carried zeros there is none (a 01 at from + 1 has at most one zero before it in this read).
    const headEnd = carried === 0 ? from : to < from + 2 ? to : from + 2;
    for (let i = from; i < headEnd; i++) {
      const b = bytes[i] as number;
      if (b === 0) {
        zeros++;
      } else {
        if (b === 1 && zeros >= 2 && this.record(base + i, zeros)) {
          this.zeros = 0;
          return i + 1;
        }
        zeros = 0;
      }
    }
    // Body: candidate start codes `00 00 01` at s..s+2 with s >= from.
    if (this.found) {
      const stop = this.scanNative(bytes, from, to, base, carried);
      if (stop >= 0) return stop;
      return this.tail(bytes, from, to, carried);
    }
    let s = from;
    const last = to - 2;
    while (s < last) {
      const c = bytes[s + 2] as number;
      if (c > 1) {
        s += 3;
      } else if (bytes[s + 1] !== 0) {
        s += 2;
      } else if (bytes[s] !== 0) {
        s += 1;
      } else if (c === 0) {
        s += 1;
      } else {
        let z = 2;
        let k = s - 1;
        while (k >= from && bytes[k] === 0) {
          z++;
          k--;
        }
        if (k < from) z += carried;
        s += 3;
        if (this.record(base + s - 1, z)) {
          this.zeros = 0;
          return s;
        }
      }
    }
    return this.tail(bytes, from, to, carried);
  }

  /**
   * The body with the board's start-code search (ByteScanPort.findStartCodes: native and word at a time on XS):
   * one call per read fills `found` with (index of the 01, zeros before it) pairs. Returns the stop index, or -1
   * at `to`.
   */
  private scanNative(bytes: Uint8Array, from: number, to: number, base: number, carried: number): number {
    if (from + 2 >= to) return -1; // the head covered every candidate
    const port = this.byteScan!;
    const found = this.found!;
    for (let at = from; ; ) {
      const n = port.findStartCodes!(bytes, at, to, found);
      for (let k = 0; k < n; k++) {
        const p = found[2 * k] as number;
        // The port counts zeros back to `at`. Past `from` (a resumed call) byte at - 1 is the previous 01, so only a
        // run reaching `from` continues: into the zeros carried from the previous read.
        let z = found[2 * k + 1] as number;
        if (p - z === from) z += carried;
        if (this.record(base + p, z)) {
          this.zeros = 0;
          return p + 1;
        }
      }
      if (n < found.length / 2) return -1;
      at = (found[2 * n - 2] as number) + 1; // the table was full: go on past its last start code
      if (at + 2 >= to) return -1;
    }
  }

  /** The zero run left at the end of this read (a start code may continue in the next). */
  private tail(bytes: Uint8Array, from: number, to: number, carried: number): number {
    let k = to - 1;
    while (k >= from && bytes[k] === 0) k--;
    this.zeros = k < from ? carried + (to - from) : to - 1 - k;
    return to;
  }

  /** Records the start code whose `01` is at logical offset `one` after `zeros` zero bytes; true when full. */
  private record(one: number, zeros: number): boolean {
    const n = this.count;
    const prefix = zeros >= 3 ? 4 : 3;
    this.startAt[n] = one - prefix + 1;
    this.prefix[n] = prefix;
    this.trailingZeros[n] = zeros - prefix + 1;
    this.count = n + 1;
    return n + 1 === this.capacity;
  }
}
