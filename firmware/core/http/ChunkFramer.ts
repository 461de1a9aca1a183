import type { ViewList } from '../media/ViewList.ts';

// Layout of the one buffer a framer owns: [0, 2) the CRLF that ends chunk data; [2, 7) the last-chunk
// and the empty trailer section; [8, 24) the chunk-size line, right-aligned (at most 14 hex digits for a
// size up to 2^53 - 1, then CRLF). A chunk end followed by the last chunk is adjacent, so the view list
// merges them into one range; byte 7 is a gap so that nothing else ever merges.
const CHUNK_END = 0;
const LAST_CHUNK = 2;
const LAST_CHUNK_BYTES = 5;
const SIZE_LINE_END = 24;
const BUFFER_BYTES = 24;
/** The lower-case hex digits as bytes: a table read per digit, not a string method call (XS counts each call). */
const HEX = Object.freeze(Array.from('0123456789abcdef', (c) => c.charCodeAt(0)));
/** Above this a size is split into hex digits by division, below by shifts (the common case: one frame). */
const SHIFT_LIMIT = 0x7fffffff;

/**
 * The chunked transfer coding (RFC 9112 §7.1) for gather writes: the framing bytes are pushed into a
 * `ViewList` as ranges of one buffer allocated at construction, around payload ranges the caller pushes
 * itself, so framing a frame copies and allocates nothing.
 *
 *   chunk      = chunk-size CRLF chunk-data CRLF     (no chunk extensions are sent)
 *   last-chunk = "0" CRLF, then an empty trailer section: CRLF
 */
export class ChunkFramer {
  private readonly bytes = new Uint8Array(BUFFER_BYTES);

  constructor() {
    const b = this.bytes;
    b[CHUNK_END] = 0x0d;
    b[CHUNK_END + 1] = 0x0a;
    b.set([0x30, 0x0d, 0x0a, 0x0d, 0x0a], LAST_CHUNK);
  }

  /**
   * Pushes the chunk-size line for `size` payload bytes (lower-case hex, RFC 9112 §7.1). The range is a
   * reused scratch: valid until the next call, so write the list before framing the next chunk.
   * A size of 0 would end the body: that is `pushLastChunk`.
   */
  pushChunkHeader(out: ViewList, size: number): void {
    const p = this.writeSizeLine(size);
    out.push(this.bytes, p, SIZE_LINE_END - p);
  }

  /**
   * Pushes the chunk-size line's place, to be made the line by `setChunkHeader` once the chunk's data is in the list
   * (PutMediaConnection.beginChunk, once per frame): a range of this framer's buffer whose bytes are not written
   * yet, so nothing is computed twice. Write the list only after `setChunkHeader`.
   */
  pushChunkPlaceholder(out: ViewList): void {
    out.push(this.bytes, SIZE_LINE_END - 3, 3);
  }

  /**
   * Makes range `index` of `out`, a chunk-size line pushed earlier with `pushChunkHeader` (a placeholder, when the
   * size is known only once the chunk's data is in the list), the line for `size`. Same scratch rule.
   */
  setChunkHeader(out: ViewList, index: number, size: number): void {
    if (out.sources[index] !== this.bytes) throw new RangeError(`range ${index} is not this framer's chunk-size line`);
    const p = this.writeSizeLine(size);
    out.setRange(index, p, SIZE_LINE_END - p);
  }

  /** Writes the chunk-size line for `size`, right-aligned to SIZE_LINE_END; returns where it starts. */
  private writeSizeLine(size: number): number {
    // Once per frame: comparisons and shifts rather than Number.isSafeInteger, `%` and `/` (docs/performance.md).
    const b = this.bytes;
    let p = SIZE_LINE_END - 2;
    if (size >= 1 && size <= SHIFT_LIMIT && (size | 0) === size) {
      for (let n = size; n !== 0; n >>>= 4) b[--p] = HEX[n & 15]!;
    } else {
      if (!Number.isSafeInteger(size) || size < 1) {
        throw new RangeError(`size: a chunk holds 1 to 2^53-1 bytes, got ${size} (end the body with pushLastChunk)`);
      }
      for (let n = size; n > 0; ) {
        const digit = n % 16;
        b[--p] = HEX[digit]!;
        n = (n - digit) / 16;
      }
    }
    b[SIZE_LINE_END - 2] = 0x0d;
    b[SIZE_LINE_END - 1] = 0x0a;
    return p;
  }

  /** Pushes the CRLF that ends a chunk's data (constant bytes). */
  pushChunkEnd(out: ViewList): void {
    out.push(this.bytes, CHUNK_END, 2);
  }

  /** Pushes `0\r\n\r\n`: the last chunk and an empty trailer section, ending the body (constant bytes). */
  pushLastChunk(out: ViewList): void {
    out.push(this.bytes, LAST_CHUNK, LAST_CHUNK_BYTES);
  }
}
