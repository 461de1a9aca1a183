import { FieldcamError } from '../errors.ts';
import { BitReader } from './BitReader.ts';
import type { WordSource } from './ByteSource.ts';

/**
 * Header bytes copied per slice: the three leading fields need at most 3 x 63 bits plus emulation prevention
 * bytes; a longer read means impossible values, which the Exp-Golomb bound reports.
 */
const SCRATCH_BYTES = 32;
// The bit reader's names for errors, as constants: XS copies a string literal into a new chunk each time it is
// evaluated, and this runs on the media path (no per-frame allocation, test/runtime/hotPathAllocations.test.ts).
const WHAT = 'slice header';
const INVALID = 'H264_SLICE_INVALID';

/**
 * The leading fields of slice_header() (H.264 7.3.3) that the access-unit splitter needs: first_mb_in_slice,
 * slice_type and pic_parameter_set_id. Reused for every slice; reading copies at most 32 header bytes into a
 * scratch buffer owned by the instance (a slice header may straddle two pool slots), never payload.
 */
export class SliceHeader {
  firstMbInSlice = 0;
  /** 0..9 (Table 7-6); `sliceType % 5`: 0 P, 1 B, 2 I, 3 SP, 4 SI. */
  sliceType = 0;
  ppsId = 0;
  private readonly bits = new BitReader();
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);

  /**
   * Reads the slice NAL unit whose header byte is at `offset` and which is `length` bytes long. Throws
   * H264_TRUNCATED_NAL when the NAL ends inside these fields, H264_SLICE_INVALID for impossible codes.
   */
  read(source: WordSource, offset: number, length: number): this {
    const n = length - 1 < SCRATCH_BYTES ? length - 1 : SCRATCH_BYTES;
    // Almost every slice has its three fields in its first 32 bits (first_mb_in_slice 0 is one bit): read them
    // from one word when they are there (the media path's per-frame cost, design.md §3), else bit by bit. Values
    // read from a prefix are those the bit reader reads; every other case (errors included) is the bit reader's.
    if (n >= 4 && this.readWord(source.wordAt(offset + 1))) {
      return this;
    }
    for (let i = 0; i < n; i++) this.scratch[i] = source.byteAt(offset + 1 + i);
    this.parse(n > 0 ? n : 0);
    return this;
  }

  /**
   * The three fields from the first 32 bits when they hold them and no emulation_prevention_three_byte can be
   * among them: one needs two zero bytes just before it (7.4.1), and the NAL header byte before these four is never
   * zero, so only a zero pair among the first three bytes could bring one. ue(v) decoded with a count of leading zeros
   * instead of bit by bit. False (nothing set) otherwise: then the bit reader does it.
   */
  private readWord(word: number): boolean {
    if ((word & 0xffff0000) === 0 || (word & 0x00ffff00) === 0) return false;
    let w = word;
    let left = 32;
    // first_mb_in_slice, slice_type, pic_parameter_set_id: each 2 * zeros + 1 bits, value = code - 1 (9.1).
    const z0 = Math.clz32(w);
    if (2 * z0 + 1 > left) return false;
    const firstMb = (w >>> (31 - 2 * z0)) - 1;
    w = (w << (2 * z0 + 1)) >>> 0;
    left -= 2 * z0 + 1;
    const z1 = Math.clz32(w);
    if (2 * z1 + 1 > left) return false;
    const sliceType = (w >>> (31 - 2 * z1)) - 1;
    w = (w << (2 * z1 + 1)) >>> 0;
    left -= 2 * z1 + 1;
    const z2 = Math.clz32(w);
    if (2 * z2 + 1 > left) return false;
    this.firstMbInSlice = firstMb;
    this.sliceType = sliceType;
    this.ppsId = (w >>> (31 - 2 * z2)) - 1;
    return true;
  }

  private parse(bytes: number): void {
    const r = this.bits.reset(this.scratch, 0, bytes, WHAT, INVALID);
    this.firstMbInSlice = r.ue();
    this.sliceType = r.ue();
    this.ppsId = r.ue();
  }

  /**
   * Checks the fields just read against the stream: no B slices (fieldcam needs PTS == DTS), slice_type in
   * Table 7-6, IDR pictures made of I/SI slices (7.4.3), first_mb_in_slice inside the picture and 0 for its first
   * slice, no mix of IDR and non-IDR slices in one picture (7.4.1.2.4), the PPS id the stream defined.
   * `at` (byte offset) and `frame` only go into messages.
   */
  check(nalType: number, picSizeInMbs: number, ppsId: number, pictureHasSlices: boolean, pictureIsIdr: boolean, at: number, frame: number): void {
    const sliceType = this.sliceType;
    const kind = sliceType % 5;
    if (sliceType > 9) throw invalid(`slice_type ${sliceType}`, at, frame, '(Table 7-6 ends at 9)');
    if (kind === 1) {
      throw new FieldcamError('H264_B_FRAMES_UNSUPPORTED', `B slice (slice_type ${sliceType}) at byte ${at}, frame #${frame}: the encoder uses B-frames`);
    }
    if (nalType === 5 && kind !== 2 && kind !== 4) {
      throw invalid('IDR slice', at, frame, `has slice_type ${sliceType}; IDR pictures hold only I/SI slices (7.4.3)`);
    }
    if (this.firstMbInSlice >= picSizeInMbs) {
      throw invalid(`first_mb_in_slice ${this.firstMbInSlice}`, at, frame, `is beyond the ${picSizeInMbs} macroblocks of a picture`);
    }
    if (!pictureHasSlices && this.firstMbInSlice !== 0) {
      throw invalid('picture', at, frame, `starts at macroblock ${this.firstMbInSlice}: its first slice is missing`);
    }
    if (pictureHasSlices && (nalType === 5) !== pictureIsIdr) {
      throw invalid('access unit', at, frame, 'mixes IDR and non-IDR slices (7.4.1.2.4)');
    }
    if (this.ppsId !== ppsId) {
      throw new FieldcamError('H264_NO_PARAMETER_SETS', `slice at byte ${at}, frame #${frame} refers to PPS ${this.ppsId}, but the last PPS seen is ${ppsId}`);
    }
  }
}

function invalid(what: string, at: number, frame: number, why: string): FieldcamError {
  return new FieldcamError('H264_SLICE_INVALID', `${what} at byte ${at}, frame #${frame} ${why}`);
}
