import type { ErrorCode } from '../errors.ts';

/**
 * The JPEG scanner's state record (`JpegScanner.state`, a Uint32Array of `SIZE` entries): the whole of what the scan
 * carries from one read to the next, so the board's `ByteScanPort.scanJpeg` (firmware/runtime/scan.c, which mirrors
 * these indices) and the TypeScript scan continue each other's work. Indices.
 */
export const JPEG_SCAN = Object.freeze({
  /** One of JPEG_STATE. */
  STATE: 0,
  /** What the last scan stopped for: a JPEG_EVENT. */
  EVENT: 1,
  /** The marker code of the segment being read. */
  MARKER: 2,
  /** Its length field (counting itself, T.81 B.1.1.4); the high byte alone in LENGTH_LO. */
  LENGTH: 3,
  /** Its parameter bytes still to come. */
  REMAINING: 4,
  /** Parameter bytes to capture (0 to HEAD_BYTES) and captured so far. */
  HEAD_WANT: 5,
  HEAD_HAVE: 6,
  /** 1 once the image has a frame header (SOFn or DHP), and once it has a scan (SOS). */
  HAS_FRAME_HEADER: 7,
  HAS_SCAN: 8,
  /** From the first frame header; height from DNL when the frame header gives 0 lines (B.2.5). 0 until known. */
  WIDTH: 9,
  HEIGHT: 10,
  /** The last error: an index into JPEG_ERRORS. */
  ERROR: 11,
  /** HEAD_BYTES captured parameter bytes, one per entry. */
  HEAD: 12,
  SIZE: 18,
} as const);

/** Parameter bytes captured from SOFn/DHP (P, Y, X, Nf), SOS (Ns) and DNL (NL). */
export const HEAD_BYTES = 6;

/** Scanner states. Outside an image: SEEK, SEEK_FF. Inside one: the rest (`inImage` relies on the order). */
export const JPEG_STATE = Object.freeze({
  /** Looking for the X'FF' of an SOI. */
  SEEK: 0,
  /** Outside an image, the last byte was X'FF'. */
  SEEK_FF: 1,
  /** A marker must follow (T.81 B.1.1.2: X'FF' then a code). */
  MARKER: 2,
  /** After X'FF' (and any fill bytes): the marker code. */
  MARKER_CODE: 3,
  /** The marker segment's length, two bytes, big-endian (B.1.1.4). */
  LENGTH_HI: 4,
  LENGTH_LO: 5,
  /** Inside a marker segment's parameters: skipped by length, a few captured. */
  SEGMENT: 6,
  /** Entropy-coded data after a scan header (B.1.1.5). */
  ENTROPY: 7,
  /** Entropy-coded data, the last byte was X'FF'. */
  ENTROPY_FF: 8,
} as const);

/** The scanner's errors by JPEG_SCAN.ERROR: the code and a fixed description with the T.81 clause it breaks. */
export const JPEG_ERRORS: readonly { readonly code: ErrorCode; readonly detail: string }[] = Object.freeze(
  (
    [
      ['MJPEG_SEGMENT_INVALID', ''], // 0: none yet
      ['MJPEG_SEGMENT_INVALID', "a byte other than X'FF' where a marker must start (T.81 B.1.1.2)"],
      ['MJPEG_TRUNCATED', 'an SOI marker before the EOI of the previous image (T.81 B.2.1)'],
      ['MJPEG_SEGMENT_INVALID', "X'FF00' outside entropy-coded data (T.81 B.1.1.2)"],
      ['MJPEG_NO_FRAME_SIZE', 'a scan header (SOS) before any frame header (SOFn) (T.81 B.2.1)'],
      ['MJPEG_SEGMENT_INVALID', 'a marker segment length below 2 (T.81 B.1.1.4)'],
      ['MJPEG_NO_FRAME_SIZE', 'an EOI marker before any frame header (SOFn) (T.81 B.2.1)'],
      ['MJPEG_TRUNCATED', 'an EOI marker before any scan (SOS) (T.81 B.2.1)'],
      ['MJPEG_NO_FRAME_SIZE', 'the frame header gives 0 lines and no DNL segment follows (T.81 B.2.5)'],
      ['MJPEG_SEGMENT_INVALID', 'a frame header whose length does not match its component count (T.81 B.2.2)'],
      ['MJPEG_SEGMENT_INVALID', 'a frame header with 0 samples per line (T.81 B.2.2)'],
      ['MJPEG_SEGMENT_INVALID', 'a scan header whose length does not match its component count (T.81 B.2.3)'],
      ['MJPEG_SEGMENT_INVALID', 'a DNL segment that is not 4 bytes or gives 0 lines (T.81 B.2.5)'],
    ] as const
  ).map(([code, detail]) => Object.freeze({ code, detail })),
);

/** Indices into JPEG_ERRORS (scan.c mirrors them). */
export const JPEG_ERROR = Object.freeze({
  NONE: 0,
  NOT_A_MARKER: 1,
  SOI_BEFORE_EOI: 2,
  STUFFED_OUTSIDE_SCAN: 3,
  SOS_BEFORE_SOF: 4,
  LENGTH_BELOW_2: 5,
  EOI_BEFORE_SOF: 6,
  EOI_BEFORE_SOS: 7,
  NO_LINES: 8,
  FRAME_HEADER_LENGTH: 9,
  FRAME_HEADER_NO_SAMPLES: 10,
  SCAN_HEADER_LENGTH: 11,
  DNL_INVALID: 12,
} as const);
