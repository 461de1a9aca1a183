/** Random access to bytes by logical offset: a StreamCursor (stream being read) or a Frame (its payload). */
export interface ByteSource {
  byteAt(offset: number): number;
}
