import { FieldcamError } from '../errors.ts';
import { EVENT_LIMITS } from './eventLimits.ts';

/**
 * Splits the local trigger's byte stream into lines in one buffer of EVENT_LIMITS.lineMaxBytes, allocated at
 * construction: the source reads into `buffer` at `offset` (at most `space` bytes), then `push(n)`. A line that
 * does not fit is skipped up to its newline and reported once as EVENT_LINE_TOO_LONG; nothing grows.
 */
export class EventLineReader {
  readonly buffer = new Uint8Array(EVENT_LIMITS.lineMaxBytes);
  private used = 0;
  private skipping = false;
  private readonly onLine: (bytes: Uint8Array, start: number, end: number) => void;
  private readonly onError: (error: FieldcamError) => void;

  constructor(onLine: (bytes: Uint8Array, start: number, end: number) => void, onError: (error: FieldcamError) => void) {
    this.onLine = onLine;
    this.onError = onError;
  }

  get offset(): number {
    return this.used;
  }

  get space(): number {
    return this.buffer.length - this.used;
  }

  /** `n` bytes were read into `buffer` at `offset`. */
  push(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.space)) throw new RangeError(`push(${n}) with ${this.space} bytes of space`);
    const buf = this.buffer;
    let lineStart = 0;
    const end = this.used + n;
    for (let i = this.used; i < end; i++) {
      if (buf[i] !== 0x0a) continue;
      if (this.skipping) this.skipping = false;
      else this.onLine(buf, lineStart, i);
      lineStart = i + 1;
    }
    if (lineStart > 0) buf.copyWithin(0, lineStart, end);
    this.used = end - lineStart;
    if (this.used === buf.length) {
      // A full buffer and no newline: the line is too long. Drop what we have and skip to its end.
      if (!this.skipping) this.onError(new FieldcamError('EVENT_LINE_TOO_LONG', `a trigger line longer than ${buf.length - 1} bytes was skipped`));
      this.skipping = true;
      this.used = 0;
    } else if (this.skipping) {
      this.used = 0; // still inside the long line
    }
  }
}
