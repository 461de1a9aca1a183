import { FieldcamError } from '../hostErrors.ts';
import { EBML_GLOBAL_IDS, EBML_ROOT, type EbmlSchema, MATROSKA_SCHEMA } from './EbmlReaderSchema.ts';

export { EBML_GLOBAL_IDS, EBML_ROOT, MATROSKA_SCHEMA, type EbmlSchema } from './EbmlReaderSchema.ts';

/** What `next()` reports. */
export const EBML_EVENT = Object.freeze({
  /** Every pushed byte is consumed: `push()` more, or `end()`. */
  NEED_MORE: 0,
  /** An element header was read: `id`, `size`, `headerLength`, `offset`, `depth`. Choose what to do with it. */
  START: 1,
  /** The bytes asked for by `read()` / `readHead()` are in `value` (valid until the next call). */
  VALUE: 2,
  /** A master that was descended into ended: `id`, `offset` = the position after its last byte, `size`, `depth`. */
  END: 3,
  /** `end()` was called and every open master has ended. */
  DONE: 4,
} as const);
export type EbmlEvent = (typeof EBML_EVENT)[keyof typeof EBML_EVENT];

/** `size` of an element whose Element Data Size is the reserved "unknown" value (RFC 8794 §6.2). */
export const UNKNOWN_SIZE = -1;

/** RFC 8794 §5 and §6: EBMLMaxIDLength 4 and EBMLMaxSizeLength 8, the Matroska (and EBML default) values. */
const MAX_ID_LENGTH = 4;
const MAX_SIZE_LENGTH = 8;

export interface EbmlReaderOptions {
  /** Which masters may contain which IDs; ends unknown-size masters (default: MATROSKA_SCHEMA). */
  readonly schema?: EbmlSchema;
  /** Deepest nesting of descended masters (default 16). */
  readonly maxDepth?: number;
  /** Largest known Element Data Size accepted, in bytes (default 2^32). */
  readonly maxElementBytes?: number;
  /** Largest value `read()` buffers; the scratch is allocated once (default 4096). */
  readonly maxValueBytes?: number;
}

const STATE = Object.freeze({ HEADER: 0, PENDING: 1, SKIP: 2, READ: 3, DONE: 4, FAILED: 5 } as const);
type State = (typeof STATE)[keyof typeof STATE];
const NO_BYTES = new Uint8Array(0);

/**
 * An incremental, bounded EBML reader (RFC 8794). Bytes arrive through `push()` in any split; `next()`
 * reports one event at a time and returns NEED_MORE once the pushed bytes are consumed, so the caller
 * drives it with `while ((e = r.next()) !== EBML_EVENT.NEED_MORE) …` after every push.
 *
 * After a START the caller chooses: `descend()` into a master (its children follow, then END), `skip()`
 * its data, `read()` its whole value or `readHead(n)` its first bytes (VALUE follows; the rest is skipped).
 * Without a choice, unknown-size elements are descended and known-size ones skipped.
 *
 * An unknown-size master ends where an element appears that is not its child but belongs to an enclosing
 * level (RFC 8794 §6.2; Matroska live Segments and Clusters), at its parent's end, or at `end()`.
 * Element fields are plain properties updated per event; the only per-event allocation is the VALUE view
 * (a subarray). Errors are FieldcamError EBML_*; after a data error every call rethrows it.
 */
export class EbmlReader {
  /** Fields of the current event. `size` is UNKNOWN_SIZE for an unknown-size element at START. */
  id = 0;
  size = 0;
  headerLength = 0;
  /** Absolute offset of the element's first ID byte (START, VALUE); of the byte after it (END). */
  offset = 0;
  /** Number of descended masters enclosing the element (0 = top level). */
  depth = 0;
  /** VALUE bytes: a view into the pushed chunk or the reader's scratch, valid until the next call. */
  value: Uint8Array = NO_BYTES;

  private readonly schema: EbmlSchema;
  private readonly maxDepth: number;
  private readonly maxElementBytes: number;
  private readonly scratch: Uint8Array;
  private readonly header = new Uint8Array(MAX_ID_LENGTH + MAX_SIZE_LENGTH);

  // Open masters: ID, data start, own end (-1 = unknown size) and effective end (own, else the parent's).
  private readonly stackId: number[];
  private readonly stackStart: number[];
  private readonly stackEnd: number[];
  private readonly stackBound: number[];
  private sp = 0;

  private chunk: Uint8Array = NO_BYTES;
  private cp = 0;
  private pos = 0;
  private ended = false;
  private state: State = STATE.HEADER;
  private error: FieldcamError | undefined;

  // Header being gathered; `headerReady` once complete but not yet placed (it may first end masters).
  private headerFill = 0;
  private headerNeed = 1;
  private headerReady = false;
  private pendingId = 0;
  private pendingSize = 0;
  private pendingOffset = 0;
  private pendingHeaderLength = 0;

  // SKIP / READ progress.
  private remaining = 0;
  private readWant = 0;
  private readFill = 0;
  private skipAfterRead = 0;

  constructor(options: EbmlReaderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const maxDepth = options.maxDepth ?? 16;
    const maxElementBytes = options.maxElementBytes ?? 2 ** 32;
    const maxValueBytes = options.maxValueBytes ?? 4096;
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 64) throw new RangeError(`maxDepth must be an integer 1-64, got ${String(maxDepth)}`);
    if (!Number.isSafeInteger(maxElementBytes) || maxElementBytes < 0) {
      throw new RangeError(`maxElementBytes must be a non-negative safe integer, got ${String(maxElementBytes)}`);
    }
    if (!Number.isInteger(maxValueBytes) || maxValueBytes < 1 || maxValueBytes > 16 * 1024 * 1024) {
      throw new RangeError(`maxValueBytes must be an integer 1-16777216, got ${String(maxValueBytes)}`);
    }
    this.schema = options.schema ?? MATROSKA_SCHEMA;
    this.maxDepth = maxDepth;
    this.maxElementBytes = maxElementBytes;
    this.scratch = new Uint8Array(maxValueBytes);
    this.stackId = new Array<number>(maxDepth).fill(0);
    this.stackStart = new Array<number>(maxDepth).fill(0);
    this.stackEnd = new Array<number>(maxDepth).fill(0);
    this.stackBound = new Array<number>(maxDepth).fill(0);
  }

  /** Absolute offset of the next byte to be consumed (bytes before it have been accounted for). */
  get position(): number {
    return this.pos;
  }

  /**
   * Absolute offset of the first byte not yet reported: `position`, except while an element header is split
   * across pushes, when its first bytes are consumed but its START is still to come — then the header's
   * first byte. A caller that keeps the stream's bytes by offset (the emulator's PutMedia window) may drop
   * everything before this, never before it.
   */
  get reportedPosition(): number {
    return this.headerFill > 0 || this.headerReady ? this.pendingOffset : this.pos;
  }

  /** Masters currently open (descended and not yet ended). */
  get openDepth(): number {
    return this.sp;
  }

  /** ID of the open master at `level` (0 = outermost); undefined past the open depth. */
  openId(level: number): number | undefined {
    return level >= 0 && level < this.sp ? this.stackId[level] : undefined;
  }

  /** Hands the reader the next bytes; the previous chunk must have been consumed (NEED_MORE). */
  push(chunk: Uint8Array): void {
    this.check();
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    if (this.ended) throw this.fail('EBML_CALL_ORDER', 'push() after end()');
    if (this.cp < this.chunk.length) throw this.fail('EBML_CALL_ORDER', `push() with ${this.chunk.length - this.cp} bytes of the previous chunk unread`);
    this.chunk = chunk;
    this.cp = 0;
  }

  /** No more bytes: open unknown-size masters end here; anything cut short is EBML_TRUNCATED (from `next()`). */
  end(): void {
    this.check();
    this.ended = true;
  }

  /** Enters the master just started: its children are reported next, then its END. */
  descend(): void {
    this.decide();
    if (this.sp >= this.maxDepth) throw this.fail('EBML_TOO_DEEP', `element 0x${hex(this.id)} at ${this.offset} would be nested deeper than ${this.maxDepth}`);
    const start = this.offset + this.headerLength;
    const own = this.size === UNKNOWN_SIZE ? -1 : start + this.size;
    const i = this.sp++;
    this.stackId[i] = this.id;
    this.stackStart[i] = start;
    this.stackEnd[i] = own;
    this.stackBound[i] = own >= 0 ? own : i > 0 ? this.stackBound[i - 1]! : -1;
    this.state = STATE.HEADER;
  }

  /** Passes over the data of the element just started (known size only). */
  skip(): void {
    this.decide();
    this.requireKnownSize('skipped');
    this.remaining = this.size;
    this.state = STATE.SKIP;
  }

  /** Buffers the whole value of the element just started (at most `maxValueBytes`); VALUE follows. */
  read(): void {
    this.decide();
    this.requireKnownSize('read');
    if (this.size > this.scratch.length) {
      throw this.fail('EBML_VALUE_TOO_LARGE', `element 0x${hex(this.id)} at ${this.offset} holds ${this.size} bytes; at most ${this.scratch.length} are read`);
    }
    this.startRead(this.size, 0);
  }

  /** Reads the first `n` bytes of the element just started (fewer if it is shorter); VALUE follows, the rest is skipped. */
  readHead(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.scratch.length) throw new RangeError(`n must be an integer 0-${this.scratch.length}, got ${String(n)}`);
    this.decide();
    this.requireKnownSize('read');
    const want = n < this.size ? n : this.size;
    this.startRead(want, this.size - want);
  }

  next(): EbmlEvent {
    this.check();
    if (this.state === STATE.PENDING) {
      // No choice made: the only thing to do with an unknown size is to descend.
      if (this.size === UNKNOWN_SIZE) this.descend();
      else this.skip();
    }
    try {
      return this.step();
    } catch (err) {
      if (err instanceof FieldcamError && this.error === undefined) this.error = err;
      this.state = STATE.FAILED;
      throw err;
    }
  }

  private step(): EbmlEvent {
    for (;;) {
      switch (this.state) {
        case STATE.SKIP: {
          const n = Math.min(this.remaining, this.chunk.length - this.cp);
          this.cp += n;
          this.pos += n;
          this.remaining -= n;
          if (this.remaining > 0) return this.starved(`the data ends ${this.remaining} bytes before the end of element 0x${hex(this.id)}`);
          this.state = STATE.HEADER;
          break;
        }
        case STATE.READ: {
          const want = this.readWant;
          const available = this.chunk.length - this.cp;
          if (this.readFill === 0 && available >= want) {
            // The whole value is in this chunk: hand out a view, copy nothing.
            this.value = this.chunk.subarray(this.cp, this.cp + want);
            this.cp += want;
            this.pos += want;
          } else {
            const n = Math.min(want - this.readFill, available);
            this.scratch.set(this.chunk.subarray(this.cp, this.cp + n), this.readFill);
            this.readFill += n;
            this.cp += n;
            this.pos += n;
            if (this.readFill < want) return this.starved(`the data ends inside element 0x${hex(this.id)}`);
            this.value = this.scratch.subarray(0, want);
          }
          this.remaining = this.skipAfterRead;
          this.state = this.remaining > 0 ? STATE.SKIP : STATE.HEADER;
          return EBML_EVENT.VALUE;
        }
        case STATE.HEADER: {
          const event = this.headerStep();
          if (event !== undefined) return event;
          break;
        }
        case STATE.DONE:
          return EBML_EVENT.DONE;
        default:
          throw new Error(`EbmlReader: unexpected state ${this.state}`);
      }
    }
  }

  /** One step of the HEADER state; undefined when it moved to another state without an event. */
  private headerStep(): EbmlEvent | undefined {
    if (!this.headerReady) {
      if (this.headerFill === 0 && this.sp > 0 && this.stackBound[this.sp - 1] === this.pos) return this.pop();
      if (!this.gatherHeader()) {
        if (!this.ended) return EBML_EVENT.NEED_MORE;
        if (this.headerFill > 0) throw this.fail('EBML_TRUNCATED', `the data ends inside the element header at ${this.pendingOffset}`);
        if (this.sp === 0) {
          this.state = STATE.DONE;
          return EBML_EVENT.DONE;
        }
        const bound = this.stackBound[this.sp - 1]!;
        if (bound >= 0) {
          throw this.fail('EBML_TRUNCATED', `the data ends ${bound - this.pos} bytes before the end of element 0x${hex(this.stackId[this.sp - 1]!)}`);
        }
        return this.pop();
      }
      this.headerReady = true;
    }
    const id = this.pendingId;
    // RFC 8794 §6.2: an unknown-size master ends at the first element that is not one of its children.
    if (this.sp > 0 && this.stackEnd[this.sp - 1]! < 0 && !this.isChild(id, this.stackId[this.sp - 1]!)) {
      if (!this.belongsAbove(id)) {
        throw this.fail(
          'EBML_ELEMENT_MISPLACED',
          `element 0x${hex(id)} at ${this.pendingOffset} cannot appear in 0x${hex(this.stackId[this.sp - 1]!)} nor in any enclosing element`,
        );
      }
      return this.pop();
    }
    const size = this.pendingSize;
    const dataStart = this.pendingOffset + this.pendingHeaderLength;
    if (size !== UNKNOWN_SIZE && size > this.maxElementBytes) {
      throw this.fail('EBML_ELEMENT_TOO_LARGE', `element 0x${hex(id)} at ${this.pendingOffset} is ${size} bytes; at most ${this.maxElementBytes} accepted`);
    }
    const bound = this.sp > 0 ? this.stackBound[this.sp - 1]! : -1;
    if (bound >= 0 && (dataStart > bound || (size !== UNKNOWN_SIZE && dataStart + size > bound))) {
      throw this.fail(
        'EBML_ELEMENT_OVERFLOW',
        `element 0x${hex(id)} at ${this.pendingOffset} runs past the end of its parent 0x${hex(this.stackId[this.sp - 1]!)} at ${bound}`,
      );
    }
    this.headerReady = false;
    this.headerFill = 0;
    this.headerNeed = 1;
    this.id = id;
    this.size = size;
    this.offset = this.pendingOffset;
    this.headerLength = this.pendingHeaderLength;
    this.depth = this.sp;
    this.state = STATE.PENDING;
    return EBML_EVENT.START;
  }

  /** Copies header bytes from the chunk until the ID and size are complete; false when the chunk ran out. */
  private gatherHeader(): boolean {
    const h = this.header;
    while (this.headerFill < this.headerNeed) {
      if (this.cp >= this.chunk.length) return false;
      if (this.headerFill === 0) this.pendingOffset = this.pos;
      const b = this.chunk[this.cp++]!;
      this.pos++;
      h[this.headerFill++] = b;
      if (this.headerFill === 1) {
        const width = vintWidth(b);
        if (width > MAX_ID_LENGTH)
          throw this.fail('EBML_ID_INVALID', `the Element ID at ${this.pendingOffset} starts with 0x${hex(b)}: longer than ${MAX_ID_LENGTH} octets`);
        this.headerNeed = width + 1;
      } else if (this.headerFill === vintWidth(h[0]!) + 1) {
        // The first octet of the Element Data Size: its width completes the header length.
        const width = vintWidth(b);
        if (width > MAX_SIZE_LENGTH)
          throw this.fail('EBML_SIZE_INVALID', `the Element Data Size at ${this.pos - 1} starts with 0x00: longer than ${MAX_SIZE_LENGTH} octets`);
        this.headerNeed += width - 1;
      }
    }
    this.decodeHeader();
    return true;
  }

  private decodeHeader(): void {
    const h = this.header;
    const idWidth = vintWidth(h[0]!);
    let id = 0;
    let data = h[0]! & (0xff >> idWidth);
    let allOnes = data === 0xff >> idWidth;
    let allZeros = data === 0;
    for (let i = 0; i < idWidth; i++) id = id * 256 + h[i]!;
    for (let i = 1; i < idWidth; i++) {
      if (h[i] !== 0xff) allOnes = false;
      if (h[i] !== 0) allZeros = false;
    }
    if (allOnes || allZeros) {
      throw this.fail('EBML_ID_INVALID', `the Element ID 0x${hex(id)} at ${this.pendingOffset} is reserved (VINT_DATA all ${allOnes ? 'ones' : 'zeros'})`);
    }
    const sizeWidth = vintWidth(h[idWidth]!);
    data = h[idWidth]! & (0xff >> sizeWidth);
    allOnes = data === 0xff >> sizeWidth;
    let size = data;
    for (let i = 1; i < sizeWidth; i++) {
      const b = h[idWidth + i]!;
      size = size * 256 + b;
      if (b !== 0xff) allOnes = false;
    }
    this.pendingId = id;
    this.pendingSize = allOnes ? UNKNOWN_SIZE : size;
    this.pendingHeaderLength = idWidth + sizeWidth;
  }

  private isChild(id: number, parent: number): boolean {
    if (EBML_GLOBAL_IDS.includes(id)) return true;
    const parents = this.schema.get(id);
    return parents === undefined || parents.includes(parent); // unknown IDs stay inside (skippable if sized)
  }

  /** True when `id` may appear at the top level or in a master enclosing the innermost open one. */
  private belongsAbove(id: number): boolean {
    const parents = this.schema.get(id)!;
    if (parents.includes(EBML_ROOT)) return true;
    for (let i = this.sp - 2; i >= 0; i--) if (parents.includes(this.stackId[i]!)) return true;
    return false;
  }

  private pop(): EbmlEvent {
    const i = --this.sp;
    this.id = this.stackId[i]!;
    this.offset = this.headerFill > 0 || this.headerReady ? this.pendingOffset : this.pos;
    this.size = this.offset - this.stackStart[i]!;
    this.headerLength = 0;
    this.depth = i;
    return EBML_EVENT.END;
  }

  private startRead(want: number, skipAfter: number): void {
    this.readWant = want;
    this.readFill = 0;
    this.skipAfterRead = skipAfter;
    this.state = STATE.READ;
  }

  private starved(truncated: string): EbmlEvent {
    if (this.ended) throw this.fail('EBML_TRUNCATED', truncated);
    return EBML_EVENT.NEED_MORE;
  }

  private decide(): void {
    this.check();
    if (this.state !== STATE.PENDING) throw this.fail('EBML_CALL_ORDER', 'descend(), skip() and read() apply only right after a START event');
  }

  private requireKnownSize(what: string): void {
    if (this.size === UNKNOWN_SIZE) {
      throw this.fail('EBML_UNKNOWN_SIZE_INVALID', `element 0x${hex(this.id)} at ${this.offset} has an unknown size and cannot be ${what}; only masters may`);
    }
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
  }

  private fail(
    code:
      | 'EBML_CALL_ORDER'
      | 'EBML_ID_INVALID'
      | 'EBML_SIZE_INVALID'
      | 'EBML_ELEMENT_TOO_LARGE'
      | 'EBML_TOO_DEEP'
      | 'EBML_ELEMENT_OVERFLOW'
      | 'EBML_UNKNOWN_SIZE_INVALID'
      | 'EBML_ELEMENT_MISPLACED'
      | 'EBML_VALUE_TOO_LARGE'
      | 'EBML_TRUNCATED',
    message: string,
  ): FieldcamError {
    const err = new FieldcamError(code, message);
    // A call-order error is the caller's bug and leaves the reader usable; data errors are final.
    if (code !== 'EBML_CALL_ORDER') {
      this.error = err;
      this.state = STATE.FAILED;
    }
    return err;
  }
}

/** Octets of a VINT from its first byte (RFC 8794 §4.1): leading zero bits + 1; 9 for 0x00. */
function vintWidth(first: number): number {
  let width = 1;
  for (let mask = 0x80; width <= 8 && (first & mask) === 0; mask >>= 1) width++;
  return width;
}

function hex(n: number): string {
  return n.toString(16);
}

/** An EBML unsigned integer value (RFC 8794 §7.2): 0-8 octets big-endian (exact below 2^53). */
export function ebmlUint(bytes: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + bytes[i]!;
  return v;
}

/** An EBML signed integer value (RFC 8794 §7.1): 0-8 octets two's complement big-endian. */
export function ebmlInt(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  const v = ebmlUint(bytes);
  return bytes[0]! & 0x80 ? v - 2 ** (8 * bytes.length) : v;
}
