import { createHash, createHmac } from 'node:crypto';
import type { HashPort } from '../../io/Hash.ts';

const DIGEST_BYTES = 32;

function checkRange(data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > data.length) {
    throw new RangeError(`offset/length: [${offset}, +${length}) is outside the ${data.length}-byte input`);
  }
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + DIGEST_BYTES > out.length) {
    throw new RangeError(`outOffset: 32 bytes do not fit at ${outOffset} in ${out.length}`);
  }
}

/** The Node board's HashPort over node:crypto (OpenSSL). Node allocates a digest Buffer per call; the core does not. */
export const nodeHash: HashPort = Object.freeze({
  sha256(data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void {
    checkRange(data, offset, length, out, outOffset);
    out.set(
      createHash('sha256')
        .update(data.subarray(offset, offset + length))
        .digest(),
      outOffset,
    );
  },
  hmacSha256(key: Uint8Array, data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void {
    checkRange(data, offset, length, out, outOffset);
    out.set(
      createHmac('sha256', key)
        .update(data.subarray(offset, offset + length))
        .digest(),
      outOffset,
    );
  },
});
