import type { FieldcamError } from '../errors.ts';
import type { Frame } from './Frame.ts';
import type { PrepareResult, StreamCursor } from './StreamCursor.ts';
import type { FramePool } from '../pool/FramePool.ts';
import type { ByteScanPort } from '../../io/ByteScan.ts';
import type { FrameSource } from '../../io/FrameSource.ts';

/**
 * What FrameInput needs of a codec's reader (H264Reader, H265Reader, MjpegReader): bytes read straight into pool
 * slots through `cursor`, split into frames handed to `onFrame`. The codec table (codecs.ts) makes one per input.
 */
export interface FrameReader {
  readonly cursor: StreamCursor;
  prepare(): PrepareResult;
  push(n: number): void;
  /**
   * The board's camera read for this reader (ByteScanPort.readAccessUnits / readJpeg: the port's function itself), or
   * undefined: `readPort(source, limit, reader)` reads `source` (FrameSource.fd) in the reader's steady state only,
   * the read(2), its commit and its walk in one native call. 0: not taken (not the steady state, or a read that
   * brought no bytes: would block, end of stream, an error), with nothing changed: the caller reads through
   * `source.read` and `push`. n > 0: n bytes read, and the reader has nothing more to do. -n: n bytes read, and
   * `readRest(source, n)` does the rest. The caller calls the port itself: one JS call less per camera read.
   */
  readonly readPort: ((source: FrameSource, limit: number, reader: object) => number) | undefined;
  /**
   * After `readPort` returned -n: what `push` does after its own walk (the frames the walk completed handed out, the
   * reader's walk on from where the port's stopped); returns n. For a source with read times, `onRead`
   * (FrameReaderOptions) runs first, before any frame of the read is handed out.
   */
  readRest(source: FrameSource, n: number): number;
  /** End of input; `lastComplete` false: a live camera was cut, its last frame is dropped (see H264Reader.end). */
  end(lastComplete: boolean): void;
  /** Pool full and nothing droppable: read on into the overflow scratch (false: the reader has none). */
  overflow(): boolean;
  abandonFrame(): void;
  readonly bytesIn: number;
  /** The most recent error absorbed in lenient mode. */
  readonly lastError: FieldcamError | undefined;
  /** Annex-B readers: why the input did not start as a byte stream (B.1.1), while no frame has come. */
  readonly formatError?: FieldcamError | undefined;
  /** Annex-B readers: a start code was seen. */
  readonly sawStartCode?: boolean;
}

/** The parameter sets of a NAL codec, as FrameInput uses them: display size, VUI frame rate, CodecPrivate. */
export interface CodecParameters {
  readonly sps: {
    readonly width: number;
    readonly height: number;
    readonly fps: { readonly num: number; readonly den: number } | undefined;
  };
  readonly codecPrivate: Uint8Array;
}

/** What a codec table entry's `createReader` is given (FrameInput fills it). */
export interface FrameReaderOptions {
  readonly pool: FramePool;
  readonly strict: boolean;
  readonly byteScan?: ByteScanPort;
  readonly onFrame: (frame: Frame) => void;
  /** NAL codecs: the first parameter sets and every change, before the first frame using them. */
  readonly onParameterSets: (ps: CodecParameters) => void;
  /** Image codecs: the picture size of the first frame and of any frame whose size differs. */
  readonly onFormat: (size: { width: number; height: number }) => void;
  /**
   * A read `readPort` took from a source with read times was committed (the cursor's position is its end) at
   * `at` (its `lastReadAt`): called before any frame of it is handed out, so its frames are stamped from it.
   */
  readonly onRead?: (at: number) => void;
  /** A live camera: bytes of overflow scratch, and a way to free a frame record (`FrameInput.overflow`). */
  readonly live?: { readonly overflowBytes: number; readonly onNoFrameRecord: () => boolean };
}
