import { type Frame, MAX_NALS_PER_FRAME } from '../media/Frame.ts';

/** Entries per NAL unit in `AccessUnit.table`: logical header offset, length, start-code length, type. */
export const NAL_ROW = 4;

/**
 * The access unit being assembled (H.264 7.4.1.2): its NAL table in logical stream offsets, which become
 * frame-relative when copied into a Frame record. One instance per reader, reused; allocates nothing. The table is
 * one Float64Array so that a board's access-unit walk (ByteScanPort.closeAccessUnit) fills it in place.
 */
export class AccessUnit {
  /** NAL_ROW entries per NAL unit, MAX_NALS_PER_FRAME rows. First: the steady-state read passes it (XS looks fields up in order). */
  readonly table = new Float64Array(NAL_ROW * MAX_NALS_PER_FRAME);
  /** Logical offset of the first start code. */
  start = 0;
  /** Logical end of the last NAL unit (trailing zero bytes excluded). */
  end = 0;
  /** A slice (NAL type 1 or 5) has been added: the next boundary NAL unit ends this access unit. */
  hasVcl = false;
  /** An IDR slice (type 5) has been added. */
  key = false;
  count = 0;

  get size(): number {
    return this.end - this.start;
  }

  get full(): boolean {
    return this.count === MAX_NALS_PER_FRAME;
  }

  begin(start: number): void {
    this.start = start;
    this.end = start;
    this.hasVcl = false;
    this.key = false;
    this.count = 0;
  }

  /**
   * Appends a NAL unit whose header byte is at logical offset `header`; the caller checks `full` first. `vcl` and
   * `key` default to H.264's reading of `type` (slice 1/5, IDR 5); the H.265 reader passes its own.
   */
  add(header: number, length: number, prefix: number, type: number, vcl = type === 1 || type === 5, key = type === 5): void {
    const r = NAL_ROW * this.count++;
    const table = this.table;
    table[r] = header;
    table[r + 1] = length;
    table[r + 2] = prefix;
    table[r + 3] = type;
    this.end = header + length;
    if (vcl) {
      this.hasVcl = true;
      if (key) this.key = true;
    }
  }

  /**
   * Writes the first `count` rows of the NAL table (offsets relative to the frame's first byte, `start`) and the key
   * flag into `frame` (the access unit's own values, or those a board's walk handed out for a complete one).
   */
  copyTo(frame: Frame, start = this.start, count = this.count, key = this.key): void {
    const table = this.table;
    for (let i = 0, r = 0; i < count; i++, r += NAL_ROW) {
      frame.nalOffset[i] = (table[r] as number) - start;
      frame.nalLength[i] = table[r + 1] as number;
      frame.nalPrefix[i] = table[r + 2] as number;
      frame.nalType[i] = table[r + 3] as number;
    }
    frame.nalCount = count;
    frame.key = key;
  }
}
