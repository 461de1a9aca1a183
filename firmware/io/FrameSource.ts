/**
 * The camera: a byte stream (H.264 Annex B or MJPEG) read straight into pool slots, in the ECMA-419 shape.
 * On a board it is a file descriptor (a pipe from the camera process, a V4L2 encoder's output); on Node a file.
 */
export interface FrameSourceOptions {
  /** Bytes became available after a `read` returned 0. */
  onReadable(): void;
}

/** `read` result at the end of the stream (camera process gone, file finished). */
export const SOURCE_END = -1;

export interface FrameSource {
  /**
   * The file descriptor `read` reads, when the source is one (a camera pipe on a board; -1 once closed): `read` is
   * then a plain non-blocking read(2) of it into `into`, and the time of `lastReadAt` the board's monotonic clock. A
   * board's port may then do a read itself, straight into the reader's slot and walked in the same call
   * (FrameInput.readFrom, ByteScanPort.readAccessUnits / readJpeg): only a read that brought bytes, for which it sets
   * `lastReadAt` as `read` would (the field must stay writable); for anything else the caller calls `read`. Absent:
   * every read is `read`'s.
   */
  readonly fd?: number;
  /**
   * Reads up to `length` bytes into `into` at `offset` (a pool slot; no intermediate copy). Returns the count,
   * 0 when nothing is available yet (`onReadable` follows), or SOURCE_END. Throws FieldcamError INPUT_READ_FAILED.
   */
  read(into: Uint8Array, offset: number, length: number): number;
  /**
   * Monotonic ms (the board's ClockPort.monotonic) when the last `read` that returned bytes completed: the capture
   * clock of a live camera (design.md §5). Taken right after the read, before anything else runs.
   */
  readonly lastReadAt: number;
  /**
   * A recording (a regular file), not a camera: it keeps the cadence it declares and ends on a whole frame, so
   * the capture clock and the cut-tail rule of a live camera do not apply (issue 11; docs/reliability.md).
   */
  readonly recorded: boolean;
  close(): void;
}

export type FrameSourceFactory = (options: FrameSourceOptions) => FrameSource;
