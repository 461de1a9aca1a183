/** Random access to bytes by logical offset: a StreamCursor (stream being read) or a Frame (its payload). */
export interface ByteSource {
  byteAt(offset: number): number;
}

/** A ByteSource that also reads 4 bytes at once (the slice header's first word: one call, not four). */
export interface WordSource extends ByteSource {
  /** Bytes offset..offset + 3 as a big-endian unsigned 32-bit word; all four must be held. */
  wordAt(offset: number): number;
}
