import { TLS_VERIFY_CODE } from '../../core/net/socketError.ts';
import type { ByteRanges, Socket, SocketFactory, SocketOptions } from '../../io/Socket.ts';
import { host } from './native.ts';
import { xsLoop } from './xsLoop.ts';

/**
 * The Socket port over the host's non-blocking TCP + mbedTLS. Writes are gather writes: the host reads each
 * range of the ViewList from the pool slot or scratch it lives in (no JS copy). Connection failures, TLS
 * verification failures and resets arrive as `onClose(error)` with the host's message ("TLS_VERIFY: …").
 */
/** The host's "CODE: text" message as an Error; certificate failures carry the port's TLS_VERIFY_CODE. */
function hostError(message: string): Error & { code?: string } {
  const error: Error & { code?: string } = new Error(message);
  const colon = message.indexOf(':');
  if (colon > 0) error.code = message.slice(0, colon);
  if (error.code === 'TLS_VERIFY') error.code = TLS_VERIFY_CODE;
  return error;
}

export const xsSocket: SocketFactory = (options) => new XsSocket(options);

class XsSocket implements Socket {
  private readonly handle: number;
  private closed = false;
  private gone: (Error & { code?: string }) | undefined | null = null; // null: open; otherwise onClose was delivered (with its error)

  constructor(options: SocketOptions) {
    if (typeof options.host !== 'string' || options.host.length === 0) throw new TypeError('host must be a non-empty string');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`port must be 1-65535, got ${options.port}`);
    const tls = options.tls;
    if (tls && tls.ca === undefined) throw new TypeError('tls.ca is required on this board: it has no default trust store');
    this.handle = tls
      ? host().socketOpen(options.host, options.port, {
          ca: tls.ca!,
          ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
          ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
          ...(tls.key !== undefined ? { key: tls.key } : {}),
        })
      : host().socketOpen(options.host, options.port);
    xsLoop.addSocket(this.handle, {
      connected: () => options.onConnect(),
      readable: (count) => options.onReadable(count),
      writable: (count) => options.onWritable(count),
      closed: (message) => {
        this.gone = message === undefined ? undefined : hostError(message);
        xsLoop.removeSocket(this.handle);
        options.onClose(this.gone);
      },
    });
  }

  read(into: Uint8Array, offset: number, length: number): number {
    if (this.closed) throw new Error('read() after close()');
    return host().socketRead(this.handle, into, offset, length);
  }

  write(views: ByteRanges): number {
    if (this.closed) throw new Error('write() after close()');
    if (this.gone !== null) throw new Error(`write() after the connection closed${this.gone ? `: ${this.gone.message}` : ''}`);
    return host().socketWrite(this.handle, views.sources, views.offsets, views.lengths, views.count);
  }

  /** The uploader's per-frame write: the chunk framed in C (net.c socketWriteChunk), the same checks as write. */
  writeChunk(views: ByteRanges): number {
    if (this.closed || this.gone !== null) return this.write(views); // throws with write's message
    return host().socketWriteChunk(this.handle, views.sources, views.offsets, views.lengths, views.count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    xsLoop.removeSocket(this.handle);
    host().socketClose(this.handle);
  }
}
