// One incremental state machine for the PutMedia acknowledgement stream; it is longer than most files
// because the JSON subset it accepts (strings with escapes, integers, skipped values) lives in one switch.
import { FieldcamError, type ErrorCode } from '../errors.ts';

export const ACK_EVENT_TYPES = Object.freeze(['BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE'] as const);
export type AckEventType = (typeof ACK_EVENT_TYPES)[number];

export const ACK_LIMITS = Object.freeze({
  /** The PIC's maximum ACK segment length, in characters (bytes: ACKs are ASCII) `[003 L753]`. */
  maxSegmentChars: 1024,
  /** The producer SDK's maximum fragment sequence-number length `[003 L766]`. */
  maxFragmentNumberChars: 128,
  /** Objects and arrays nested inside an unknown key's value. */
  maxNesting: 8,
  /** FragmentTimecode and ErrorId are integers up to 2^53 (exact in a double). */
  maxInteger: 2 ** 53,
} as const);

/**
 * One acknowledgement (kvs-reference.md §4.4). The parser owns ONE instance and rewrites it for every ACK:
 * it is valid only during `onAck`; copy what must outlive the callback.
 */
export interface AckEvent {
  readonly eventType: AckEventType;
  /** The acknowledged fragment's timecode; -1 when absent (IDLE, some ERRORs). */
  readonly fragmentTimecode: number;
  /** Decimal digits, at most 128; '' when absent. */
  readonly fragmentNumber: string;
  /** ErrorId of an ERROR ACK (kvs-reference.md §4.5); -1 otherwise. */
  readonly errorId: number;
}

export interface AckParserOptions {
  onAck(ack: AckEvent): void;
  /** A malformed ACK: the parser skips it and resumes at the next object, as the PIC does (warnings). */
  onError(err: FieldcamError): void;
}

export interface AckParserCounters {
  acks: number;
  errors: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// States. Every state from OBJ_START on is inside an object and counts towards the segment length.
const BETWEEN = 0; // between objects: whitespace, or "{"
const JUNK = 1; // after bytes outside an object: skip to the next "{"
const RESYNC = 2; // after an error inside an object: skip the rest of it, tracking strings and nesting
const OBJ_START = 3; // after "{": a key or "}"
const KEY_NEXT = 4; // after ",": a key
const STRING = 5;
const STRING_ESCAPE = 6;
const STRING_HEX = 7;
const COLON = 8;
const VALUE = 9;
const NUMBER = 10; // FragmentTimecode / ErrorId digits
const SKIP_NUMBER = 11;
const SKIP_LITERAL = 12;
const SKIP_CONTAINER = 13;
const AFTER_VALUE = 14;

// What the current string or integer is: a key, a known value, or a value being skipped.
const T_KEY = 0;
const T_EVENT_TYPE = 1;
const T_FRAGMENT_NUMBER = 2;
const T_ERROR_ID = 3;
const T_SKIP = 4;
const T_TIMECODE = 5; // digits only, never a string

// Known keys (exact spelling, case-sensitive, `[003 L1151]`); key k of KEY_NAMES is the bit 1 << k of the seen-set.
const KEY_NAMES = Object.freeze(['EventType', 'FragmentTimecode', 'FragmentNumber', 'ErrorId'] as const);
const K_UNKNOWN = 0;
const K_EVENT_TYPE = 1;
const K_TIMECODE = 2;
const K_FRAGMENT_NUMBER = 4;
const K_ERROR_ID = 8;
const KEY_BUFFER = 16; // the longest known key; longer keys are unknown
const TYPE_BUFFER = 9; // the longest EventType
const MAX_DIV10 = Math.floor(ACK_LIMITS.maxInteger / 10);
const MAX_LAST_DIGIT = ACK_LIMITS.maxInteger % 10;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09; // JSON whitespace (RFC 8259 §2)
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function hexValue(b: number): number {
  if (isDigit(b)) return b - 0x30;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

function show(b: number): string {
  return b > 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `0x${b.toString(16).padStart(2, '0')}`;
}

function text(codes: Uint8Array | Uint16Array, length: number): string {
  return String.fromCharCode.apply(null, codes.subarray(0, length) as unknown as number[]);
}

/** Index of the name equal to `codes[0..length)`, or -1; compares in place, without making a string. */
function indexOfName(names: readonly string[], codes: Uint16Array, length: number): number {
  for (let k = 0; k < names.length; k++) {
    const name = names[k]!;
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && name.charCodeAt(i) === codes[i]) i++;
    if (i === length) return k;
  }
  return -1;
}

/**
 * The PutMedia response body is a stream of JSON ACK objects, several per read, split anywhere, with
 * whitespace between them (kvs-reference.md §4.4). `push` consumes whatever arrived; the parser keeps a
 * small state record and buffers nothing but the fields it reports (all allocated at construction; the
 * FragmentNumber string is the one allocation per ACK).
 *
 * Accepted: whitespace anywhere JSON allows it, keys in any order, unknown keys with any JSON value
 * (skipped: strings with escapes, numbers, literals, objects/arrays nested up to `maxNesting`), ErrorId
 * as a number or a digit string. Rejected, each with its ACK_* code through `onError`: an object over
 * 1,024 characters, a FragmentNumber over 128 digits, an unknown or missing EventType, a repeated known
 * key, a value of the wrong type, an ERROR without ErrorId, a BUFFERING/RECEIVED/PERSISTED without
 * FragmentTimecode, and bytes outside any object. After an error inside an object the parser skips the
 * rest of that object (following its strings and nesting) and resumes at the next "{" at depth 0; if the
 * damage makes the object's end unfindable within another 1,024 bytes, it resumes at the next "{".
 *
 * Callbacks run synchronously inside `push`; `push` may not be re-entered from them. A callback that
 * throws ends that `push` (the parser stays consistent; the rest of that read is not parsed).
 */
export class AckParser {
  readonly counters: AckParserCounters = { acks: 0, errors: 0 };
  private readonly onAck: (ack: AckEvent) => void;
  private readonly onError: (err: FieldcamError) => void;
  private readonly event: Mutable<AckEvent> = { eventType: 'IDLE', fragmentTimecode: -1, fragmentNumber: '', errorId: -1 };
  private state = BETWEEN;
  private busy = false;
  /** Bytes of the current object so far, "{" included. */
  private segLen = 0;
  private seen = 0;
  private key = K_UNKNOWN;
  private target = T_KEY;
  private readonly keyBuf = new Uint16Array(KEY_BUFFER);
  private keyLen = 0;
  private readonly typeBuf = new Uint16Array(TYPE_BUFFER);
  private typeLen = 0;
  private readonly numberBuf = new Uint8Array(ACK_LIMITS.maxFragmentNumberChars);
  private numberLen = 0;
  private hexCount = 0;
  private hexAcc = 0;
  private num = 0;
  private numDigits = 0;
  private literal = '';
  private literalPos = 0;
  /** Containers open inside a skipped value; `closers` holds the byte that closes each. */
  private skipDepth = 0;
  private readonly closers = new Uint8Array(ACK_LIMITS.maxNesting);
  private rsDepth = 0;
  private rsInString = false;
  private rsEscape = false;
  private rsCount = 0;
  // The object being parsed.
  private eventType = -1;
  private timecode = -1;
  private fragmentNumber = '';
  private errorId = -1;

  constructor(options: AckParserOptions) {
    if (typeof options?.onAck !== 'function') throw new TypeError('options.onAck must be a function');
    if (typeof options.onError !== 'function') throw new TypeError('options.onError must be a function');
    this.onAck = options.onAck;
    this.onError = options.onError;
  }

  /** True while part of an object (or of a rejected one being skipped) is held: a cut-off ACK at close. */
  get pending(): boolean {
    return this.state >= RESYNC;
  }

  /** Forgets any partial object: call when a new PutMedia connection starts. */
  reset(): void {
    this.state = BETWEEN;
    this.segLen = 0;
  }

  /** Consumes `bytes[offset..offset+length)`, calling `onAck` / `onError` for each object completed. */
  push(bytes: Uint8Array, offset: number, length: number): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
      throw new RangeError(`offset/length: [${offset}, +${length}) is outside the ${bytes.length}-byte buffer`);
    }
    if (this.busy) throw new Error('AckParser.push was re-entered from a callback');
    this.busy = true;
    try {
      const end = offset + length;
      for (let i = offset; i < end; i++) {
        if (this.state >= OBJ_START && ++this.segLen > ACK_LIMITS.maxSegmentChars) {
          this.fail('ACK_SEGMENT_TOO_LONG', `an ACK object is longer than ${ACK_LIMITS.maxSegmentChars} characters`);
        }
        this.feed(bytes[i]!);
      }
    } finally {
      this.busy = false;
    }
  }

  /** One byte. A state that does not consume the byte changes state and `continue`s with the same byte. */
  private feed(b: number): void {
    for (;;) {
      switch (this.state) {
        case BETWEEN:
          if (isSpace(b)) return;
          if (b === 0x7b) return this.startObject();
          this.state = JUNK;
          return this.report('ACK_OUTSIDE_OBJECT', `${show(b)} between ACK objects`);
        case JUNK:
          if (b === 0x7b) this.startObject();
          return;
        case RESYNC:
          if (++this.rsCount > ACK_LIMITS.maxSegmentChars) {
            this.state = JUNK; // the object's end cannot be found: take the next "{"
            continue;
          }
          if (this.rsInString) {
            if (this.rsEscape) this.rsEscape = false;
            else if (b === 0x5c) this.rsEscape = true;
            else if (b === 0x22) this.rsInString = false;
          } else if (b === 0x22) this.rsInString = true;
          else if (b === 0x7b || b === 0x5b) this.rsDepth++;
          else if ((b === 0x7d || b === 0x5d) && --this.rsDepth === 0) this.state = BETWEEN;
          return;
        case OBJ_START:
        case KEY_NEXT:
          if (isSpace(b)) return;
          if (b === 0x22) return this.beginString(T_KEY);
          if (b === 0x7d && this.state === OBJ_START) return this.finishObject();
          this.fail('ACK_KEY_INVALID', `${show(b)} where a key must start`);
          continue;
        case STRING:
          if (b === 0x22) {
            if (this.endString()) return;
            continue; // rejected: the closing quote is the tracker's to see
          }
          if (b === 0x5c) {
            this.state = STRING_ESCAPE;
            return;
          }
          if (b < 0x20) {
            this.fail(this.target === T_KEY ? 'ACK_KEY_INVALID' : 'ACK_VALUE_INVALID', `control character ${show(b)} in a string`);
            continue;
          }
          this.unit(b);
          return;
        case STRING_ESCAPE: {
          if (b === 0x75) { // \uXXXX
            this.hexCount = 0;
            this.hexAcc = 0;
            this.state = STRING_HEX;
            return;
          }
          const unit = b === 0x22 || b === 0x5c || b === 0x2f ? b
            : b === 0x62 ? 0x08 : b === 0x66 ? 0x0c : b === 0x6e ? 0x0a : b === 0x72 ? 0x0d : b === 0x74 ? 0x09 : -1;
          if (unit < 0) {
            this.fail(this.target === T_KEY ? 'ACK_KEY_INVALID' : 'ACK_VALUE_INVALID', `invalid escape \\${String.fromCharCode(b)}`);
            continue; // the tracker, told an escape is open, takes this byte as the escaped one
          }
          this.state = STRING;
          this.unit(unit);
          return;
        }
        case STRING_HEX: {
          const h = hexValue(b);
          if (h < 0) {
            this.fail(this.target === T_KEY ? 'ACK_KEY_INVALID' : 'ACK_VALUE_INVALID', `${show(b)} in a \\u escape`);
            continue;
          }
          this.hexAcc = this.hexAcc * 16 + h;
          if (++this.hexCount === 4) {
            this.state = STRING;
            this.unit(this.hexAcc);
          }
          return;
        }
        case COLON:
          if (isSpace(b)) return;
          if (b === 0x3a) {
            this.state = VALUE;
            return;
          }
          this.fail('ACK_KEY_INVALID', `${show(b)} where ":" must follow a key`);
          continue;
        case VALUE:
          if (isSpace(b)) return;
          if (this.beginValue(b)) return;
          continue;
        case NUMBER:
          if (isDigit(b)) {
            if (this.digit(b - 0x30)) return;
            continue;
          }
          if (isSpace(b) || b === 0x2c || b === 0x7d) {
            if (this.target === T_ERROR_ID) this.errorId = this.num;
            else this.timecode = this.num;
            this.state = AFTER_VALUE;
            continue;
          }
          this.fail('ACK_VALUE_INVALID', `${show(b)} in ${this.keyName()}: a non-negative integer is required`);
          continue;
        case SKIP_NUMBER:
          if (isDigit(b) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d) return;
          this.state = AFTER_VALUE;
          continue;
        case SKIP_LITERAL:
          if (b !== this.literal.charCodeAt(this.literalPos)) {
            this.fail('ACK_VALUE_INVALID', `${show(b)} in the literal ${this.literal}`);
            continue;
          }
          if (++this.literalPos === this.literal.length) this.state = AFTER_VALUE;
          return;
        case SKIP_CONTAINER:
          if (b === 0x22) return this.beginString(T_SKIP);
          if (b === 0x7b || b === 0x5b) {
            if (this.skipDepth === ACK_LIMITS.maxNesting) {
              this.fail('ACK_VALUE_INVALID', `a value nests deeper than ${ACK_LIMITS.maxNesting} levels`);
              continue;
            }
            this.closers[this.skipDepth++] = b + 2; // "{" + 2 = "}", "[" + 2 = "]"
            return;
          }
          if (b === 0x7d || b === 0x5d) {
            if (b !== this.closers[this.skipDepth - 1]) {
              this.fail('ACK_VALUE_INVALID', `${show(b)} closes a ${this.closers[this.skipDepth - 1] === 0x7d ? 'object' : 'array'}`);
              continue;
            }
            if (--this.skipDepth === 0) this.state = AFTER_VALUE;
          }
          return;
        case AFTER_VALUE:
          if (isSpace(b)) return;
          if (b === 0x2c) {
            this.state = KEY_NEXT;
            return;
          }
          if (b === 0x7d) return this.finishObject();
          this.fail('ACK_VALUE_END_INVALID', `${show(b)} after the value of ${this.keyName()}; "," or "}" must follow`);
          continue;
        default:
          throw new Error(`AckParser: impossible state ${this.state}`);
      }
    }
  }

  private startObject(): void {
    this.state = OBJ_START;
    this.segLen = 1;
    this.seen = 0;
    this.skipDepth = 0;
    this.eventType = -1;
    this.timecode = -1;
    this.fragmentNumber = '';
    this.errorId = -1;
  }

  private beginString(target: number): void {
    this.target = target;
    this.keyLen = 0;
    this.typeLen = 0;
    this.numberLen = 0;
    this.num = 0;
    this.numDigits = 0;
    this.state = STRING;
  }

  /** The first byte of a value; false when it was rejected (the byte goes to the tracker). */
  private beginValue(b: number): boolean {
    switch (this.key) {
      case K_EVENT_TYPE:
      case K_FRAGMENT_NUMBER:
        if (b !== 0x22) break;
        this.beginString(this.key === K_EVENT_TYPE ? T_EVENT_TYPE : T_FRAGMENT_NUMBER);
        return true;
      case K_TIMECODE:
      case K_ERROR_ID:
        if (isDigit(b)) {
          this.target = this.key === K_ERROR_ID ? T_ERROR_ID : T_TIMECODE;
          this.num = b - 0x30;
          this.numDigits = 1;
          this.state = NUMBER;
          return true;
        }
        if (b !== 0x22 || this.key !== K_ERROR_ID) break;
        this.beginString(T_ERROR_ID); // ErrorId as a digit string
        return true;
      default: // an unknown key: skip any JSON value
        if (b === 0x22) this.beginString(T_SKIP);
        else if (b === 0x7b || b === 0x5b) {
          this.closers[0] = b + 2;
          this.skipDepth = 1;
          this.state = SKIP_CONTAINER;
        } else if (b === 0x2d || isDigit(b)) this.state = SKIP_NUMBER;
        else if (b === 0x74 || b === 0x66 || b === 0x6e) {
          this.literal = b === 0x74 ? 'true' : b === 0x66 ? 'false' : 'null';
          this.literalPos = 1;
          this.state = SKIP_LITERAL;
        } else break;
        return true;
    }
    this.fail('ACK_VALUE_INVALID', `${show(b)} cannot start the value of ${this.keyName()}`);
    return false;
  }

  /** One character (UTF-16 code unit after escapes, or a raw byte) of the current string. */
  private unit(u: number): void {
    switch (this.target) {
      case T_KEY:
        if (this.keyLen < KEY_BUFFER) this.keyBuf[this.keyLen] = u;
        this.keyLen++;
        return;
      case T_EVENT_TYPE:
        if (this.typeLen === TYPE_BUFFER) return this.fail('ACK_EVENT_TYPE_UNKNOWN', 'EventType is longer than any known type');
        this.typeBuf[this.typeLen++] = u;
        return;
      case T_FRAGMENT_NUMBER:
        if (!isDigit(u)) return this.fail('ACK_VALUE_INVALID', `${show(u)} in FragmentNumber: decimal digits are required`);
        if (this.numberLen === ACK_LIMITS.maxFragmentNumberChars) {
          return this.fail('ACK_FRAGMENT_NUMBER_TOO_LONG', `FragmentNumber is longer than ${ACK_LIMITS.maxFragmentNumberChars} digits`);
        }
        this.numberBuf[this.numberLen++] = u;
        return;
      case T_ERROR_ID:
        if (!isDigit(u)) return this.fail('ACK_VALUE_INVALID', `${show(u)} in ErrorId: digits are required`);
        this.digit(u - 0x30);
        return;
      default:
        return; // skipped
    }
  }

  /** Appends a decimal digit to the integer being read; false (after reporting) beyond 2^53. */
  private digit(d: number): boolean {
    if (this.num > MAX_DIV10 || (this.num === MAX_DIV10 && d > MAX_LAST_DIGIT)) {
      this.fail('ACK_VALUE_INVALID', `${this.keyName()} is larger than 2^53`);
      return false;
    }
    this.num = this.num * 10 + d;
    this.numDigits++;
    return true;
  }

  /** The closing quote; false when the string is rejected. */
  private endString(): boolean {
    switch (this.target) {
      case T_KEY: {
        const k = indexOfName(KEY_NAMES, this.keyBuf, this.keyLen);
        this.key = k < 0 ? K_UNKNOWN : 1 << k;
        if (this.key !== K_UNKNOWN) {
          if (this.seen & this.key) {
            this.fail('ACK_DUPLICATE_KEY', `${this.keyName()} appears twice in one ACK`);
            return false;
          }
          this.seen |= this.key;
        }
        this.state = COLON;
        return true;
      }
      case T_EVENT_TYPE:
        this.eventType = indexOfName(ACK_EVENT_TYPES, this.typeBuf, this.typeLen);
        if (this.eventType < 0) {
          this.fail('ACK_EVENT_TYPE_UNKNOWN', `EventType ${JSON.stringify(text(this.typeBuf, this.typeLen))}`);
          return false;
        }
        break;
      case T_FRAGMENT_NUMBER:
        if (this.numberLen === 0) {
          this.fail('ACK_VALUE_INVALID', 'FragmentNumber is empty');
          return false;
        }
        this.fragmentNumber = text(this.numberBuf, this.numberLen);
        break;
      case T_ERROR_ID:
        if (this.numDigits === 0) {
          this.fail('ACK_VALUE_INVALID', 'ErrorId is empty');
          return false;
        }
        this.errorId = this.num;
        break;
      default:
        if (this.skipDepth > 0) {
          this.state = SKIP_CONTAINER;
          return true;
        }
    }
    this.state = AFTER_VALUE;
    return true;
  }

  private keyName(): string {
    for (let k = 0; k < KEY_NAMES.length; k++) if (this.key === 1 << k) return KEY_NAMES[k]!;
    return 'an unknown key';
  }

  /** The closing "}" of an object: check what is required, then report the ACK. */
  private finishObject(): void {
    this.state = BETWEEN;
    if (this.eventType < 0) return this.report('ACK_EVENT_TYPE_MISSING', 'an ACK object has no EventType');
    const type = ACK_EVENT_TYPES[this.eventType]!;
    if (type === 'ERROR' && this.errorId < 0) return this.report('ACK_ERROR_ID_MISSING', 'an ERROR ACK has no ErrorId');
    if (type !== 'ERROR' && type !== 'IDLE' && this.timecode < 0) {
      return this.report('ACK_TIMECODE_MISSING', `a ${type} ACK has no FragmentTimecode`);
    }
    const e = this.event;
    e.eventType = type;
    e.fragmentTimecode = this.timecode;
    e.fragmentNumber = this.fragmentNumber;
    e.errorId = this.errorId;
    this.counters.acks++;
    this.onAck(e);
  }

  /** An error inside an object: skip the rest of it, starting from where the parser stands. */
  private fail(code: ErrorCode, message: string): void {
    const s = this.state;
    this.rsInString = s === STRING || s === STRING_ESCAPE || s === STRING_HEX;
    this.rsEscape = s === STRING_ESCAPE;
    this.rsDepth = 1 + this.skipDepth;
    this.rsCount = 0;
    this.state = RESYNC;
    this.report(code, `${message} (byte ${this.segLen} of the ACK)`);
  }

  private report(code: ErrorCode, message: string): void {
    this.counters.errors++;
    this.onError(new FieldcamError(code, message));
  }
}
