import { FieldcamError } from '../errors.ts';

const EMPTY = new Uint8Array(0);

/**
 * An ordered list of byte ranges to be written out as one gather write: headers from reused scratch,
 * payloads inside pool slots. Ranges are (source, offset, length) triples in preallocated typed arrays,
 * so building the list allocates nothing; consumers at the edge (file, socket) turn them into writes.
 * Contents are valid until the next `clear()`.
 */
export class ViewList {
  readonly capacity: number;
  readonly sources: Uint8Array[];
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  count = 0;
  byteLength = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.sources = new Array<Uint8Array>(capacity).fill(EMPTY);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
  }

  clear(): void {
    // Entries past `count` are never read, and are not cleared: what a device's list holds (pool slots, header
    // templates) lives from boot on, so a stale entry pins nothing, and clearing cost a native call per frame
    // (docs/performance.md, eighth step).
    this.count = 0;
    this.byteLength = 0;
  }

  /**
   * Rolls the list back to an earlier state (`count`, `byteLength` read before some pushes), so a refused
   * operation leaves no ranges behind. Only valid when nothing was merged into range `count - 1` since.
   */
  truncate(count: number, byteLength: number): void {
    if (count > this.count || count < 0) throw new RangeError(`cannot truncate ${this.count} ranges to ${count}`);
    for (let i = count; i < this.count; i++) this.sources[i] = EMPTY;
    this.count = count;
    this.byteLength = byteLength;
  }

  /**
   * Replaces range `index` by (its source, `offset`, `length`): a header whose contents are known only after what
   * follows it was pushed (a chunk-size line). The caller makes sure nothing was merged into that range.
   */
  setRange(index: number, offset: number, length: number): void {
    if (!(index >= 0 && index < this.count)) throw new RangeError(`range ${index} outside 0..${this.count - 1}`);
    if (length === 0) throw new RangeError('a range holds at least one byte');
    this.byteLength += length - this.lengths[index]!;
    this.offsets[index] = offset;
    this.lengths[index] = length;
  }

  /** Appends a range; a range that continues the previous one in the same source is merged into it. */
  push(source: Uint8Array, offset: number, length: number): void {
    if (length === 0) return;
    // Fields read once into locals: a few ranges per frame, and XS counts every property access (docs/performance.md).
    const count = this.count;
    const lengths = this.lengths;
    this.byteLength += length;
    if (count > 0 && this.sources[count - 1] === source && this.offsets[count - 1]! + lengths[count - 1]! === offset) {
      lengths[count - 1] += length;
      return;
    }
    if (count === this.capacity) {
      this.byteLength -= length;
      throw new FieldcamError('MKV_VIEW_LIST_FULL', `view list capacity ${this.capacity} exceeded`);
    }
    this.sources[count] = source;
    this.offsets[count] = offset;
    lengths[count] = length;
    this.count = count + 1;
  }
}
