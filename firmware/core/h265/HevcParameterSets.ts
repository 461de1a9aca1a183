import { FieldcamError, isFieldcamError } from '../errors.ts';
import { copyBytes, sameBytes, type ByteSource } from '../h264/ByteSource.ts';
import { BitReader } from '../h264/BitReader.ts';
import type { CodecParameters } from '../media/FrameReader.ts';
import { buildHevcDecoderConfig } from './buildHevcDecoderConfig.ts';
import { parseHevcSps, type HevcSpsInfo } from './parseHevcSps.ts';

/** The active VPS/SPS/PPS and the hvcC CodecPrivate built from them. */
export interface HevcParameters extends CodecParameters {
  readonly sps: HevcSpsInfo;
}

/**
 * The most recent VPS, SPS and PPS of an H.265 stream (one each: one Matroska track). Encoders repeat them before
 * every IRAP picture; a repeat with identical bytes is recognised in place, so the steady state allocates and
 * parses nothing. An SPS that asks for picture reordering (B-frames) is refused here, once per change, and the
 * refusal is kept so slices that follow report it rather than a missing SPS.
 */
export class HevcParameterSets {
  private vps: Uint8Array | undefined;
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;
  private spsInfo: HevcSpsInfo | undefined;
  /** pps_seq_parameter_set_id of the stored PPS. */
  private ppsSpsId = -1;
  /** A set changed since the last `takeChange()` (read-only outside: the reader tests it before calling). */
  changed = false;
  private published: HevcParameters | undefined;
  /** Why the last SPS offered was refused (until a good one comes). */
  refusal: FieldcamError | undefined;
  private readonly bits = new BitReader();

  /** A VPS, a valid SPS and a PPS referring to it: slices can be read. */
  get ready(): boolean {
    return this.vps !== undefined && this.spsInfo !== undefined && this.pps !== undefined && this.ppsSpsId === this.spsInfo.spsId;
  }

  get current(): HevcParameters | undefined {
    return this.published;
  }

  offerVps(source: ByteSource, offset: number, length: number): void {
    if (this.vps && sameBytes(this.vps, source, offset, length)) return;
    if (length < 4) throw new FieldcamError('H265_SPS_INVALID', `VPS of ${length} bytes is cut`);
    this.vps = copyBytes(source, offset, length);
    this.changed = true;
  }

  offerSps(source: ByteSource, offset: number, length: number): void {
    if (this.sps && sameBytes(this.sps, source, offset, length)) return;
    this.sps = undefined;
    this.spsInfo = undefined;
    const bytes = copyBytes(source, offset, length);
    try {
      const info = parseHevcSps(bytes, 0, length);
      if (info.maxNumReorderPics > 0) {
        throw new FieldcamError(
          'H265_B_FRAMES_UNSUPPORTED',
          `the SPS at byte ${offset} allows ${info.maxNumReorderPics} reordered picture(s) (sps_max_num_reorder_pics): the encoder uses B-frames`,
        );
      }
      this.spsInfo = info;
    } catch (err) {
      if (isFieldcamError(err)) this.refusal = err;
      throw err;
    }
    this.refusal = undefined;
    this.sps = bytes;
    this.changed = true;
  }

  offerPps(source: ByteSource, offset: number, length: number): void {
    if (this.pps && sameBytes(this.pps, source, offset, length)) return;
    this.pps = undefined;
    this.ppsSpsId = -1;
    const bytes = copyBytes(source, offset, length);
    const r = this.bits.reset(bytes, 0, length, 'PPS', 'H265_PPS_INVALID');
    let ppsId: number;
    let spsId: number;
    try {
      r.skip(16); // NAL header
      ppsId = r.ue();
      spsId = r.ue();
    } catch (err) {
      if (isFieldcamError(err, 'H264_TRUNCATED_NAL')) throw new FieldcamError('H265_PPS_INVALID', err.message);
      throw err;
    }
    if (ppsId > 63 || spsId > 15) {
      throw new FieldcamError('H265_PPS_INVALID', `PPS: pps_pic_parameter_set_id ${ppsId} / pps_seq_parameter_set_id ${spsId} out of range (7.4.3.3)`);
    }
    this.ppsSpsId = spsId;
    this.pps = bytes;
    this.changed = true;
  }

  /** The new parameters when a set changed since the last call (and all are valid), else undefined. */
  takeChange(): HevcParameters | undefined {
    if (!this.changed || !this.ready) return undefined;
    this.changed = false;
    const info = this.spsInfo as HevcSpsInfo;
    this.published = Object.freeze({
      sps: info,
      codecPrivate: buildHevcDecoderConfig(this.vps as Uint8Array, this.sps as Uint8Array, this.pps as Uint8Array, info),
    });
    return this.published;
  }
}
