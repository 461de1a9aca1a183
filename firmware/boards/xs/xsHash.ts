import type { HashPort } from '../../io/Hash.ts';
import { host } from './native.ts';

/** SHA-256 and HMAC-SHA256 in the host (mbedTLS): no JS byte loop, no allocation; the host checks the ranges. */
export const xsHash: HashPort = Object.freeze({
  sha256: (data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number) => host().sha256(data, offset, length, out, outOffset),
  hmacSha256: (key: Uint8Array, data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number) =>
    host().hmacSha256(key, data, offset, length, out, outOffset),
});
