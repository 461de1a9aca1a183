// A byte-level guard in front of aedes: it follows the MQTT fixed header of every packet a client sends
// (OASIS mqtt-v3.1.1-os §2.2: one type byte, then the Remaining Length in 1-4 bytes of 7 bits each) and
// drops the connection before a packet larger than the limit is buffered. aedes (through mqtt-packet)
// would otherwise accept packets up to the protocol maximum of 256 MiB. AWS IoT's limit is 128 KiB per
// message ("AWS IoT Core message broker and protocol limits and quotas": message size 128 KB); a larger
// PUBLISH disconnects the client with reason CLIENT_ERROR ("Lifecycle events", disconnectReason table).
import { Duplex } from 'node:stream';

/** AWS IoT Core's maximum MQTT message size (128 KiB), applied to whole packets. */
export const MQTT_MAX_PACKET_BYTES = 128 * 1024;

/** Incremental fixed-header state: where we are inside the current packet. */
const TYPE = 0; // expecting the first byte of a packet
const LENGTH = 1; // inside the Remaining Length bytes
const BODY = 2; // skipping the rest of the packet

export interface FrameGuardOptions {
  /** Largest whole packet (fixed header included) a client may send. */
  readonly maxPacketBytes: number;
  /** Called once, before the connection is destroyed, with why. */
  onViolation(reason: string): void;
}

/**
 * Wraps a connection (a TLS socket, or a WebSocket stream) as the Duplex aedes reads from: bytes pass through
 * unchanged once the guard has seen that the packet they belong to fits the limit. Writes go straight to the
 * inner stream; destroying either side destroys both.
 */
export class MqttFrameGuard extends Duplex {
  readonly inner: Duplex;
  private readonly options: FrameGuardOptions;
  private state = TYPE;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(inner: Duplex, options: FrameGuardOptions) {
    super({ allowHalfOpen: false });
    if (!(Number.isInteger(options.maxPacketBytes) && options.maxPacketBytes >= 2)) {
      throw new RangeError(`MqttFrameGuard: maxPacketBytes must be an integer ≥ 2, got ${options.maxPacketBytes}`);
    }
    this.inner = inner;
    this.options = options;
    inner.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      const problem = this.check(chunk);
      if (problem) {
        this.options.onViolation(problem);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.once('end', () => this.push(null));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.once('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** Walks the fixed headers in `chunk`; returns why the connection must be dropped, or undefined. */
  private check(chunk: Buffer): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === BODY) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) this.state = TYPE;
        continue;
      }
      if (this.state === TYPE) {
        i++;
        this.state = LENGTH;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      const byte = chunk[i++]!;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        // §2.2.3: at most four bytes; a fifth continuation is a malformed packet.
        if (this.lengthBytes === 4) return 'malformed Remaining Length (more than 4 bytes, MQTT 3.1.1 §2.2.3)';
        continue;
      }
      const total = 1 + this.lengthBytes + this.length;
      if (total > this.options.maxPacketBytes) {
        return `packet of ${total} bytes exceeds the ${this.options.maxPacketBytes}-byte limit`;
      }
      this.remaining = this.length;
      this.state = this.remaining === 0 ? TYPE : BODY;
    }
    return undefined;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) {
      callback(new Error('connection closed'));
      return;
    }
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(err);
  }
}
