import type { ByteScanPort } from '../../io/ByteScan.ts';
import type { ErrorCode } from '../errors.ts';

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

// Scanner states. Outside an image: SEEK, SEEK_FF. Inside one: the rest (`inImage` relies on the order).
const SEEK = 0; // looking for the X'FF' of an SOI
const SEEK_FF = 1; // outside an image, the last byte was X'FF'
const MARKER = 2; // a marker must follow (T.81 B.1.1.2: X'FF' then a code)
const MARKER_CODE = 3; // after X'FF' (and any fill bytes): the marker code
const LENGTH_HI = 4; // marker segment length, two bytes, big-endian, counting itself (B.1.1.4)
const LENGTH_LO = 5;
const SEGMENT = 6; // inside a marker segment's parameters: skipped by length, a few captured
const ENTROPY = 7; // entropy-coded data after a scan header (B.1.1.5)
const ENTROPY_FF = 8; // entropy-coded data, the last byte was X'FF'

// Marker codes (T.81 Table B.1).
const M_TEM = 0x01;
const M_SOI = 0xd8;
const M_EOI = 0xd9;
const M_SOS = 0xda;
const M_DNL = 0xdc;
const M_DHP = 0xde;

/** Parameter bytes captured from SOFn/DHP (P, Y, X, Nf), SOS (Ns) and DNL (NL). */
const HEAD_BYTES = 6;

/** SOF0-3, 5-7, 9-11, 13-15 (T.81 Table B.1); C4 is DHT, C8 is JPG, CC is DAC. DHP has the same layout (B.3.2). */
function isFrameHeader(m: number): boolean {
  return (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === M_DHP;
}

/**
 * An incremental parser of the JPEG interchange format (ITU-T T.81 Annex B) over a byte stream that
 * arrives in pieces. It keeps a small state record, never looks back at earlier bytes and never copies:
 * marker segments are skipped by their length (so an EXIF APP1 holding a thumbnail with its own SOI/EOI
 * is passed over whole), and only the frame header, scan header and DNL parameters are captured.
 *
 * `scan()` stops at each event (SOI, EOI, error) and returns the index of the first unconsumed byte;
 * offsets are the caller's business. X'FF' is found with `indexOf`, which is native in both V8 and XS,
 * so JavaScript runs per marker rather than per entropy-coded byte. `indexOf` may look past `to` (up to
 * the end of `bytes`) before the result is clipped; a caller that owns the bytes after `to` bounds it with
 * a sentinel X'FF' there.
 */
export class JpegScanner {
  /** The board's native byte search (XS), or undefined for Uint8Array.prototype.indexOf (fast under V8). */
  private readonly byteScan: ByteScanPort | undefined;
  event: JpegEvent = JPEG_EVENT.NONE;
  errorCode: ErrorCode = 'MJPEG_SEGMENT_INVALID';
  /** A fixed description of the last error, with the T.81 clause it breaks. */
  errorDetail = '';
  /** From the first frame header (SOFn or DHP) of the current image; 0 until then. */
  width = 0;
  /** From the frame header, or from DNL when the frame header says 0 lines (B.2.5). */
  height = 0;

  private state = SEEK;
  private marker = 0;
  private segmentLength = 0;
  private remaining = 0;
  private headWant = 0;
  private headHave = 0;
  private readonly head = new Uint8Array(HEAD_BYTES);
  private hasFrameHeader = false;
  private hasScan = false;
  /** ByteScanPort.walkJpegHeaders' in/out record (has a frame header, width, height, scan taken), reused. */
  private readonly headerWalk = new Uint32Array(4);

  constructor(byteScan?: ByteScanPort) {
    this.byteScan = byteScan;
  }

  /** The first X'FF' in [from, to), or -1. */
  private indexOfFF(bytes: Uint8Array, from: number, to: number): number {
    if (this.byteScan) return this.byteScan.indexOfByte(bytes, 0xff, from, to);
    const j = bytes.indexOf(0xff, from);
    return j < to ? j : -1;
  }

  /** True between an SOI and the EOI (or error) that ends its image. */
  get inImage(): boolean {
    return this.state >= MARKER;
  }

  /** True outside an image when the last byte was X'FF', which may open the next SOI. */
  get pendingFF(): boolean {
    return this.state === SEEK_FF;
  }

  /** Consumes `bytes[i..to)` up to the first event; returns the index of the first unconsumed byte. */
  scan(bytes: Uint8Array, i: number, to: number): number {
    this.event = JPEG_EVENT.NONE;
    while (i < to) {
      switch (this.state) {
        case ENTROPY: {
          // Inside entropy-coded data only X'FF' matters: X'FF00' is a stuffed byte, X'FFD0'-X'FFD7' are
          // restart markers (F.1.2.3, B.2.1); any other code is a marker that ends the scan. With the board's
          // marker search the stuffed bytes and RSTn are skipped in C; ENTROPY_FF below then sees only the byte
          // after a real marker's X'FF' (or the next read's first byte), as it would have here.
          const port = this.byteScan;
          const j = port && port.findJpegMarker ? port.findJpegMarker(bytes, i, to) : this.indexOfFF(bytes, i, to);
          if (j < 0) return to;
          i = j + 1;
          this.state = ENTROPY_FF;
          break;
        }
        case ENTROPY_FF: {
          const b = bytes[i]!;
          if (b === 0x00 || (b & 0xf8) === 0xd0) {
            this.state = ENTROPY;
            i++;
          } else if (b === 0xff) {
            i++; // a fill byte before a marker (B.1.1.2)
          } else {
            this.state = MARKER_CODE; // not consumed: MARKER_CODE reads it
          }
          break;
        }
        case SEEK: {
          const j = this.indexOfFF(bytes, i, to);
          if (j < 0) return to;
          i = j + 1;
          this.state = SEEK_FF;
          break;
        }
        case SEEK_FF: {
          const b = bytes[i++]!;
          if (b === M_SOI) {
            this.beginImage();
            this.event = JPEG_EVENT.SOI;
            return i;
          }
          if (b !== 0xff) this.state = SEEK;
          break;
        }
        case MARKER: {
          // With the board's header walk, an image's usual headers up to its entropy-coded data go by in C (valid
          // frame and scan headers taken as endSegment takes them); with its segment skip, the segments only
          // skipped below (APPn, DQT, DHT, …). Whatever they stop at is this state machine's.
          const port = this.byteScan;
          if (port && port.walkJpegHeaders) {
            const walk = this.headerWalk;
            walk[0] = this.hasFrameHeader ? 1 : 0;
            const j = port.walkJpegHeaders(bytes, i, to, walk);
            if (walk[0] === 1 && !this.hasFrameHeader) {
              this.hasFrameHeader = true;
              this.width = walk[1]!;
              this.height = walk[2]!;
            }
            if (walk[3] === 1) {
              this.hasScan = true;
              this.state = ENTROPY;
            }
            if (j !== i) {
              i = j;
              break;
            }
          } else if (port && port.skipJpegSegments) {
            const j = port.skipJpegSegments(bytes, i, to);
            if (j !== i) {
              i = j;
              break;
            }
          }
          if (bytes[i++] !== 0xff) return this.fail(i, 'MJPEG_SEGMENT_INVALID', "a byte other than X'FF' where a marker must start (T.81 B.1.1.2)");
          this.state = MARKER_CODE;
          break;
        }
        case MARKER_CODE: {
          const m = bytes[i++]!;
          if (m === 0xff) break; // fill byte (B.1.1.2)
          if (m === M_EOI) return this.endImage(i);
          if (m === M_SOI) {
            // The next image starts before this one ended. Leave the SOI unconsumed so the next scan
            // begins that image.
            this.fail(i - 1, 'MJPEG_TRUNCATED', 'an SOI marker before the EOI of the previous image (T.81 B.2.1)');
            this.state = SEEK_FF;
            return i - 1;
          }
          if (m === 0x00) return this.fail(i, 'MJPEG_SEGMENT_INVALID', "X'FF00' outside entropy-coded data (T.81 B.1.1.2)");
          if (m === M_TEM || (m & 0xf8) === 0xd0) {
            this.state = MARKER; // markers without parameters (B.1.1.3)
            break;
          }
          if (m === M_SOS && !this.hasFrameHeader)
            return this.fail(i, 'MJPEG_NO_FRAME_SIZE', 'a scan header (SOS) before any frame header (SOFn) (T.81 B.2.1)');
          this.marker = m;
          this.state = LENGTH_HI;
          break;
        }
        case LENGTH_HI: {
          this.segmentLength = bytes[i++]! << 8;
          this.state = LENGTH_LO;
          break;
        }
        case LENGTH_LO: {
          const length = this.segmentLength | bytes[i++]!;
          if (length < 2) return this.fail(i, 'MJPEG_SEGMENT_INVALID', 'a marker segment length below 2 (T.81 B.1.1.4)');
          this.segmentLength = length;
          this.remaining = length - 2;
          this.headHave = 0;
          const m = this.marker;
          this.headWant = isFrameHeader(m) || m === M_SOS || m === M_DNL ? Math.min(this.remaining, HEAD_BYTES) : 0;
          this.state = SEGMENT;
          if (this.remaining === 0 && this.endSegment() !== JPEG_EVENT.NONE) return i;
          break;
        }
        case SEGMENT: {
          if (this.headHave < this.headWant) {
            // The captured parameters, as many as this read holds, in one turn of the state loop.
            const take = Math.min(this.headWant - this.headHave, to - i);
            for (let k = 0; k < take; k++) this.head[this.headHave++] = bytes[i++]!;
            this.remaining -= take;
          } else {
            const n = Math.min(this.remaining, to - i);
            i += n;
            this.remaining -= n;
          }
          if (this.remaining === 0 && this.endSegment() !== JPEG_EVENT.NONE) return i;
          break;
        }
      }
    }
    return i;
  }

  private beginImage(): void {
    this.state = MARKER;
    this.width = this.height = 0;
    this.hasFrameHeader = this.hasScan = false;
  }

  /** EOI (B.2.1): an image needs a frame header, at least one scan and a known number of lines. */
  private endImage(i: number): number {
    if (!this.hasFrameHeader) return this.fail(i, 'MJPEG_NO_FRAME_SIZE', 'an EOI marker before any frame header (SOFn) (T.81 B.2.1)');
    if (!this.hasScan) return this.fail(i, 'MJPEG_TRUNCATED', 'an EOI marker before any scan (SOS) (T.81 B.2.1)');
    if (this.height === 0) return this.fail(i, 'MJPEG_NO_FRAME_SIZE', 'the frame header gives 0 lines and no DNL segment follows (T.81 B.2.5)');
    this.state = SEEK;
    this.event = JPEG_EVENT.EOI;
    return i;
  }

  /** Validates the captured parameters of the segment just skipped; returns the event it raised. */
  private endSegment(): JpegEvent {
    const m = this.marker;
    const h = this.head;
    const length = this.segmentLength;
    this.state = MARKER;
    if (isFrameHeader(m)) {
      // Lf = 8 + 3 × Nf, Nf ≥ 1, X ≥ 1; Y = 0 defers the line count to DNL (B.2.2).
      if (length < 8 || h[5] === 0 || length !== 8 + 3 * h[5]!) {
        this.fail(0, 'MJPEG_SEGMENT_INVALID', 'a frame header whose length does not match its component count (T.81 B.2.2)');
      } else if (((h[3]! << 8) | h[4]!) === 0) {
        this.fail(0, 'MJPEG_SEGMENT_INVALID', 'a frame header with 0 samples per line (T.81 B.2.2)');
      } else if (!this.hasFrameHeader) {
        this.hasFrameHeader = true;
        this.height = (h[1]! << 8) | h[2]!;
        this.width = (h[3]! << 8) | h[4]!;
      }
    } else if (m === M_SOS) {
      // Ls = 6 + 2 × Ns, 1 ≤ Ns ≤ 4 (B.2.3).
      if (length < 6 || h[0]! < 1 || h[0]! > 4 || length !== 6 + 2 * h[0]!) {
        this.fail(0, 'MJPEG_SEGMENT_INVALID', 'a scan header whose length does not match its component count (T.81 B.2.3)');
      } else {
        this.hasScan = true;
        this.state = ENTROPY;
      }
    } else if (m === M_DNL) {
      // Ld = 4, NL ≥ 1 (B.2.5).
      const lines = (h[0]! << 8) | h[1]!;
      if (length !== 4 || lines === 0) this.fail(0, 'MJPEG_SEGMENT_INVALID', 'a DNL segment that is not 4 bytes or gives 0 lines (T.81 B.2.5)');
      else if (this.height === 0) this.height = lines;
    }
    return this.event;
  }

  private fail(i: number, code: ErrorCode, detail: string): number {
    this.state = SEEK;
    this.event = JPEG_EVENT.ERROR;
    this.errorCode = code;
    this.errorDetail = detail;
    return i;
  }
}
