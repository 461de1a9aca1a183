/**
 * The tail of a byte stream addressed by absolute offsets: chunks are kept by reference as they arrive
 * (the caller must not modify them afterwards) and dropped once everything before an offset is no longer
 * needed. PutMediaIngest keeps the open fragment's bytes here until they are stored.
 */
export class ByteWindow {
  private readonly chunks: Uint8Array[] = [];
  private readonly starts: number[] = [];
  private end = 0;

  /** Absolute offset just after the last byte appended. */
  get position(): number {
    return this.end;
  }

  /** Bytes currently held. */
  get held(): number {
    return this.starts.length === 0 ? 0 : this.end - this.starts[0]!;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.starts.push(this.end);
    this.end += chunk.length;
  }

  /** A copy of the bytes [from, to); RangeError when part of it was already dropped or not yet appended. */
  slice(from: number, to: number): Uint8Array {
    if (to < from || to > this.end || (to > from && (this.starts.length === 0 || from < this.starts[0]!))) {
      throw new RangeError(`ByteWindow.slice(${from}, ${to}) outside the held range`);
    }
    const out = new Uint8Array(to - from);
    for (let i = 0; i < this.chunks.length; i++) {
      const start = this.starts[i]!;
      const chunk = this.chunks[i]!;
      const a = Math.max(from, start);
      const b = Math.min(to, start + chunk.length);
      if (a < b) out.set(chunk.subarray(a - start, b - start), a - from);
    }
    return out;
  }

  /** Drops every chunk that ends at or before `offset`. */
  discardBefore(offset: number): void {
    let n = 0;
    while (n < this.chunks.length && this.starts[n]! + this.chunks[n]!.length <= offset) n++;
    if (n > 0) {
      this.chunks.splice(0, n);
      this.starts.splice(0, n);
    }
  }
}
