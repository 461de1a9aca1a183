import { type Frame, MAX_NALS_PER_FRAME } from '../media/Frame.ts';

/**
 * The access unit being assembled (H.264 7.4.1.2): its NAL table in logical stream offsets, which become
 * frame-relative when copied into a Frame record. One instance per reader, reused; allocates nothing.
 */
export class AccessUnit {
  /** Logical offset of the first start code. */
  start = 0;
  /** Logical end of the last NAL unit (trailing zero bytes excluded). */
  end = 0;
  /** A slice (NAL type 1 or 5) has been added: the next boundary NAL unit ends this access unit. */
  hasVcl = false;
  /** An IDR slice (type 5) has been added. */
  key = false;
  count = 0;
  private readonly nalAt = new Float64Array(MAX_NALS_PER_FRAME);
  private readonly nalLength = new Uint32Array(MAX_NALS_PER_FRAME);
  private readonly nalPrefix = new Uint8Array(MAX_NALS_PER_FRAME);
  private readonly nalType = new Uint8Array(MAX_NALS_PER_FRAME);

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
    const i = this.count++;
    this.nalAt[i] = header;
    this.nalLength[i] = length;
    this.nalPrefix[i] = prefix;
    this.nalType[i] = type;
    this.end = header + length;
    if (vcl) {
      this.hasVcl = true;
      if (key) this.key = true;
    }
  }

  /** Writes the NAL table (offsets relative to the frame's first byte) and the key flag into `frame`. */
  copyTo(frame: Frame): void {
    const n = this.count;
    for (let i = 0; i < n; i++) {
      frame.nalOffset[i] = (this.nalAt[i] as number) - this.start;
      frame.nalLength[i] = this.nalLength[i] as number;
      frame.nalPrefix[i] = this.nalPrefix[i] as number;
      frame.nalType[i] = this.nalType[i] as number;
    }
    frame.nalCount = n;
    frame.key = this.key;
  }
}
