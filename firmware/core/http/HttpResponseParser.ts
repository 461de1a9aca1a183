import { FieldcamError } from '../errors.ts';
import { BODY, bodyFraming } from './bodyFraming.ts';
import { CR, hexValue, HTAB, isFieldOctet, LF, SEMICOLON, SP } from './httpChars.ts';
import { parseResponseHead } from './parseResponseHead.ts';
import { checkByteRange } from '../checkByteRange.ts';

/** Every size the parser holds or counts is bounded; each field overrides one default. */
export interface HttpResponseLimits {
  /** Bytes of one response head, empty lines before the status line included. The head buffer is this big. */
  readonly maxHeadBytes?: number;
  /** Field lines in one head. */
  readonly maxHeaders?: number;
  /** Bytes of one chunk-size line, extensions and CRLF included (extensions are ignored, RFC 9112 §7.1.1). */
  readonly maxChunkLineBytes?: number;
  /** Bytes of the trailer section after the last chunk (skipped, RFC 9112 §7.1.2). */
  readonly maxTrailerBytes?: number;
}

export const HTTP_RESPONSE_LIMITS = Object.freeze({
  maxHeadBytes: 8192,
  maxHeaders: 64,
  maxChunkLineBytes: 1024,
  maxTrailerBytes: 8192,
} as const);

export interface HttpResponseParserOptions {
  /** The final (non-1xx) response head, once per response. */
  onHead(status: number, reason: string, headers: readonly [string, string][]): void;
  /** Body bytes, de-chunked: a view into the array passed to `push`, valid only during the call. */
  onBody(bytes: Uint8Array, offset: number, length: number): void;
  /** The response is complete; the parser now expects the next response on the connection. */
  onEnd(): void;
  readonly limits?: HttpResponseLimits;
}

// States. Chunked body: SIZE → (BWS → EXT) → SIZE_LF → DATA → DATA_CR → DATA_LF → SIZE …; size 0 → TRAILER.
const HEAD = 0;
const LENGTH = 1;
const CLOSE = 2;
const SIZE = 3; // chunk-size hex digits
const BWS = 4; // whitespace after the size: only ";" or the line end may follow
const EXT = 5; // inside chunk extensions, skipped
const SIZE_LF = 6; // CR seen at the end of the chunk-size line
const DATA = 7;
const DATA_CR = 8; // chunk data done: CRLF must follow
const DATA_LF = 9;
const TRAILER = 10; // trailer section lines, skipped up to the empty line
const TRAILER_LF = 11;
const ENDED = 12; // end() was called
const FAILED = 13; // an error was thrown

const MAX_CHUNK_SIZE_BEFORE_DIGIT = Math.floor((Number.MAX_SAFE_INTEGER - 15) / 16);

/**
 * An incremental, bounded parser of HTTP/1.1 responses (RFC 9112) on one connection, fed whatever the
 * socket delivers. It keeps a small state record and never looks back: the head is collected into a
 * buffer allocated at construction and decoded once complete (its strings allocate, once per response);
 * body bytes are handed to `onBody` as views of the caller's array, with no copy and no allocation.
 *
 * Interim 1xx responses (100 Continue) are parsed and skipped, so `onHead` reports the final head once.
 * Every malformation throws a FieldcamError from `push`/`end`; the parser is then failed until `reset`.
 * Callbacks run inside `push` and must not call back into the parser (HTTP_CALL_ORDER if they do).
 *
 * The file is past the usual ~300 lines because it is one state machine, kept whole so every transition
 * reads next to the others; head decoding and the body-length rules live in parseResponseHead.ts and
 * bodyFraming.ts.
 */
export class HttpResponseParser {
  private readonly options: HttpResponseParserOptions;
  private readonly maxHeaders: number;
  private readonly maxChunkLineBytes: number;
  private readonly maxTrailerBytes: number;
  private readonly head: Uint8Array;
  private state = HEAD;
  private headLength = 0; // bytes of the current head in `head`
  private lineStart = 0; // where the current head line starts in `head`
  private headSeen = 0; // bytes counted against maxHeadBytes, skipped empty lines included
  private remaining = 0; // body or chunk-data bytes still to come
  private chunkSize = 0;
  private lineBytes = 0; // of the chunk-size line or trailer section
  private trailerLine = 0; // content bytes of the current trailer line
  private interim = false; // a 1xx was skipped: the final response is still owed
  private busy = false;

  constructor(options: HttpResponseParserOptions) {
    this.options = options;
    const limits = options.limits ?? {};
    this.head = new Uint8Array(limit(limits, 'maxHeadBytes'));
    this.maxHeaders = limit(limits, 'maxHeaders');
    this.maxChunkLineBytes = limit(limits, 'maxChunkLineBytes');
    this.maxTrailerBytes = limit(limits, 'maxTrailerBytes');
  }

  /** True while part of a response is held (cut off at close); false between responses (stray empty lines aside). */
  get pending(): boolean {
    return this.state !== HEAD || this.headLength !== 0 || this.interim;
  }

  /** Consumes `bytes[offset..offset+length)`, calling back for each event it completes. */
  push(bytes: Uint8Array, offset: number, length: number): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    checkByteRange(bytes, offset, length);
    this.enter();
    try {
      this.consume(bytes, offset, offset + length);
    } catch (err) {
      this.state = FAILED;
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /**
   * The connection closed. Completes a body delimited by the close; between responses it is an orderly
   * end; anywhere else the response was cut short (HTTP_TRUNCATED). The parser accepts no more bytes.
   */
  end(): void {
    this.enter();
    const state = this.state;
    this.state = ENDED;
    try {
      if (state === CLOSE) this.options.onEnd();
      else if (state !== HEAD || this.headLength !== 0 || this.interim) {
        this.state = FAILED;
        throw new FieldcamError('HTTP_TRUNCATED', `the connection closed ${where(state, this.remaining)}`);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Forgets everything, ready for a new connection. */
  reset(): void {
    if (this.busy) throw new FieldcamError('HTTP_CALL_ORDER', 'reset() from inside a parser callback');
    this.state = HEAD;
    this.headLength = 0;
    this.lineStart = 0;
    this.headSeen = 0;
    this.remaining = 0;
    this.chunkSize = 0;
    this.lineBytes = 0;
    this.trailerLine = 0;
    this.interim = false;
  }

  private enter(): void {
    if (this.busy) throw new FieldcamError('HTTP_CALL_ORDER', 'the parser was called from inside its own callback');
    if (this.state === ENDED || this.state === FAILED) {
      throw new FieldcamError('HTTP_CALL_ORDER', `the parser ${this.state === ENDED ? 'ended' : 'failed'}; reset() it for a new connection`);
    }
    this.busy = true;
  }

  private consume(bytes: Uint8Array, i: number, end: number): void {
    while (i < end) {
      switch (this.state) {
        case HEAD:
          i = this.scanHead(bytes, i, end);
          break;
        case CLOSE:
          this.options.onBody(bytes, i, end - i);
          i = end;
          break;
        case LENGTH:
        case DATA: {
          const n = Math.min(end - i, this.remaining);
          this.remaining -= n;
          this.options.onBody(bytes, i, n);
          i += n;
          if (this.remaining === 0) {
            if (this.state === LENGTH) this.finish();
            else this.state = DATA_CR;
          }
          break;
        }
        case TRAILER:
        case TRAILER_LF:
          this.trailerByte(bytes[i++]!);
          break;
        default:
          this.chunkByte(bytes[i++]!);
      }
    }
  }

  /** Collects head bytes up to the empty line; returns the index after the last byte consumed. */
  private scanHead(bytes: Uint8Array, i: number, end: number): number {
    const head = this.head;
    while (i < end) {
      if (this.headSeen === head.length) {
        throw new FieldcamError('HTTP_HEAD_TOO_LARGE', `the response head is longer than ${head.length} bytes`);
      }
      const c = bytes[i++]!;
      this.headSeen++;
      head[this.headLength++] = c;
      if (c !== LF) continue;
      const lineEnd = this.headLength - 1;
      const empty = lineEnd === this.lineStart || (lineEnd === this.lineStart + 1 && head[this.lineStart] === CR);
      if (!empty) {
        this.lineStart = this.headLength;
      } else if (this.lineStart === 0) {
        this.headLength = 0; // an empty line before the status line (e.g. after a previous body): skipped
      } else {
        this.headComplete();
        return i;
      }
    }
    return i;
  }

  private headComplete(): void {
    const head = parseResponseHead(this.head, this.headLength, this.maxHeaders);
    this.headLength = 0;
    this.lineStart = 0;
    this.headSeen = 0;
    if (head.status < 200) {
      // RFC 9110 §15.2: a client parses interim responses it did not expect; 101 would switch protocols,
      // which this client never asks for.
      if (head.status === 101) throw new FieldcamError('HTTP_STATUS_LINE_INVALID', '101 Switching Protocols without an Upgrade request');
      this.interim = true;
      return;
    }
    this.interim = false;
    const framing = bodyFraming(head);
    this.state = framing.kind === BODY.LENGTH ? LENGTH : framing.kind === BODY.CHUNKED ? SIZE : framing.kind === BODY.CLOSE ? CLOSE : HEAD;
    this.remaining = framing.length;
    this.chunkSize = 0;
    this.lineBytes = 0;
    this.options.onHead(head.status, head.reason, head.headers);
    if (framing.kind === BODY.NONE) this.options.onEnd();
  }

  /** One byte of a chunk-size line or of the CRLF after chunk data (RFC 9112 §7.1). */
  private chunkByte(c: number): void {
    const state = this.state;
    if (state === DATA_CR || state === DATA_LF) {
      if (c === LF)
        this.state = SIZE; // a lone LF ends the line too (RFC 9112 §2.2)
      else if (c === CR && state === DATA_CR) this.state = DATA_LF;
      else throw chunkError('chunk data is not followed by CRLF');
      return;
    }
    if (++this.lineBytes > this.maxChunkLineBytes) throw chunkError(`a chunk-size line is longer than ${this.maxChunkLineBytes} bytes`);
    if (state === SIZE_LF) {
      if (c !== LF) throw chunkError('a bare CR in a chunk-size line');
      this.chunkLineEnd();
    } else if (c === LF) {
      if (state === SIZE && this.lineBytes === 1) throw chunkError('an empty chunk-size line');
      this.chunkLineEnd();
    } else if (c === CR) {
      if (state === SIZE && this.lineBytes === 1) throw chunkError('an empty chunk-size line');
      this.state = SIZE_LF;
    } else if (state === SIZE) {
      const h = hexValue(c);
      if (h >= 0) {
        if (this.chunkSize > MAX_CHUNK_SIZE_BEFORE_DIGIT) throw chunkError('a chunk size is larger than 2^53');
        this.chunkSize = this.chunkSize * 16 + h;
      } else if (this.lineBytes === 1) {
        throw chunkError('a chunk-size line does not start with a hex digit');
      } else if (c === SEMICOLON) {
        this.state = EXT;
      } else if (c === SP || c === HTAB) {
        this.state = BWS;
      } else {
        throw chunkError(`byte 0x${c.toString(16)} in a chunk size`);
      }
    } else if (state === BWS) {
      // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
      if (c === SEMICOLON) this.state = EXT;
      else if (c !== SP && c !== HTAB) throw chunkError(`byte 0x${c.toString(16)} after a chunk size`);
    } else if (!isFieldOctet(c)) {
      throw chunkError(`control 0x${c.toString(16)} in a chunk extension`);
    }
  }

  private chunkLineEnd(): void {
    this.lineBytes = 0;
    if (this.chunkSize === 0) {
      this.state = TRAILER;
      this.trailerLine = 0;
    } else {
      this.remaining = this.chunkSize;
      this.chunkSize = 0;
      this.state = DATA;
    }
  }

  /** One byte of the trailer section: field lines are counted and skipped up to the empty line (§7.1.2). */
  private trailerByte(c: number): void {
    if (++this.lineBytes > this.maxTrailerBytes) {
      throw new FieldcamError('HTTP_HEAD_TOO_LARGE', `the trailer section is longer than ${this.maxTrailerBytes} bytes`);
    }
    if (this.state === TRAILER_LF) {
      if (c !== LF) throw chunkError('a bare CR in the trailer section');
    } else if (c === CR) {
      this.state = TRAILER_LF;
      return;
    } else if (c !== LF) {
      if (!isFieldOctet(c)) throw new FieldcamError('HTTP_HEADER_INVALID', `control 0x${c.toString(16)} in a trailer field`);
      this.trailerLine++;
      return;
    }
    // A line ended.
    if (this.trailerLine === 0) this.finish();
    else {
      this.trailerLine = 0;
      this.state = TRAILER;
    }
  }

  private finish(): void {
    this.state = HEAD;
    this.options.onEnd();
  }
}

function chunkError(why: string): FieldcamError {
  return new FieldcamError('HTTP_CHUNK_INVALID', `${why} (RFC 9112 §7.1)`);
}

function where(state: number, remaining: number): string {
  if (state === HEAD) return 'before the final response head was complete';
  if (state === LENGTH) return `${remaining} bytes before the end of the Content-Length body`;
  if (state === DATA) return `${remaining} bytes before the end of a chunk`;
  if (state === TRAILER || state === TRAILER_LF) return 'inside the trailer section';
  return 'inside a chunked body';
}

function limit(limits: HttpResponseLimits, name: keyof HttpResponseLimits): number {
  const value = limits[name] ?? HTTP_RESPONSE_LIMITS[name];
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`limits.${name} must be a positive integer, got ${value}`);
  return value;
}
