// The Socket port (firmware/io/Socket.ts) over node:net and node:tls, for host tools and Node tests.
import { connect as netConnect, type Socket as NetSocket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TLS_VERIFY_CODE } from '../../core/net/socketError.ts';
import type { ByteRanges, Socket, SocketFactory, SocketOptions } from '../../io/Socket.ts';
import { checkByteRange } from '../../core/checkByteRange.ts';

/** OpenSSL's verification results as Node reports them (error.code), and Node's own name check. */
const CERTIFICATE_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Received bytes queued before the socket stops reading from the kernel (resumed below half of it). */
const READ_QUEUE_LIMIT = 64 * 1024;

/**
 * Opens a client connection: TCP, or TLS when `options.tls` is given. Server verification is always on
 * (`rejectUnauthorized: true`); `tls.ca` replaces the default trust store, `servername` sets SNI and the
 * name verified, `cert`/`key` present a client certificate (mTLS). Connection failures — refused, DNS,
 * certificate verification — arrive as `onClose(error)` with Node's original error.
 */
export const nodeSocket: SocketFactory = (options) => new NodeSocket(options);

class NodeSocket implements Socket {
  private readonly options: SocketOptions;
  private readonly socket: NetSocket;
  private readonly queue: Buffer[] = [];
  private queueHead = 0; // bytes of queue[0] already read
  private queued = 0;
  private paused = false;
  private error: Error | undefined;
  /** close() was called: nothing is delivered any more and use throws. */
  private closed = false;
  /** onClose was delivered: reads drain what is queued, writes throw. */
  private gone = false;

  constructor(options: SocketOptions) {
    if (typeof options.host !== 'string' || options.host.length === 0) throw new TypeError('host must be a non-empty string');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`port must be 1-65535, got ${options.port}`);
    this.options = options;
    const tls = options.tls;
    const socket = tls
      ? tlsConnect({
          host: options.host,
          port: options.port,
          rejectUnauthorized: true,
          ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
          ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
          ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
          ...(tls.key !== undefined ? { key: tls.key } : {}),
        })
      : netConnect({ host: options.host, port: options.port });
    this.socket = socket;
    socket.setNoDelay(true); // chunk headers and small ACK-driven writes must not wait for Nagle
    // A TLSSocket over its own TCP connection emits 'connect' when TCP is up, 'secureConnect' after the handshake.
    if (tls && options.onTransportConnect) {
      socket.once('connect', () => {
        if (!this.closed && !this.gone) options.onTransportConnect?.();
      });
    }
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      if (!this.closed && !this.gone) options.onConnect();
    });
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => {
      if (!this.closed && !this.gone) options.onWritable(this.writable());
    });
    // 'error' is always followed by 'close'; the listener also keeps Node from treating it as unhandled.
    socket.on('error', (err: Error & { code?: string }) => {
      const verify = err.code !== undefined && CERTIFICATE_ERRORS.has(err.code);
      this.error ??= verify ? Object.assign(new Error(`${err.code}: ${err.message}`), { code: TLS_VERIFY_CODE, cause: err }) : err;
    });
    socket.on('close', () => {
      if (this.closed || this.gone) return;
      this.gone = true;
      options.onClose(this.error);
    });
  }

  read(into: Uint8Array, offset: number, length: number): number {
    if (this.closed) throw new Error('read() after close()');
    checkByteRange(into, offset, length);
    let n = 0;
    while (n < length && this.queue.length > 0) {
      const head = this.queue[0]!;
      const take = Math.min(length - n, head.length - this.queueHead);
      into.set(head.subarray(this.queueHead, this.queueHead + take), offset + n);
      n += take;
      this.queueHead += take;
      if (this.queueHead === head.length) {
        this.queue.shift();
        this.queueHead = 0;
      }
    }
    this.queued -= n;
    if (this.paused && this.queued < READ_QUEUE_LIMIT / 2 && !this.gone) {
      this.paused = false;
      this.socket.resume();
    }
    return n;
  }

  /**
   * One gather write. The ranges are copied into one Buffer per call: Node keeps a written buffer until
   * it is flushed, and the caller reuses its scratch (chunk-size line, Matroska block header) as soon as
   * write returns. This is the one copy at the edge; the XS host writes the views directly.
   */
  write(views: ByteRanges): number {
    if (this.closed) throw new Error('write() after close()');
    if (this.gone) throw new Error(`write() after the connection closed${this.error ? `: ${this.error.message}` : ''}`);
    const total = views.byteLength;
    if (total > 0) {
      const out = Buffer.allocUnsafe(total);
      let at = 0;
      for (let i = 0; i < views.count; i++) {
        const source = views.sources[i]!;
        const offset = views.offsets[i]!;
        const length = views.lengths[i]!;
        out.set(source.subarray(offset, offset + length), at);
        at += length;
      }
      this.socket.write(out);
    }
    return this.writable();
  }

  /** Closes at once: pending writes are discarded and no callback runs afterwards. A second close is a no-op. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queued = 0;
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    if (this.closed || this.gone) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.paused && this.queued >= READ_QUEUE_LIMIT) {
      this.paused = true;
      this.socket.pause();
    }
    this.options.onReadable(this.queued);
  }

  private writable(): number {
    return this.socket.writableHighWaterMark - this.socket.writableLength;
  }
}
