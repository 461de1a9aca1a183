import type { ByteScanPort } from '../../io/ByteScan.ts';
import type { ErrorCode } from '../errors.ts';
import { HEAD_BYTES, JPEG_ERROR, JPEG_ERRORS, JPEG_SCAN, JPEG_STATE } from './jpegScanState.ts';

/** What `JpegScanner.scan()` stopped for. */
export const JPEG_EVENT = Object.freeze({
  /** Every byte of the range was consumed; more are needed. */
  NONE: 0,
  /** An SOI marker was consumed: an image begins two bytes before the returned index. */
  SOI: 1,
  /** An EOI marker was consumed: the image ends at the returned index. */
  EOI: 2,
  /** The image is malformed (`errorCode`, `errorDetail`); the scanner is already looking for the next SOI. */
  ERROR: 3,
} as const);
export type JpegEvent = (typeof JPEG_EVENT)[keyof typeof JPEG_EVENT];

// The state record's indices and states as plain constants (a frozen table's property costs a lookup in XS).
const STATE = JPEG_SCAN.STATE;
const EVENT = JPEG_SCAN.EVENT;
const MARKER_AT = JPEG_SCAN.MARKER;
const LENGTH = JPEG_SCAN.LENGTH;
const REMAINING = JPEG_SCAN.REMAINING;
const HEAD_WANT = JPEG_SCAN.HEAD_WANT;
const HEAD_HAVE = JPEG_SCAN.HEAD_HAVE;
const HAS_FRAME_HEADER = JPEG_SCAN.HAS_FRAME_HEADER;
const HAS_SCAN = JPEG_SCAN.HAS_SCAN;
const WIDTH = JPEG_SCAN.WIDTH;
const HEIGHT = JPEG_SCAN.HEIGHT;
const ERROR = JPEG_SCAN.ERROR;
const HEAD = JPEG_SCAN.HEAD;
const { SEEK, SEEK_FF, MARKER, MARKER_CODE, LENGTH_HI, LENGTH_LO, SEGMENT, ENTROPY, ENTROPY_FF } = JPEG_STATE;

// Marker codes (T.81 Table B.1).
const M_TEM = 0x01;
const M_SOI = 0xd8;
const M_EOI = 0xd9;
const M_SOS = 0xda;
const M_DNL = 0xdc;
const M_DHP = 0xde;

/** SOF0-3, 5-7, 9-11, 13-15 (T.81 Table B.1); C4 is DHT, C8 is JPG, CC is DAC. DHP has the same layout (B.3.2). */
function isFrameHeader(m: number): boolean {
  return (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === M_DHP;
}

/**
 * An incremental parser of the JPEG interchange format (ITU-T T.81 Annex B) over a byte stream that
 * arrives in pieces. It keeps a small state record (`state`, JPEG_SCAN), never looks back at earlier bytes and
 * never copies: marker segments are skipped by their length (so an EXIF APP1 holding a thumbnail with its own
 * SOI/EOI is passed over whole), and only the frame header, scan header and DNL parameters are captured.
 *
 * `scan()` stops at each event (SOI, EOI, error) and returns the index of the first unconsumed byte;
 * offsets are the caller's business. With the board's `ByteScanPort.scanJpeg` (XS: scan.c) the whole scan runs in
 * C on the same record; without it X'FF' is found with `indexOf`, native in V8, so JavaScript runs per marker
 * rather than per entropy-coded byte. `indexOf` may look past `to` (up to the end of `bytes`) before the result
 * is clipped; a caller that owns the bytes after `to` bounds it with a sentinel X'FF' there.
 */
export class JpegScanner {
  /** The scan's whole state, shared with the board's scanJpeg. */
  readonly state = new Uint32Array(JPEG_SCAN.SIZE);
  /** The board's scan of this record (ByteScanPort.scanJpeg), or undefined for the TypeScript one. */
  readonly native: ByteScanPort['scanJpeg'];
  /** The board's byte search, or undefined for Uint8Array.prototype.indexOf (fast under V8). */
  private readonly byteScan: ByteScanPort | undefined;

  constructor(byteScan?: ByteScanPort) {
    this.byteScan = byteScan;
    this.native = byteScan?.scanJpeg;
  }

  /** What the last scan stopped for. */
  get event(): JpegEvent {
    return this.state[EVENT] as JpegEvent;
  }

  /** From the first frame header (SOFn or DHP) of the current image; 0 until then. */
  get width(): number {
    return this.state[WIDTH]!;
  }

  /** From the frame header, or from DNL when the frame header says 0 lines (B.2.5). */
  get height(): number {
    return this.state[HEIGHT]!;
  }

  /** The last error's code. */
  get errorCode(): ErrorCode {
    return JPEG_ERRORS[this.state[ERROR]!]!.code;
  }

  /** A fixed description of the last error, with the T.81 clause it breaks. */
  get errorDetail(): string {
    return JPEG_ERRORS[this.state[ERROR]!]!.detail;
  }

  /** True between an SOI and the EOI (or error) that ends its image. */
  get inImage(): boolean {
    return this.state[STATE]! >= MARKER;
  }

  /** True outside an image when the last byte was X'FF', which may open the next SOI. */
  get pendingFF(): boolean {
    return this.state[STATE] === SEEK_FF;
  }

  /** The first X'FF' in [from, to), or -1. */
  private indexOfFF(bytes: Uint8Array, from: number, to: number): number {
    if (this.byteScan) return this.byteScan.indexOfByte(bytes, 0xff, from, to);
    const j = bytes.indexOf(0xff, from);
    return j < to ? j : -1;
  }

  /** Consumes `bytes[i..to)` up to the first event; returns the index of the first unconsumed byte. */
  scan(bytes: Uint8Array, i: number, to: number): number {
    const st = this.state;
    if (this.native) return this.native(bytes, i, to, st);
    st[EVENT] = JPEG_EVENT.NONE;
    while (i < to) {
      switch (st[STATE]) {
        case ENTROPY: {
          // Inside entropy-coded data only X'FF' matters: X'FF00' is a stuffed byte, X'FFD0'-X'FFD7' are
          // restart markers (F.1.2.3, B.2.1); any other code is a marker that ends the scan.
          const j = this.indexOfFF(bytes, i, to);
          if (j < 0) return to;
          i = j + 1;
          st[STATE] = ENTROPY_FF;
          break;
        }
        case ENTROPY_FF: {
          const b = bytes[i]!;
          if (b === 0x00 || (b & 0xf8) === 0xd0) {
            st[STATE] = ENTROPY;
            i++;
          } else if (b === 0xff) {
            i++; // a fill byte before a marker (B.1.1.2)
          } else {
            st[STATE] = MARKER_CODE; // not consumed: MARKER_CODE reads it
          }
          break;
        }
        case SEEK: {
          const j = this.indexOfFF(bytes, i, to);
          if (j < 0) return to;
          i = j + 1;
          st[STATE] = SEEK_FF;
          break;
        }
        case SEEK_FF: {
          const b = bytes[i++]!;
          if (b === M_SOI) {
            st[STATE] = MARKER;
            st[WIDTH] = st[HEIGHT] = 0;
            st[HAS_FRAME_HEADER] = st[HAS_SCAN] = 0;
            st[EVENT] = JPEG_EVENT.SOI;
            return i;
          }
          if (b !== 0xff) st[STATE] = SEEK;
          break;
        }
        case MARKER: {
          if (bytes[i++] !== 0xff) return this.fail(i, JPEG_ERROR.NOT_A_MARKER);
          st[STATE] = MARKER_CODE;
          break;
        }
        case MARKER_CODE: {
          const m = bytes[i++]!;
          if (m === 0xff) break; // fill byte (B.1.1.2)
          if (m === M_EOI) return this.endImage(i);
          if (m === M_SOI) {
            // The next image starts before this one ended. Leave the SOI unconsumed so the next scan
            // begins that image.
            this.fail(i - 1, JPEG_ERROR.SOI_BEFORE_EOI);
            st[STATE] = SEEK_FF;
            return i - 1;
          }
          if (m === 0x00) return this.fail(i, JPEG_ERROR.STUFFED_OUTSIDE_SCAN);
          if (m === M_TEM || (m & 0xf8) === 0xd0) {
            st[STATE] = MARKER; // markers without parameters (B.1.1.3)
            break;
          }
          if (m === M_SOS && st[HAS_FRAME_HEADER] === 0) return this.fail(i, JPEG_ERROR.SOS_BEFORE_SOF);
          st[MARKER_AT] = m;
          st[STATE] = LENGTH_HI;
          break;
        }
        case LENGTH_HI: {
          st[LENGTH] = bytes[i++]! << 8;
          st[STATE] = LENGTH_LO;
          break;
        }
        case LENGTH_LO: {
          const length = st[LENGTH]! | bytes[i++]!;
          if (length < 2) return this.fail(i, JPEG_ERROR.LENGTH_BELOW_2);
          st[LENGTH] = length;
          const remaining = length - 2;
          st[REMAINING] = remaining;
          st[HEAD_HAVE] = 0;
          const m = st[MARKER_AT]!;
          st[HEAD_WANT] = isFrameHeader(m) || m === M_SOS || m === M_DNL ? Math.min(remaining, HEAD_BYTES) : 0;
          st[STATE] = SEGMENT;
          if (remaining === 0 && this.endSegment() !== JPEG_EVENT.NONE) return i;
          break;
        }
        case SEGMENT: {
          let have = st[HEAD_HAVE]!;
          const want = st[HEAD_WANT]!;
          if (have < want) {
            // The captured parameters, as many as this read holds, in one turn of the state loop.
            const take = Math.min(want - have, to - i);
            for (let k = 0; k < take; k++) st[HEAD + have++] = bytes[i++]!;
            st[HEAD_HAVE] = have;
            st[REMAINING] -= take;
          } else {
            const n = Math.min(st[REMAINING]!, to - i);
            i += n;
            st[REMAINING] -= n;
          }
          if (st[REMAINING] === 0 && this.endSegment() !== JPEG_EVENT.NONE) return i;
          break;
        }
      }
    }
    return i;
  }

  /** EOI (B.2.1): an image needs a frame header, at least one scan and a known number of lines. */
  private endImage(i: number): number {
    const st = this.state;
    if (st[HAS_FRAME_HEADER] === 0) return this.fail(i, JPEG_ERROR.EOI_BEFORE_SOF);
    if (st[HAS_SCAN] === 0) return this.fail(i, JPEG_ERROR.EOI_BEFORE_SOS);
    if (st[HEIGHT] === 0) return this.fail(i, JPEG_ERROR.NO_LINES);
    st[STATE] = SEEK;
    st[EVENT] = JPEG_EVENT.EOI;
    return i;
  }

  /** Validates the captured parameters of the segment just skipped; returns the event it raised. */
  private endSegment(): JpegEvent {
    const st = this.state;
    const m = st[MARKER_AT]!;
    const length = st[LENGTH]!;
    st[STATE] = MARKER;
    if (isFrameHeader(m)) {
      // Lf = 8 + 3 × Nf, Nf ≥ 1, X ≥ 1; Y = 0 defers the line count to DNL (B.2.2).
      const nf = st[HEAD + 5]!;
      if (length < 8 || nf === 0 || length !== 8 + 3 * nf) {
        this.fail(0, JPEG_ERROR.FRAME_HEADER_LENGTH);
      } else if (((st[HEAD + 3]! << 8) | st[HEAD + 4]!) === 0) {
        this.fail(0, JPEG_ERROR.FRAME_HEADER_NO_SAMPLES);
      } else if (st[HAS_FRAME_HEADER] === 0) {
        st[HAS_FRAME_HEADER] = 1;
        st[HEIGHT] = (st[HEAD + 1]! << 8) | st[HEAD + 2]!;
        st[WIDTH] = (st[HEAD + 3]! << 8) | st[HEAD + 4]!;
      }
    } else if (m === M_SOS) {
      // Ls = 6 + 2 × Ns, 1 ≤ Ns ≤ 4 (B.2.3).
      const ns = st[HEAD]!;
      if (length < 6 || ns < 1 || ns > 4 || length !== 6 + 2 * ns) {
        this.fail(0, JPEG_ERROR.SCAN_HEADER_LENGTH);
      } else {
        st[HAS_SCAN] = 1;
        st[STATE] = ENTROPY;
      }
    } else if (m === M_DNL) {
      // Ld = 4, NL ≥ 1 (B.2.5).
      const lines = (st[HEAD]! << 8) | st[HEAD + 1]!;
      if (length !== 4 || lines === 0) this.fail(0, JPEG_ERROR.DNL_INVALID);
      else if (st[HEIGHT] === 0) st[HEIGHT] = lines;
    }
    return st[EVENT] as JpegEvent;
  }

  private fail(i: number, error: number): number {
    const st = this.state;
    st[STATE] = SEEK;
    st[EVENT] = JPEG_EVENT.ERROR;
    st[ERROR] = error;
    return i;
  }
}
