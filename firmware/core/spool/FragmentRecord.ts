import { FieldcamError } from '../errors.ts';
import { MAX_NALS_PER_FRAME, type Frame } from '../media/Frame.ts';
import type { ViewList } from '../media/ViewList.ts';
import { Slot } from '../pool/Slot.ts';

/** Per frame: pts f64, dts f64, duration f64, size u32, flags u8, NAL count u8; then per NAL: offset, length u32, prefix, type u8. */
const FRAME_META = 30;
const NAL_META = 10;
const COUNT = 4;
const FLAG_KEY = 1;
const FLAG_FRAGMENT_START = 2;

/**
 * One whole fragment as a spool record (issue 15): a small table of the frames' timing, flags and NAL units,
 * then their payload bytes in order. Encoding gathers the payload straight from the pool slots (no copy: the
 * ViewList points into them until the record is appended); decoding rebuilds Frame records over the buffer the
 * record was read into, so the uploader sends a spooled fragment exactly as it would have sent it from the pool.
 * The table goes into a scratch allocated once, for `maxFrames` frames.
 */
export class FragmentRecord {
  private readonly maxFrames: number;
  private readonly table: Uint8Array;
  private readonly view: DataView;

  constructor(maxFrames: number) {
    if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError('maxFrames must be a positive integer');
    this.maxFrames = maxFrames;
    this.table = new Uint8Array(COUNT + maxFrames * (FRAME_META + NAL_META * MAX_NALS_PER_FRAME));
    this.view = new DataView(this.table.buffer);
  }

  /**
   * Appends the record of `count` frames (`frameAt(0)` opens the fragment) to `out`: the table (valid until the
   * next encode) and each frame's payload pieces. `out` needs 1 + 2 × count free ranges.
   */
  encode(count: number, frameAt: (i: number) => Frame, out: ViewList): void {
    if (count < 1 || count > this.maxFrames) throw new RangeError(`a fragment record holds 1-${this.maxFrames} frames, got ${count}`);
    const v = this.view;
    v.setUint32(0, count, true);
    let at = COUNT;
    for (let i = 0; i < count; i++) {
      const f = frameAt(i);
      v.setFloat64(at, f.pts, true);
      v.setFloat64(at + 8, f.dts, true);
      v.setFloat64(at + 16, f.duration, true);
      v.setUint32(at + 24, f.size, true);
      v.setUint8(at + 28, (f.key ? FLAG_KEY : 0) | (f.fragmentStart ? FLAG_FRAGMENT_START : 0));
      v.setUint8(at + 29, f.nalCount);
      at += FRAME_META;
      for (let k = 0; k < f.nalCount; k++) {
        v.setUint32(at, f.nalOffset[k]!, true);
        v.setUint32(at + 4, f.nalLength[k]!, true);
        v.setUint8(at + 8, f.nalPrefix[k]!);
        v.setUint8(at + 9, f.nalType[k]!);
        at += NAL_META;
      }
    }
    out.push(this.table, 0, at);
    for (let i = 0; i < count; i++) {
      const f = frameAt(i);
      if (f.endA > f.startA) out.push(f.slotA!.bytes, f.startA, f.endA - f.startA);
      if (f.slotB && f.endB > f.startB) out.push(f.slotB.bytes, f.startB, f.endB - f.startB);
    }
  }

  /**
   * Rebuilds the frames of a record read into `bytes[0, length)`: fills `frames[0…]` (records the caller owns, with
   * NAL tables of MAX_NALS_PER_FRAME) whose payloads point into `bytes` (through `slot`, which must wrap `bytes`).
   * Returns the frame count; a table that does not fit its record is STORAGE_CORRUPT (the CRC passed, so the
   * writer and reader disagree: never trusted).
   */
  decode(slot: Slot, length: number, frames: readonly Frame[]): number {
    const bytes = slot.bytes;
    if (length > bytes.length || length < COUNT) throw corrupt(`record of ${length} bytes`);
    const v = new DataView(bytes.buffer, bytes.byteOffset, length);
    const count = v.getUint32(0, true);
    if (count < 1 || count > frames.length) throw corrupt(`${count} frames (room for ${frames.length})`);
    let at = COUNT;
    // First pass: the table's end, where the payloads begin.
    for (let i = 0; i < count; i++) {
      if (at + FRAME_META > length) throw corrupt('frame table past the record');
      at += FRAME_META + NAL_META * v.getUint8(at + 29);
    }
    let payload = at;
    at = COUNT;
    for (let i = 0; i < count; i++) {
      const f = frames[i]!;
      const size = v.getUint32(at + 24, true);
      const nals = v.getUint8(at + 29);
      if (nals > f.nalOffset.length || payload + size > length) throw corrupt(`frame ${i}: ${nals} NAL units, ${size} bytes`);
      f.pts = v.getFloat64(at, true);
      f.dts = v.getFloat64(at + 8, true);
      f.duration = v.getFloat64(at + 16, true);
      const flags = v.getUint8(at + 28);
      f.key = (flags & FLAG_KEY) !== 0;
      f.fragmentStart = (flags & FLAG_FRAGMENT_START) !== 0;
      f.sent = false;
      f.nalCount = nals;
      at += FRAME_META;
      for (let k = 0; k < nals; k++) {
        f.nalOffset[k] = v.getUint32(at, true);
        f.nalLength[k] = v.getUint32(at + 4, true);
        f.nalPrefix[k] = v.getUint8(at + 8);
        f.nalType[k] = v.getUint8(at + 9);
        if (f.nalOffset[k]! + f.nalLength[k]! > size) throw corrupt(`frame ${i}: NAL ${k} past the frame`);
        at += NAL_META;
      }
      f.slotA = slot;
      f.startA = payload;
      f.endA = payload + size;
      f.slotB = null;
      f.startB = f.endB = 0;
      payload += size;
    }
    return count;
  }
}

function corrupt(what: string): FieldcamError {
  return new FieldcamError('STORAGE_CORRUPT', `spool fragment record: ${what}`);
}

/** A Slot over a spool read buffer, for frames decoded from records (never part of the pool). */
export function recordSlot(bytes: Uint8Array): Slot {
  return new Slot(-1, bytes);
}
