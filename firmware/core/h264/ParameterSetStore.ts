import { FieldcamError } from '../errors.ts';
import { BitReader } from './BitReader.ts';
import { buildAvcDecoderConfig } from './buildAvcDecoderConfig.ts';
import { copyBytes, sameBytes, type ByteSource } from './ByteSource.ts';
import { parseSps, type SpsInfo } from './parseSps.ts';

/** The active SPS/PPS pair and the CodecPrivate built from it. Bytes are copies, made once per change. */
export interface ParameterSets {
  readonly sps: SpsInfo;
  readonly spsBytes: Uint8Array;
  readonly ppsBytes: Uint8Array;
  /** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1). */
  readonly codecPrivate: Uint8Array;
}

/**
 * Tracks the most recent SPS and PPS seen in the stream. Encoders repeat them before every IDR; a repeat with
 * identical bytes is recognised by comparing in place, so the steady state allocates and parses nothing.
 * fieldcam streams one SPS/PPS pair at a time (one MKV track): the latest of each wins.
 */
export class ParameterSetStore {
  private spsInfo: SpsInfo | undefined;
  /** The stored SPS and PPS NAL units (header byte first), compared in place with each repeat; read-only outside. */
  spsBytes: Uint8Array | undefined;
  ppsBytes: Uint8Array | undefined;
  /** pic_parameter_set_id and seq_parameter_set_id of the stored PPS (7.3.2.2). */
  ppsId = -1;
  ppsSpsId = -1;
  /** A set changed since the last `takeChange()` (read-only outside: the reader tests it before calling). */
  changed = false;
  private published: ParameterSets | undefined;
  private readonly bits = new BitReader();

  /** The SPS slices are currently read against; undefined until a valid one arrives. */
  get sps(): SpsInfo | undefined {
    return this.spsInfo;
  }

  /** True when a slice can be decoded: a valid SPS and a PPS referring to it. */
  get ready(): boolean {
    return this.spsInfo !== undefined && this.ppsBytes !== undefined && this.ppsSpsId === this.spsInfo.spsId;
  }

  /** The pair last handed out by `takeChange()`. */
  get current(): ParameterSets | undefined {
    return this.published;
  }

  /** Takes the SPS NAL unit at `offset` (header byte) of `length` bytes. Throws when it is invalid. */
  offerSps(source: ByteSource, offset: number, length: number): void {
    if (this.spsBytes && sameBytes(this.spsBytes, source, offset, length)) return;
    // Forget the old SPS first: if the new one does not parse, slices must wait for a valid one.
    this.spsInfo = undefined;
    this.spsBytes = undefined;
    const bytes = copyBytes(source, offset, length);
    this.spsInfo = parseSps(bytes, 0, length);
    this.spsBytes = bytes;
    this.changed = true;
  }

  /** Takes the PPS NAL unit at `offset` (header byte) of `length` bytes. Throws when it is invalid. */
  offerPps(source: ByteSource, offset: number, length: number): void {
    if (this.ppsBytes && sameBytes(this.ppsBytes, source, offset, length)) return;
    this.ppsBytes = undefined;
    this.ppsId = this.ppsSpsId = -1;
    const bytes = copyBytes(source, offset, length);
    const r = this.bits.reset(bytes, 0, length, 'PPS', 'H264_PPS_INVALID');
    r.skip(8); // NAL header
    const ppsId = r.ue();
    const spsId = r.ue();
    if (ppsId > 255 || spsId > 31) {
      throw new FieldcamError('H264_PPS_INVALID', `PPS: pic_parameter_set_id ${ppsId} / seq_parameter_set_id ${spsId} out of range (7.4.2.2)`);
    }
    r.bit(); // entropy_coding_mode_flag: a PPS this short is cut
    this.ppsId = ppsId;
    this.ppsSpsId = spsId;
    this.ppsBytes = bytes;
    this.changed = true;
  }

  /** The new pair when either set changed since the last call (and both are valid), else undefined. */
  takeChange(): ParameterSets | undefined {
    if (!this.changed || !this.ready) return undefined;
    this.changed = false;
    const spsBytes = this.spsBytes as Uint8Array;
    const ppsBytes = this.ppsBytes as Uint8Array;
    this.published = Object.freeze({
      sps: this.spsInfo as SpsInfo,
      spsBytes,
      ppsBytes,
      codecPrivate: buildAvcDecoderConfig(spsBytes, ppsBytes),
    });
    return this.published;
  }
}
