import { FieldcamError } from '../errors.ts';
import { MAX_REMAINING_LENGTH, PACKET_TYPE } from './mqttConstants.ts';
import type { MqttInbound, PublishRecord } from './MqttInbound.ts';
import { checkFirstByte, checkRemainingLength, parseInbound } from './parseInbound.ts';
import { checkByteRange } from '../checkByteRange.ts';

export interface MqttDecoderOptions {
  /** One decoded packet; a PUBLISH payload is valid only during the call. */
  onPacket(packet: MqttInbound): void;
  /** Largest whole packet accepted (fixed header included); the body buffer is this big. */
  readonly maxPacketBytes?: number;
  /**
   * A PUBLISH larger than maxPacketBytes: its head (topic, Packet Identifier, the start of the payload) is
   * kept in the body buffer, the rest skipped as it arrives, and the record delivered here with its payload
   * cut short. The client can then acknowledge and refuse that one message and keep the connection: dropped
   * with the connection, a QoS 1 message is re-delivered on the next one, forever. Without this option such
   * a packet throws MQTT_PACKET_TOO_LARGE like any other.
   */
  onOversizePublish?(packet: PublishRecord, packetBytes: number): void;
}

export const MQTT_DECODER_DEFAULTS = Object.freeze({ maxPacketBytes: 16_384 } as const);

// States: the first byte, the Remaining Length varint, the body being buffered, failed.
const FIRST = 0;
const LENGTH = 1;
const BODY = 2;
const FAILED = 3;
const SKIP = 4; // an oversized PUBLISH: its head kept, the rest skipped

/** Remaining Length takes at most four bytes (§2.2.3). */
const MAX_LENGTH_BYTES = 4;

/**
 * An incremental, bounded decoder of the packets an MQTT 3.1.1 broker sends to a QoS 0/1 client (CONNACK,
 * PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP), fed whatever the socket delivers, split anywhere.
 *
 * Each packet is checked as early as possible: the type and flags on the first byte (§2.2.1, §2.2.2), the
 * Remaining Length on its last byte (at most four bytes, §2.2.3; the size the type allows; `maxPacketBytes`)
 * — so nothing past a bad header is buffered — and the body once complete (strings §1.5.3, topic names
 * §4.7, packet identifiers §2.3.1, return codes). A packet that arrives whole inside one chunk is decoded in
 * place (its PUBLISH payload is a view of the caller's array); otherwise its body is gathered into one buffer
 * allocated at construction. Records themselves are small objects, one per packet.
 *
 * Any malformation throws a FieldcamError (MQTT_MALFORMED, MQTT_PACKET_TOO_LARGE, MQTT_PROTOCOL_VIOLATION)
 * from `push`, and so does an exception thrown by `onPacket`. The decoder is then unusable — the stream
 * position is lost — and further pushes throw MQTT_CALL_ORDER: the client drops the connection (§4.8) and
 * calls `reset()` for the next one.
 */
export class MqttDecoder {
  readonly maxPacketBytes: number;
  private readonly onPacket: (packet: MqttInbound) => void;
  private readonly onOversize: ((packet: PublishRecord, packetBytes: number) => void) | undefined;
  private readonly body: Uint8Array;
  private state = FIRST;
  private first = 0;
  private remaining = 0;
  private lengthBytes = 0;
  private filled = 0;
  private skipped = 0;
  private busy = false;

  constructor(options: MqttDecoderOptions) {
    const max = options.maxPacketBytes ?? MQTT_DECODER_DEFAULTS.maxPacketBytes;
    if (!Number.isInteger(max) || max < 2 || max > MAX_REMAINING_LENGTH + 1 + MAX_LENGTH_BYTES) {
      throw new RangeError(`maxPacketBytes must be an integer in 2..${MAX_REMAINING_LENGTH + 5}, got ${max}`);
    }
    this.maxPacketBytes = max;
    this.onPacket = options.onPacket;
    this.onOversize = options.onOversizePublish;
    this.body = new Uint8Array(max - 2); // the fixed header takes at least two bytes
  }

  /** True while part of a packet is held (a packet cut off at close); false between packets. */
  get pending(): boolean {
    return this.state !== FIRST;
  }

  /** Consumes `bytes[offset..offset+length)`, calling onPacket for each packet it completes. */
  push(bytes: Uint8Array, offset = 0, length: number = bytes.length - offset): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    checkByteRange(bytes, offset, length);
    if (this.busy) throw new FieldcamError('MQTT_CALL_ORDER', 'push() was called from inside onPacket');
    if (this.state === FAILED) throw new FieldcamError('MQTT_CALL_ORDER', 'the decoder failed on an earlier packet; drop the connection and reset()');
    this.busy = true;
    try {
      this.consume(bytes, offset, offset + length);
    } catch (err) {
      this.state = FAILED;
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /** Forgets any partial packet and a failure: the state of a new connection. The buffer is kept. */
  reset(): void {
    if (this.busy) throw new FieldcamError('MQTT_CALL_ORDER', 'reset() was called from inside onPacket');
    this.state = FIRST;
    this.remaining = 0;
    this.lengthBytes = 0;
    this.filled = 0;
    this.skipped = 0;
  }

  private consume(bytes: Uint8Array, p: number, end: number): void {
    while (p < end) {
      if (this.state === FIRST) {
        const first = bytes[p++]!;
        checkFirstByte(first);
        this.first = first;
        this.remaining = 0;
        this.lengthBytes = 0;
        this.state = LENGTH;
      } else if (this.state === LENGTH) {
        const b = bytes[p++]!;
        // Little-endian base-128 digits (§2.2.3); the multiplier is 128^(digits so far).
        this.remaining += (b & 0x7f) * 128 ** this.lengthBytes;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes === MAX_LENGTH_BYTES) throw new FieldcamError('MQTT_MALFORMED', 'the Remaining Length runs past four bytes (§2.2.3)');
          continue;
        }
        const total = 1 + this.lengthBytes + this.remaining;
        if (total > this.maxPacketBytes && (this.first >> 4 !== PACKET_TYPE.PUBLISH || !this.onOversize)) {
          throw new FieldcamError('MQTT_PACKET_TOO_LARGE', `a ${total}-byte packet (type ${this.first >> 4}) exceeds maxPacketBytes ${this.maxPacketBytes}`);
        }
        checkRemainingLength(this.first, this.remaining);
        if (total > this.maxPacketBytes) {
          this.filled = 0;
          this.skipped = 0;
          this.state = SKIP;
          continue;
        }
        if (end - p >= this.remaining) {
          // The whole body is in this chunk: decode it in place.
          const from = p;
          p += this.remaining;
          this.state = FIRST;
          this.onPacket(parseInbound(this.first, bytes, from, p));
        } else {
          this.filled = 0;
          this.state = BODY;
        }
      } else if (this.state === SKIP) {
        const n = Math.min(this.remaining - this.skipped, end - p);
        const keep = Math.min(n, this.body.length - this.filled);
        if (keep > 0) this.body.set(bytes.subarray(p, p + keep), this.filled);
        this.filled += keep;
        this.skipped += n;
        p += n;
        if (this.skipped === this.remaining) {
          this.state = FIRST;
          // A topic longer than the kept head fails here as malformed: the connection is dropped after all.
          const head = parseInbound(this.first, this.body, 0, this.filled) as PublishRecord;
          this.onOversize!(head, 1 + this.lengthBytes + this.remaining);
        }
      } else {
        const n = Math.min(this.remaining - this.filled, end - p);
        // One native copy per chunk (a view object, no byte loop: XS interprets loops byte by byte).
        this.body.set(bytes.subarray(p, p + n), this.filled);
        this.filled += n;
        p += n;
        if (this.filled === this.remaining) {
          this.state = FIRST;
          this.onPacket(parseInbound(this.first, this.body, 0, this.remaining));
        }
      }
    }
  }
}
