import { type ErrorCode, FieldcamError } from '../errors.ts';

const EMPTY = new Uint8Array(0);

/**
 * Reads the RBSP of one NAL unit (H.264 7.3.1, 7.4.1): bits MSB first, with every emulation_prevention_three_byte
 * (the 0x03 of a `00 00 03` sequence) skipped, so callers see rbsp bytes while the NAL stays untouched in place.
 * Descriptors u(n), ue(v), se(v) as in 7.2 and 9.1.
 *
 * Bounded: reading past the range throws H264_TRUNCATED_NAL; an Exp-Golomb code with more than 31 leading
 * zero bits (its value would exceed 2^32 - 2, the largest any H.264 syntax element takes) throws the caller's
 * `invalidCode`. One instance is reused through `reset()`; it allocates nothing while reading.
 */
export class BitReader {
  private bytes: Uint8Array = EMPTY;
  private start = 0;
  private pos = 0;
  private end = 0;
  /** Zero bytes just consumed, to recognise `00 00 03` (7.4.1). */
  private zeros = 0;
  private cur = 0;
  /** Bits of `cur` not yet read. */
  private left = 0;
  private consumed = 0;
  private invalidCode: ErrorCode = 'H264_TRUNCATED_NAL';
  private what = 'NAL unit';

  /**
   * Starts reading `length` bytes at `bytes[offset]`. `what` names the structure in error messages;
   * `invalidCode` is thrown for impossible Exp-Golomb codes.
   */
  reset(bytes: Uint8Array, offset: number, length: number, what = 'NAL unit', invalidCode: ErrorCode = 'H264_TRUNCATED_NAL'): this {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
      throw new RangeError(`offset ${offset} + length ${length} is outside the ${bytes.length}-byte array`);
    }
    this.bytes = bytes;
    this.start = offset;
    this.pos = offset;
    this.end = offset + length;
    this.zeros = 0;
    this.cur = 0;
    this.left = 0;
    this.consumed = 0;
    this.what = what;
    this.invalidCode = invalidCode;
    return this;
  }

  /** RBSP bits read so far. */
  get bitPosition(): number {
    return this.consumed;
  }

  /** True while unread bits remain (emulation prevention bytes do not count). */
  get hasMoreBits(): boolean {
    if (this.left > 0) return true;
    if (this.pos >= this.end) return false;
    // A trailing 0x03 after `00 00` is an emulation prevention byte (cabac_zero_word, 7.3.2.10), not data.
    return !(this.pos === this.end - 1 && this.zeros >= 2 && this.bytes[this.pos] === 3);
  }

  /** u(1). */
  bit(): number {
    if (this.left === 0) this.load();
    this.left--;
    this.consumed++;
    return (this.cur >> this.left) & 1;
  }

  /** u(1) as a boolean. */
  flag(): boolean {
    return this.bit() === 1;
  }

  /** u(n) for 0 <= n <= 32 (7.2). */
  u(n: number): number {
    if (n < 0 || n > 32) throw new RangeError(`u(${n}): n must be 0..32`);
    let value = 0;
    for (let i = 0; i < n; i++) value = value * 2 + this.bit();
    return value;
  }

  /** Skips n bits. */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.bit();
  }

  /** ue(v), unsigned Exp-Golomb (9.1): 2^leadingZeroBits - 1 + read_bits(leadingZeroBits). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros > 31) {
        const at = this.consumed - zeros;
        throw new FieldcamError(
          this.invalidCode,
          `${this.what}: Exp-Golomb code with more than 31 leading zero bits at bit ${at} (${this.end - this.start} bytes)`,
        );
      }
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v), signed Exp-Golomb (9.1.1, Table 9-3): k -> (-1)^(k+1) * Ceil(k / 2). */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2; // 0 - 0 is +0, not -0
  }

  private load(): void {
    if (this.pos >= this.end) {
      throw new FieldcamError(
        'H264_TRUNCATED_NAL',
        `${this.what}: ends after ${this.consumed} bits (${this.end - this.start} bytes) while its syntax needs more`,
      );
    }
    let b = this.bytes[this.pos++] as number;
    if (this.zeros >= 2 && b === 3) {
      // emulation_prevention_three_byte (7.4.1): drop it and restart the zero count.
      this.zeros = 0;
      if (this.pos >= this.end) {
        throw new FieldcamError(
          'H264_TRUNCATED_NAL',
          `${this.what}: ends after ${this.consumed} bits (${this.end - this.start} bytes) while its syntax needs more`,
        );
      }
      b = this.bytes[this.pos++] as number;
    }
    this.zeros = b === 0 ? this.zeros + 1 : 0;
    this.cur = b;
    this.left = 8;
  }
}
