// Reads one framed ACK object (AckParser hands it over whole, at most 1,024 bytes in its scratch). The object
// is complete, so this is a plain recursive descent over a buffer, not a resumable state machine; it allocates
// nothing but the FragmentNumber string of a good ACK.
//
// Why not the engine's JSON.parse: the ACK contract the parser keeps is stricter and looser than JSON in ways
// JSON.parse cannot report — a repeated known key (JSON.parse keeps the last), FragmentTimecode 1e3 or 2^53 + 1
// (JSON.parse rounds them to valid integers), leading zeros (JSON.parse refuses them, the PIC accepts them),
// unknown values skipped without checking more than strings and bracket pairs, and each malformation named by
// its PIC code (key, value, value end), the first one in stream order.
import type { ErrorCode } from '../errors.ts';
import { ACK_EVENT_TYPES, ACK_LIMITS } from './ackFormat.ts';

const END = -1; // the byte past the buffer: a prefix ends there (the object went over the segment limit)

// What the current string is: a key, a known value, or a skipped value.
const T_KEY = 0;
const T_EVENT_TYPE = 1;
const T_FRAGMENT_NUMBER = 2;
const T_ERROR_ID = 3;
const T_SKIP = 4;

// Known keys (exact spelling, case-sensitive, `[003 L1151]`); key k of KEY_NAMES is the bit 1 << k.
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
const EMPTY = new Uint8Array(0);

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

/** A byte for a message: printable ASCII quoted, anything else in hex. */
export function showByte(b: number): string {
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
 * The fields of one ACK object, or the first thing wrong with it. `read` returns true for a good ACK (fields
 * set); false with `code` set for a rejected one (`at` = offset of the byte that showed it); false with `code`
 * '' when the buffer ends before anything was wrong (a prefix of an object cut at the segment limit).
 * Accepted: whitespace anywhere JSON allows it, keys in any order, unknown keys with any JSON value (strings
 * with escapes, numbers, literals, objects/arrays nested up to `maxNesting`), ErrorId as a number or a digit
 * string, leading zeros in integers.
 */
export class AckObjectReader {
  /** Index in ACK_EVENT_TYPES. */
  eventType = -1;
  timecode = -1;
  errorId = -1;
  fragmentNumber = '';
  code: ErrorCode | '' = '';
  message = '';
  at = 0;
  private bytes: Uint8Array = EMPTY;
  private length = 0;
  private i = 0;
  private seen = 0;
  private key = K_UNKNOWN;
  private readonly keyBuf = new Uint16Array(KEY_BUFFER);
  private keyLen = 0;
  private readonly typeBuf = new Uint16Array(TYPE_BUFFER);
  private typeLen = 0;
  private readonly numberBuf = new Uint8Array(ACK_LIMITS.maxFragmentNumberChars);
  private numberLen = 0;
  private num = 0;
  private numDigits = 0;
  private readonly closers = new Uint8Array(ACK_LIMITS.maxNesting);

  /** Reads the object in `bytes[0..length)`; `bytes[0]` is its "{". */
  read(bytes: Uint8Array, length: number): boolean {
    this.bytes = bytes;
    this.length = length;
    this.i = 1;
    this.seen = 0;
    this.eventType = -1;
    this.timecode = -1;
    this.errorId = -1;
    this.fragmentNumber = '';
    this.code = '';
    this.message = '';
    return this.object();
  }

  private peek(): number {
    return this.i < this.length ? this.bytes[this.i]! : END;
  }

  /** Skips whitespace; the next byte, or END. */
  private next(): number {
    const bytes = this.bytes;
    let i = this.i;
    while (i < this.length && isSpace(bytes[i]!)) i++;
    this.i = i;
    return i < this.length ? bytes[i]! : END;
  }

  private fail(code: ErrorCode, message: string): false {
    this.code = code;
    this.at = this.i;
    this.message = `${message} (byte ${this.i + 1} of the ACK)`;
    return false;
  }

  private object(): boolean {
    let b = this.next();
    if (b === 0x7d) return this.finish();
    for (;;) {
      if (!this.member(b)) return false;
      b = this.next();
      if (b === END) return false;
      if (b === 0x7d) return this.finish();
      if (b !== 0x2c) return this.fail('ACK_VALUE_END_INVALID', `${showByte(b)} after the value of ${this.keyName()}; "," or "}" must follow`);
      this.i++;
      b = this.next();
    }
  }

  /** `"key" : value`, starting at `b`. */
  private member(b: number): boolean {
    if (b === END) return false;
    if (b !== 0x22) return this.fail('ACK_KEY_INVALID', `${showByte(b)} where a key must start`);
    this.i++;
    this.keyLen = 0;
    if (!this.string(T_KEY)) return false;
    const k = indexOfName(KEY_NAMES, this.keyBuf, this.keyLen);
    this.key = k < 0 ? K_UNKNOWN : 1 << k;
    if (this.key !== K_UNKNOWN) {
      if (this.seen & this.key) {
        this.i--; // the closing quote showed it
        return this.fail('ACK_DUPLICATE_KEY', `${this.keyName()} appears twice in one ACK`);
      }
      this.seen |= this.key;
    }
    b = this.next();
    if (b === END) return false;
    if (b !== 0x3a) return this.fail('ACK_KEY_INVALID', `${showByte(b)} where ":" must follow a key`);
    this.i++;
    b = this.next();
    if (b === END) return false;
    return this.value(b);
  }

  private value(b: number): boolean {
    switch (this.key) {
      case K_EVENT_TYPE:
      case K_FRAGMENT_NUMBER:
        if (b !== 0x22) break;
        this.i++;
        this.typeLen = 0;
        this.numberLen = 0;
        return this.string(this.key === K_EVENT_TYPE ? T_EVENT_TYPE : T_FRAGMENT_NUMBER);
      case K_TIMECODE:
      case K_ERROR_ID:
        this.num = 0;
        this.numDigits = 0;
        if (isDigit(b)) return this.integer();
        if (b !== 0x22 || this.key !== K_ERROR_ID) break;
        this.i++;
        return this.string(T_ERROR_ID); // ErrorId as a digit string
      default: // an unknown key: skip any JSON value
        if (b === 0x22) {
          this.i++;
          return this.string(T_SKIP);
        }
        if (b === 0x7b || b === 0x5b) return this.container(b);
        if (b === 0x2d || isDigit(b)) return this.skipNumber();
        if (b === 0x74) return this.literal('true');
        if (b === 0x66) return this.literal('false');
        if (b === 0x6e) return this.literal('null');
    }
    return this.fail('ACK_VALUE_INVALID', `${showByte(b)} cannot start the value of ${this.keyName()}`);
  }

  /** The rest of a string after its opening quote, each character handed to `unit`, then the closing checks. */
  private string(target: number): boolean {
    const bytes = this.bytes;
    const invalid: ErrorCode = target === T_KEY ? 'ACK_KEY_INVALID' : 'ACK_VALUE_INVALID';
    for (;;) {
      if (this.i >= this.length) return false;
      const b = bytes[this.i]!;
      if (b === 0x22) {
        this.i++;
        return this.endString(target);
      }
      if (b < 0x20) return this.fail(invalid, `control character ${showByte(b)} in a string`);
      if (b !== 0x5c) {
        if (!this.unit(target, b)) return false;
        this.i++;
        continue;
      }
      this.i++;
      const e = this.peek();
      if (e === END) return false;
      if (e === 0x75) {
        // \uXXXX
        let u = 0;
        for (let k = 0; k < 4; k++) {
          this.i++;
          const h = this.peek();
          if (h === END) return false;
          const v = hexValue(h);
          if (v < 0) return this.fail(invalid, `${showByte(h)} in a \\u escape`);
          u = u * 16 + v;
        }
        if (!this.unit(target, u)) return false;
        this.i++;
        continue;
      }
      const u =
        e === 0x22 || e === 0x5c || e === 0x2f ? e : e === 0x62 ? 0x08 : e === 0x66 ? 0x0c : e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : -1;
      if (u < 0) return this.fail(invalid, `invalid escape \\${String.fromCharCode(e)}`);
      if (!this.unit(target, u)) return false;
      this.i++;
    }
  }

  /** One character (UTF-16 code unit after escapes, or a raw byte) of the current string. */
  private unit(target: number, u: number): boolean {
    switch (target) {
      case T_KEY:
        if (this.keyLen < KEY_BUFFER) this.keyBuf[this.keyLen] = u;
        this.keyLen++;
        return true;
      case T_EVENT_TYPE:
        if (this.typeLen === TYPE_BUFFER) return this.fail('ACK_EVENT_TYPE_UNKNOWN', 'EventType is longer than any known type');
        this.typeBuf[this.typeLen++] = u;
        return true;
      case T_FRAGMENT_NUMBER:
        if (!isDigit(u)) return this.fail('ACK_VALUE_INVALID', `${showByte(u)} in FragmentNumber: decimal digits are required`);
        if (this.numberLen === ACK_LIMITS.maxFragmentNumberChars) {
          return this.fail('ACK_FRAGMENT_NUMBER_TOO_LONG', `FragmentNumber is longer than ${ACK_LIMITS.maxFragmentNumberChars} digits`);
        }
        this.numberBuf[this.numberLen++] = u;
        return true;
      case T_ERROR_ID:
        if (!isDigit(u)) return this.fail('ACK_VALUE_INVALID', `${showByte(u)} in ErrorId: digits are required`);
        return this.digit(u - 0x30);
      default:
        return true; // skipped
    }
  }

  /** After the closing quote. */
  private endString(target: number): boolean {
    switch (target) {
      case T_EVENT_TYPE:
        this.eventType = indexOfName(ACK_EVENT_TYPES, this.typeBuf, this.typeLen);
        if (this.eventType >= 0) return true;
        this.i--;
        return this.fail('ACK_EVENT_TYPE_UNKNOWN', `EventType ${JSON.stringify(text(this.typeBuf, this.typeLen))}`);
      case T_FRAGMENT_NUMBER:
        if (this.numberLen === 0) {
          this.i--;
          return this.fail('ACK_VALUE_INVALID', 'FragmentNumber is empty');
        }
        this.fragmentNumber = text(this.numberBuf, this.numberLen);
        return true;
      case T_ERROR_ID:
        if (this.numDigits === 0) {
          this.i--;
          return this.fail('ACK_VALUE_INVALID', 'ErrorId is empty');
        }
        this.errorId = this.num;
        return true;
      default:
        return true;
    }
  }

  /** Appends a decimal digit to the integer being read; false (after reporting) beyond 2^53. */
  private digit(d: number): boolean {
    if (this.num > MAX_DIV10 || (this.num === MAX_DIV10 && d > MAX_LAST_DIGIT)) {
      return this.fail('ACK_VALUE_INVALID', `${this.keyName()} is larger than 2^53`);
    }
    this.num = this.num * 10 + d;
    this.numDigits++;
    return true;
  }

  /** FragmentTimecode or ErrorId digits; the value ends at whitespace, "," or "}". */
  private integer(): boolean {
    for (;;) {
      const b = this.peek();
      if (b === END) return false;
      if (isDigit(b)) {
        if (!this.digit(b - 0x30)) return false;
        this.i++;
        continue;
      }
      if (!isSpace(b) && b !== 0x2c && b !== 0x7d) {
        return this.fail('ACK_VALUE_INVALID', `${showByte(b)} in ${this.keyName()}: a non-negative integer is required`);
      }
      if (this.key === K_ERROR_ID) this.errorId = this.num;
      else this.timecode = this.num;
      return true;
    }
  }

  /** An unknown key's number: its characters are skipped, what follows is checked by the caller. */
  private skipNumber(): boolean {
    for (;;) {
      this.i++;
      const b = this.peek();
      if (b === END) return false;
      if (!(isDigit(b) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d)) return true;
    }
  }

  private literal(word: string): boolean {
    for (let k = 1; k < word.length; k++) {
      this.i++;
      const b = this.peek();
      if (b === END) return false;
      if (b !== word.charCodeAt(k)) return this.fail('ACK_VALUE_INVALID', `${showByte(b)} in the literal ${word}`);
    }
    this.i++;
    return true;
  }

  /** An unknown key's object or array: only strings and bracket pairs are followed, up to `maxNesting` deep. */
  private container(open: number): boolean {
    const closers = this.closers;
    closers[0] = open + 2; // "{" + 2 = "}", "[" + 2 = "]"
    let depth = 1;
    this.i++;
    for (;;) {
      const b = this.peek();
      if (b === END) return false;
      if (b === 0x22) {
        this.i++;
        if (!this.string(T_SKIP)) return false;
        continue;
      }
      if (b === 0x7b || b === 0x5b) {
        if (depth === ACK_LIMITS.maxNesting) return this.fail('ACK_VALUE_INVALID', `a value nests deeper than ${ACK_LIMITS.maxNesting} levels`);
        closers[depth++] = b + 2;
      } else if (b === 0x7d || b === 0x5d) {
        if (b !== closers[depth - 1]) return this.fail('ACK_VALUE_INVALID', `${showByte(b)} closes a ${closers[depth - 1] === 0x7d ? 'object' : 'array'}`);
        if (--depth === 0) {
          this.i++;
          return true;
        }
      }
      this.i++;
    }
  }

  private keyName(): string {
    for (let k = 0; k < KEY_NAMES.length; k++) if (this.key === 1 << k) return KEY_NAMES[k]!;
    return 'an unknown key';
  }

  /** The closing "}": what each event type requires. */
  private finish(): boolean {
    if (this.eventType < 0) return this.fail('ACK_EVENT_TYPE_MISSING', 'an ACK object has no EventType');
    const type = ACK_EVENT_TYPES[this.eventType]!;
    if (type === 'ERROR' && this.errorId < 0) return this.fail('ACK_ERROR_ID_MISSING', 'an ERROR ACK has no ErrorId');
    if (type !== 'ERROR' && type !== 'IDLE' && this.timecode < 0) return this.fail('ACK_TIMECODE_MISSING', `a ${type} ACK has no FragmentTimecode`);
    return true;
  }
}
