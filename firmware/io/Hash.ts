/**
 * SHA-256 and HMAC-SHA256, native on every board (pure-JS SHA-256 costs ~12e9 ARM instructions per MiB,
 * design.md §2). Results are written into caller-owned 32-byte buffers so signing allocates nothing.
 */
export interface HashPort {
  /** out[outOffset..+32] = SHA-256(data[offset..offset+length]). */
  sha256(data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void;
  /** out[outOffset..+32] = HMAC-SHA256(key, data[offset..offset+length]). */
  hmacSha256(key: Uint8Array, data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void;
}
