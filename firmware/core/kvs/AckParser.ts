// The PutMedia acknowledgement stream: frames each ACK object out of the bytes as they arrive and hands the
// whole object to AckObjectReader. Framing needs only brace depth and string state, so a read split anywhere
// costs nothing extra, and the object is bounded by one 1,024-byte scratch allocated at construction.
import type { AckScanPort } from '../../io/AckScan.ts';
import { FieldcamError, type ErrorCode } from '../errors.ts';
import { ACK_EVENT_TYPES, ACK_LIMITS, type AckEventType } from './ackFormat.ts';
import { AckObjectReader, showByte } from './AckObjectReader.ts';
import { ACK_WALK, followAck } from './followAck.ts';

export { ACK_EVENT_TYPES, ACK_LIMITS, type AckEventType } from './ackFormat.ts';

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
  /** The board's framing walk (ack.c on the XS board); absent: the TypeScript walk, followAck.ts. */
  readonly scan?: AckScanPort;
}

export interface AckParserCounters {
  acks: number;
  errors: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const BETWEEN = 0; // between objects: whitespace, or "{"
const JUNK = 1; // after bytes outside an object: skip to the next "{"
const OBJECT = 2; // inside an object: its bytes go to the scratch
const RESYNC = 3; // inside a rejected object: follow its strings and nesting to its end, without keeping bytes
const MAX = ACK_LIMITS.maxSegmentChars;
const KEEP = ACK_WALK.KEEP;
const LENGTH = ACK_WALK.LENGTH;
const SKIPPED = ACK_WALK.SKIPPED;
/** A module constant: this XS build copies a string literal into a new chunk each time one is evaluated. */
const NO_FRAGMENT_NUMBER = '';

/** Latin-1 text of `bytes[0..length)`, 128 characters per call: each is an argument on the XS stack. */
function latin1(bytes: Uint8Array, length: number): string {
  let text = '';
  for (let at = 0; at < length; at += 128) {
    text += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(length, at + 128)) as unknown as number[]);
  }
  return text;
}

/**
 * A known integer field as JSON.parse gave it: -1 when absent, -2 when the reader must look (not a number, or
 * 2^53, which 2^53 + 1 also parses to). The framer has already ruled out signs, fractions and exponents.
 */
function integer(value: unknown): number {
  if (value === undefined) return -1;
  if (typeof value === 'string') return value.length > 0 && value.length < 16 && isDigits(value) ? Number(value) : -2;
  return typeof value === 'number' && value < ACK_LIMITS.maxInteger ? value : -2;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isFragmentNumber(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= ACK_LIMITS.maxFragmentNumberChars && isDigits(value);
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * The PutMedia response body is a stream of JSON ACK objects, several per read, split anywhere, with
 * whitespace between them (kvs-reference.md §4.4). `push` consumes whatever arrived. An object's bytes are
 * copied into one scratch of `maxSegmentChars` while its end is found by brace depth (strings and escapes
 * followed, so braces inside strings do not count); the complete object is then read by AckObjectReader,
 * which names the first thing wrong with it. Nothing is allocated per ACK but the FragmentNumber string.
 *
 * Rejected, each with its ACK_* code through `onError`: an object over 1,024 characters (or the first error
 * inside its first 1,024), bytes outside any object, and everything AckObjectReader refuses. After a rejected
 * object the parser resumes at the next "{" at depth 0; when an object's end cannot be found within 1,024
 * bytes after the error, it resumes at the next "{".
 *
 * Callbacks run synchronously inside `push`; `push` and `reset` from inside one throw ACK_CALL_ORDER. A
 * callback that throws ends that `push` (the parser stays consistent; the rest of that read is not parsed).
 * The contract every incremental parser follows is in docs/architecture.md ("Incremental parsers").
 */
export class AckParser {
  readonly counters: AckParserCounters = { acks: 0, errors: 0 };
  private readonly onAck: (ack: AckEvent) => void;
  private readonly onError: (err: FieldcamError) => void;
  private readonly event: Mutable<AckEvent> = { eventType: 'IDLE', fragmentTimecode: -1, fragmentNumber: '', errorId: -1 };
  private readonly reader = new AckObjectReader();
  private readonly scratch = new Uint8Array(MAX);
  private state = BETWEEN;
  private busy = false;
  /**
   * The framing walk's state (ACK_WALK, followAck.ts): the bytes of the current object in the scratch ("{"
   * included), its depth, string and escape state, the ":" outside strings (the member count of a flat object), the
   * bytes followed in RESYNC since the error, and PLAIN: nothing in the object JSON.parse would read differently from
   * the ACK rules (no nesting, no escape, no number with a sign, fraction or exponent); such an object (every ACK KVS
   * sends) takes the fast path.
   */
  private readonly walk = new Float64Array(ACK_WALK.SIZE);
  /** The walk: the board's (one native call per read of an object) or the TypeScript one. */
  private readonly followAck: AckScanPort['followAck'];
  /** The board's reading of an ACK as KVS sends it (AckScanPort.readAck), and where it writes the fields; else JSON.parse. */
  private readonly readAck: AckScanPort['readAck'];
  private readonly fields = new Float64Array(5);

  constructor(options: AckParserOptions) {
    if (typeof options?.onAck !== 'function') throw new TypeError('options.onAck must be a function');
    if (typeof options.onError !== 'function') throw new TypeError('options.onError must be a function');
    this.onAck = options.onAck;
    this.onError = options.onError;
    this.followAck = options.scan?.followAck ?? followAck;
    this.readAck = options.scan?.readAck;
  }

  /** True while part of an object (or of a rejected one being skipped) is held: a cut-off ACK at close. */
  get pending(): boolean {
    return this.state >= OBJECT;
  }

  /** Forgets any partial object: call when a new PutMedia connection starts. */
  reset(): void {
    if (this.busy) throw new FieldcamError('ACK_CALL_ORDER', 'AckParser.reset was called from a callback');
    this.state = BETWEEN;
    this.walk[LENGTH] = 0;
  }

  /** Consumes `bytes[offset..offset+length)`, calling `onAck` / `onError` for each object completed. */
  push(bytes: Uint8Array, offset: number, length: number): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
      throw new RangeError(`offset/length: [${offset}, +${length}) is outside the ${bytes.length}-byte buffer`);
    }
    if (this.busy) throw new FieldcamError('ACK_CALL_ORDER', 'AckParser.push was re-entered from a callback');
    this.busy = true;
    try {
      const end = offset + length;
      let i = offset;
      while (i < end) {
        if (this.state >= OBJECT) {
          i = this.follow(bytes, i, end);
          continue;
        }
        const b = bytes[i++]!;
        if (b === 0x7b) this.open();
        else if (this.state === BETWEEN && !isSpace(b)) {
          this.state = JUNK;
          this.report('ACK_OUTSIDE_OBJECT', `${showByte(b)} between ACK objects`);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private open(): void {
    this.scratch[0] = 0x7b;
    const w = this.walk;
    w[KEEP] = 1;
    w[LENGTH] = 1;
    w[ACK_WALK.DEPTH] = 1;
    w[ACK_WALK.IN_STRING] = 0;
    w[ACK_WALK.ESCAPE] = 0;
    w[ACK_WALK.COLONS] = 0;
    w[ACK_WALK.PLAIN] = 1;
    this.state = OBJECT;
  }

  /**
   * Follows an object's strings and nesting from `bytes[from]`, keeping its bytes in OBJECT, for at most the
   * bytes its budget has left (the segment limit in OBJECT, the give-up distance in RESYNC). Every look stays
   * inside [from, limit): the bytes given are a range of the connection's 4 KiB read buffer, and a search past
   * them (TypedArray `indexOf` has no end) cost 39,068 computrons per ACK instead of 8,050 (docs/performance.md).
   * Returns where it stopped: at `end`, after the object's last byte, or at the byte the new state must see.
   */
  private follow(bytes: Uint8Array, from: number, end: number): number {
    const keep = this.state === OBJECT;
    const w = this.walk;
    w[KEEP] = keep ? 1 : 0;
    const i = this.followAck(bytes, from, end, w, this.scratch);
    if (w[ACK_WALK.CLOSED] === 1) {
      this.state = BETWEEN;
      if (keep) this.complete();
    } else if (i < end) {
      if (keep) this.overflow();
      else this.state = JUNK; // the object's end cannot be found: take the next "{"
    }
    return i;
  }

  /**
   * The scratch holds one whole object. A plain one is read by the engine's JSON.parse and taken when every
   * field checks out; anything else (and any doubt) goes to AckObjectReader, which also names what is wrong.
   */
  private complete(): void {
    const e = this.event;
    const length = this.walk[LENGTH]!;
    const plain = this.walk[ACK_WALK.PLAIN] === 1;
    const read = this.readAck;
    if (plain && read !== undefined && read(this.scratch, length, this.fields) === 1) {
      const f = this.fields;
      e.eventType = ACK_EVENT_TYPES[f[0]!]!;
      e.fragmentTimecode = f[1]!;
      e.errorId = f[2]!;
      e.fragmentNumber = f[4] === 0 ? NO_FRAGMENT_NUMBER : latin1(this.scratch.subarray(f[3]!, f[3]! + f[4]!), f[4]!);
    } else if (!(plain && this.parseFast(e, length))) {
      const r = this.reader;
      if (!r.read(this.scratch, length)) return this.report(r.code as ErrorCode, r.message);
      e.eventType = ACK_EVENT_TYPES[r.eventType]!;
      e.fragmentTimecode = r.timecode;
      e.fragmentNumber = r.fragmentNumber;
      e.errorId = r.errorId;
    }
    this.counters.acks++;
    this.onAck(e);
  }

  /** JSON.parse of a plain object into `e`; false (with `e` unspecified) when AckObjectReader must decide. */
  private parseFast(e: Mutable<AckEvent>, length: number): boolean {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(latin1(this.scratch, length)) as Record<string, unknown>;
    } catch {
      return false; // leading zeros, a bare word, a missing comma: the reader accepts or names it
    }
    let members = 0;
    for (const _ in value) members++;
    if (members !== this.walk[ACK_WALK.COLONS]) return false; // a repeated key: only the reader can tell which
    const type = ACK_EVENT_TYPES.indexOf(value.EventType as AckEventType);
    if (type < 0) return false;
    const timecode = typeof value.FragmentTimecode === 'string' ? -2 : integer(value.FragmentTimecode);
    const errorId = integer(value.ErrorId);
    const fragment = value.FragmentNumber;
    if (timecode === -2 || errorId === -2 || (fragment !== undefined && !isFragmentNumber(fragment))) return false;
    const eventType = ACK_EVENT_TYPES[type]!;
    if (eventType === 'ERROR' ? errorId < 0 : eventType !== 'IDLE' && timecode < 0) return false;
    e.eventType = eventType;
    e.fragmentTimecode = timecode;
    e.fragmentNumber = fragment === undefined ? '' : (fragment as string);
    e.errorId = errorId;
    return true;
  }

  /**
   * The object goes past the segment limit. The first error inside its first 1,024 bytes is the one reported
   * (as if it had been read byte by byte), else the length; the rest is followed without keeping it, and the
   * bytes since the error count towards the 1,024 after which the parser gives up on finding its end.
   */
  private overflow(): void {
    this.state = RESYNC;
    const r = this.reader;
    if (!r.read(this.scratch, MAX) && r.code !== '') {
      this.walk[SKIPPED] = MAX - r.at;
      return this.report(r.code, r.message);
    }
    this.walk[SKIPPED] = 0;
    this.report('ACK_SEGMENT_TOO_LONG', `an ACK object is longer than ${MAX} characters`);
  }

  private report(code: ErrorCode, message: string): void {
    this.counters.errors++;
    this.onError(new FieldcamError(code, message));
  }
}
