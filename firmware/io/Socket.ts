/**
 * The byte ranges of one gather write, read-only: what a socket needs from core/media/ViewList (which satisfies
 * this shape), declared here so the port depends on nothing above it. Range i is
 * `sources[i].subarray(offsets[i], offsets[i] + lengths[i])`, for i below `count`.
 */
export interface ByteRanges {
  readonly count: number;
  readonly byteLength: number;
  readonly sources: readonly Uint8Array[];
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
}

/** TLS settings for a client socket. Server verification is always on. */
export interface TlsOptions {
  /** PEM CA bundle to trust instead of the board's default store. */
  readonly ca?: string;
  /** SNI / certificate name to verify (default: host). */
  readonly servername?: string;
  /** PEM client certificate and key, for mTLS (IoT credentials provider, MQTT). */
  readonly cert?: string;
  readonly key?: string;
}

/**
 * A client stream socket in the ECMA-419 shape: options with callbacks, read/write/close, backpressure
 * reported by `write`, nothing delivered after `close`, use after close throws.
 */
export interface SocketOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  /** Connected (and TLS handshake done). */
  onConnect(): void;
  /**
   * Optional, TLS only: TCP is connected and the handshake starts. Boards that cannot tell report only
   * `onConnect`; deadlines then treat connection and handshake as one phase (core/net/PhaseDeadline.ts).
   */
  onTransportConnect?(): void;
  /** `count` bytes are ready for `read`. */
  onReadable(count: number): void;
  /** The send buffer drained below its limit; `count` bytes may be written without queueing. */
  onWritable(count: number): void;
  /**
   * The connection failed or ended; `error` is undefined for an orderly close by the peer. Boards set
   * `error.code` to 'TLS_VERIFY' (TLS_VERIFY_CODE, core/net/socketError.ts) when the server's certificate could not be verified (wrong CA, wrong name,
   * expired), so callers can tell a misconfiguration that retrying cannot fix from a network failure.
   */
  onClose(error: (Error & { code?: string }) | undefined): void;
}

export interface Socket {
  /** Copies up to `length` received bytes into `into` at `offset`; returns the count (0 when none). */
  read(into: Uint8Array, offset: number, length: number): number;
  /** Queues every range of `views` in order (a gather write). Returns the bytes still writable before backpressure (<= 0: wait for onWritable). */
  write(views: ByteRanges): number;
  /**
   * Optional: queues every range of `views` as ONE HTTP/1.1 chunk (RFC 9112 §7.1: the ranges' byte count in lower-case
   * hex, CRLF, the ranges, CRLF) in one gather write; nothing when the ranges hold no byte (a zero-size chunk would end
   * the body). Returns what `write` returns. A board that frames in C has it (the XS board: the uploader's per-frame
   * write, one TLS record per frame with no framing in JS); without it PutMediaConnection frames with ChunkFramer.
   */
  writeChunk?(views: ByteRanges): number;
  close(): void;
}

export type SocketFactory = (options: SocketOptions) => Socket;
