/** Random access to bytes by logical offset: a StreamCursor (stream being read) or a Frame (its payload). */
export interface ByteSource {
  byteAt(offset: number): number;
}

/** A ByteSource that also reads 4 bytes at once (the slice header's first word: one call, not four). */
export interface WordSource extends ByteSource {
  /** Bytes offset..offset + 3 as a big-endian unsigned 32-bit word; all four must be held. */
  wordAt(offset: number): number;
}

/** Do `length` bytes of `source` at `offset` equal `bytes`? (a repeated parameter set, compared in place) */
export function sameBytes(bytes: Uint8Array, source: ByteSource, offset: number, length: number): boolean {
  if (bytes.length !== length) return false;
  for (let i = 0; i < length; i++) if (bytes[i] !== source.byteAt(offset + i)) return false;
  return true;
}

/** A copy of `length` bytes of `source` at `offset` (parameter sets only: never a payload). */
export function copyBytes(source: ByteSource, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = source.byteAt(offset + i);
  return bytes;
}
