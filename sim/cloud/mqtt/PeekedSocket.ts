// A TLS socket whose first bytes were already read (to tell MQTT from HTTP), as a plain Duplex that replays
// them first. Node's HTTP server takes any Duplex injected with `emit('connection', …)` (node:http, event
// 'connection'), but given the TLSSocket itself it reads straight from the socket's handle and never sees
// bytes put back with unshift(). ws calls the few net.Socket methods it needs (setTimeout, setNoDelay) on the
// upgraded connection: they are passed on to the real socket.
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

export class PeekedSocket extends Duplex {
  readonly socket: TLSSocket;

  constructor(socket: TLSSocket, first: Buffer) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.push(first);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.on('error', (err: Error) => this.destroy(err));
    socket.once('close', () => {
      if (!this.destroyed) this.destroy();
    });
    socket.resume();
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.socket.setTimeout(ms, callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delayMs?: number): this {
    this.socket.setKeepAlive(enable, delayMs);
    return this;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) {
      callback(new Error('connection closed'));
      return;
    }
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}
