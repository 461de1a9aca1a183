import { utf8Length, writeUtf8 } from '../text/utf8.ts';
import { uintWidth, writeUintBE } from './uintBE.ts';
import { vintMax, vintWidth, writeUnknownVint, writeVint } from './vint.ts';

/** Deepest master nesting the builder tracks (Tags > Tag > SimpleTag is 3; the header needs 4). */
const MAX_DEPTH = 8;
/** Octets reserved for a master's size when its width is chosen at `end()`; shrunk to the minimum then. */
const RESERVED_SIZE_WIDTH = 8;

/**
 * Writes EBML elements into one buffer allocated at construction: element IDs, Element Data Sizes
 * (minimal or forced width, RFC 8794 §6), unsigned integers, UTF-8 strings, binary, and nested masters
 * whose sizes are back-patched by `end()`. Used when templates are built (header, Tags), never per frame.
 * `reset()` reuses the buffer, so re-encoding metadata allocates nothing.
 */
export class EbmlBuilder {
  readonly buffer: Uint8Array;
  private pos = 0;
  private depth = 0;
  private readonly openSizeAt = new Uint32Array(MAX_DEPTH);
  private readonly openWidth = new Uint8Array(MAX_DEPTH);
  private readonly openShrinks = new Uint8Array(MAX_DEPTH);

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.buffer = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  reset(): this {
    this.pos = 0;
    this.depth = 0;
    return this;
  }

  private room(n: number): void {
    if (this.pos + n > this.buffer.length) {
      throw new RangeError(`EbmlBuilder capacity ${this.buffer.length} exceeded (${this.pos} + ${n})`);
    }
  }

  /** An Element ID as it appears on the wire, marker bits included (1-4 octets, RFC 8794 §5). */
  id(id: number): this {
    if (!Number.isInteger(id) || id < 0x81 || id > 0x1ffffffe) throw new RangeError(`id: 0x${id.toString(16)} is not an EBML ID`);
    const width = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
    // The leading octet's first set bit is the VINT marker, and it must match the width.
    const lead = id >>> (8 * (width - 1));
    if (lead < 0x80 >> (width - 1) || lead >= 0x100 >> (width - 1)) {
      throw new RangeError(`id: 0x${id.toString(16)} has no VINT marker for ${width} octets`);
    }
    this.room(width);
    this.pos = writeUintBE(this.buffer, this.pos, id, width);
    return this;
  }

  /** An Element Data Size: minimal width unless `width` forces one (for templates patched in place). */
  size(value: number, width = vintWidth(value)): this {
    this.room(width);
    this.pos = writeVint(this.buffer, this.pos, value, width);
    return this;
  }

  /** The reserved unknown size (RFC 8794 §6.2) in `width` octets. */
  unknownSize(width: number): this {
    this.room(width);
    this.pos = writeUnknownVint(this.buffer, this.pos, width);
    return this;
  }

  /** One raw octet (SimpleBlock header fields, which are not EBML elements). */
  u8(value: number): this {
    this.room(1);
    this.buffer[this.pos++] = value & 0xff;
    return this;
  }

  /** An Unsigned Integer element, minimal octets unless `width` forces them. */
  uint(id: number, value: number, width = uintWidth(value)): this {
    this.id(id).size(width);
    this.room(width);
    this.pos = writeUintBE(this.buffer, this.pos, value, width);
    return this;
  }

  /** A UTF-8 (or ASCII String) element; the caller validates ASCII where the schema demands it. */
  string(id: number, value: string): this {
    const n = utf8Length(value);
    this.id(id).size(n);
    this.room(n);
    this.pos += writeUtf8(value, this.buffer, this.pos);
    return this;
  }

  binary(id: number, value: Uint8Array): this {
    this.id(id).size(value.length);
    this.room(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** Opens a master element; `end()` writes its size, in `width` octets or the fewest that fit. */
  begin(id: number, width = 0): this {
    if (this.depth === MAX_DEPTH) throw new RangeError(`EbmlBuilder nesting deeper than ${MAX_DEPTH}`);
    if (!Number.isInteger(width) || width < 0 || width > 8) throw new RangeError(`width: ${width} is not 0-8`);
    this.id(id);
    const reserved = width === 0 ? RESERVED_SIZE_WIDTH : width;
    this.room(reserved);
    this.openSizeAt[this.depth] = this.pos;
    this.openWidth[this.depth] = reserved;
    this.openShrinks[this.depth] = width === 0 ? 1 : 0;
    this.depth++;
    this.pos += reserved;
    return this;
  }

  /** Closes the innermost master opened by `begin()`. */
  end(): this {
    if (this.depth === 0) throw new RangeError('end() without begin()');
    this.depth--;
    const sizeAt = this.openSizeAt[this.depth]!;
    const reserved = this.openWidth[this.depth]!;
    const contentStart = sizeAt + reserved;
    const contentLength = this.pos - contentStart;
    let width = reserved;
    if (this.openShrinks[this.depth] === 1) {
      width = vintWidth(contentLength);
      if (width < reserved) {
        // Children are complete (their own sizes already written), so moving them is safe.
        this.buffer.copyWithin(sizeAt + width, contentStart, this.pos);
        this.pos -= reserved - width;
      }
    } else if (contentLength > vintMax(width)) {
      throw new RangeError(`master content ${contentLength} does not fit a ${width}-octet size`);
    }
    writeVint(this.buffer, sizeAt, contentLength, width);
    return this;
  }

  /** Opens a master of unknown size (Segment, Cluster: live streams, RFC 8794 §6.2); it is never closed. */
  beginUnknown(id: number, width: number): this {
    return this.id(id).unknownSize(width);
  }

  /** View of the bytes written (valid until the next `reset()`). */
  bytes(): Uint8Array {
    if (this.depth !== 0) throw new RangeError(`${this.depth} master element(s) still open`);
    return this.buffer.subarray(0, this.pos);
  }

  /** A right-sized copy of the bytes written (for templates kept for the writer's lifetime). */
  toUint8Array(): Uint8Array {
    return this.bytes().slice();
  }
}
