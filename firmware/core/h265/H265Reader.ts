import { FieldcamError } from '../errors.ts';
import { AnnexBReader, type AnnexBReaderOptions, HEADER_BEGINS, HEADER_JOINS, HEADER_WAIT, type NalSyntax, vclTable } from '../h264/AnnexBReader.ts';
import { type HevcParameters, HevcParameterSets } from './HevcParameterSets.ts';

/** H265Reader's options: the shared Annex-B reader's (AnnexBReader.ts) with HEVC's parameter sets. */
export type H265ReaderOptions = AnnexBReaderOptions<HevcParameters>;

// NAL unit types (H.265 Table 7-1).
const VPS = 32;
const SPS = 33;
const PPS = 34;
const AUD = 35;
const PREFIX_SEI = 39;
const FD = 38;
const IRAP_FIRST = 16; // BLA_W_LP .. RSV_IRAP_VCL23: random access points, fieldcam's key frames
const IRAP_LAST = 23;
/** The type given to a NAL unit of another layer (scalable/multiview extensions): no rule matches it. */
const OTHER_LAYER = 63;

/** What AnnexBReader needs to know of H.265: a 2-byte NAL header; types 0..31 are VCL (slice segments). */
const H265_SYNTAX: NalSyntax = Object.freeze({
  name: 'H.265',
  reader: 'H265Reader',
  headerBytes: 2,
  vcl: vclTable((type) => type < 32),
  notAnnexB: 'H265_NOT_ANNEXB',
  truncatedNal: 'H265_TRUNCATED_NAL',
  noParameterSets: 'H265_NO_PARAMETER_SETS',
  callOrder: 'H265_CALL_ORDER',
  nativeWalks: false, // the board's walks encode H.264's rules; H.265 uses the native start-code search only
});

/** NAL types that begin an access unit once the current one has a picture (7.4.2.4.4), slices aside. */
function beginsAccessUnit(type: number): boolean {
  return (type >= VPS && type <= AUD) || type === PREFIX_SEI || (type >= 41 && type <= 44) || (type >= 48 && type <= 55);
}

/**
 * Splits an Annex-B H.265 byte stream into access units read straight into pool slots (the state machine shared
 * with H.264 is AnnexBReader). Boundaries follow 7.4.2.4.4: once the access unit has a picture, a VPS, SPS, PPS,
 * AUD, prefix SEI, NAL types 41..44 / 48..55, or a slice segment with first_slice_segment_in_pic_flag (the first
 * bit after the 2-byte header) begins the next. `key` is true iff the picture is an IRAP (types 16..23). AUD and
 * filler NAL units stay out of the NAL table, so the payload carries neither. B-frames are refused from the SPS
 * (sps_max_num_reorder_pics > 0). Parameter sets are copied only when they change.
 */
export class H265Reader extends AnnexBReader<HevcParameters> {
  protected readonly params = new HevcParameterSets();

  constructor(options: H265ReaderOptions) {
    super(H265_SYNTAX, options);
  }

  /**
   * Reads the open NAL's 2-byte header (and, for a slice after a picture, first_slice_segment_in_pic_flag) and
   * decides whether it begins an access unit (AnnexBReader.readHeader).
   */
  protected readHeader(available: number, end: number, auHasVcl: boolean): number {
    const h = this.nalHeader;
    if (h + 1 >= available) {
      if (end < 0) return HEADER_WAIT;
      throw new FieldcamError('H265_TRUNCATED_NAL', `NAL unit at byte ${this.nalStart} (frame #${this.seq}) is shorter than its 2-byte header`);
    }
    const b0 = this.cursor.byteAt(h);
    const b1 = this.cursor.byteAt(h + 1);
    if (b1 === 0 && end < 0) return HEADER_WAIT;
    if (b0 & 0x80) {
      throw new FieldcamError('H265_FORBIDDEN_BIT', `NAL unit at byte ${h} (header 0x${b0.toString(16)}, frame #${this.seq}) has forbidden_zero_bit set`);
    }
    if ((b1 & 7) === 0) throw new FieldcamError('H265_TRUNCATED_NAL', `NAL unit at byte ${h} (frame #${this.seq}) has nuh_temporal_id_plus1 0`);
    const type = b0 >> 1;
    const layer = ((b0 & 1) << 5) | (b1 >> 3);
    let startsAu = false;
    if (type < 32 && layer === 0 && auHasVcl) {
      if (h + 2 >= available) {
        if (end < 0) return HEADER_WAIT;
        throw new FieldcamError('H265_TRUNCATED_NAL', `slice segment at byte ${h} (frame #${this.seq}) is only its header`);
      }
      const next = this.cursor.byteAt(h + 2);
      if (next === 0 && end < 0) return HEADER_WAIT;
      startsAu = (next & 0x80) !== 0; // first_slice_segment_in_pic_flag
    } else if (layer === 0 && beginsAccessUnit(type)) {
      startsAu = auHasVcl;
    }
    this.nalType = layer === 0 ? type : OTHER_LAYER;
    return startsAu ? HEADER_BEGINS : HEADER_JOINS;
  }

  /** Validates the classified NAL unit now that its length is known and adds it to the access unit. */
  protected closeNal(end: number): void {
    const h = this.nalHeader;
    const type = this.nalType;
    const length = end - h;
    const vcl = type < 32;
    try {
      if (type === VPS) this.params.offerVps(this.cursor, h, length);
      else if (type === SPS) this.params.offerSps(this.cursor, h, length);
      else if (type === PPS) this.params.offerPps(this.cursor, h, length);
      else if (vcl && !this.params.ready) {
        throw (
          this.params.refusal ??
          new FieldcamError('H265_NO_PARAMETER_SETS', `slice segment (NAL type ${type}) at byte ${h}, frame #${this.seq} arrived before a VPS, SPS and PPS`)
        );
      }
      if (type === AUD || type === FD) return; // no meaning inside a length-prefixed sample
      if (this.au.full) {
        throw new FieldcamError('H265_TOO_MANY_NALS', `access unit #${this.seq} at byte ${this.au.start} has more than ${this.au.count} NAL units`);
      }
    } catch (err) {
      this.recover(err, vcl);
      return;
    }
    this.au.add(h, length, this.nalPrefix, type, vcl, type >= IRAP_FIRST && type <= IRAP_LAST);
  }
}
