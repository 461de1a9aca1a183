import { FieldcamError } from '../errors.ts';

/** Zero bytes tolerated before the first start code (leading_zero_8bits, H.264 B.1.1); encoders write at most one. */
export const MAX_LEADING_ZEROS = 32;

/**
 * Checks the bytes before the first start code of an Annex-B stream (B.1.1): only a few zero bytes may precede
 * it. `zeros` is the count carried from earlier reads; returns the new count, or -1 once `00 00 01` was seen.
 * Throws H264_NOT_ANNEXB naming the first offending byte, with a hint when it looks like a container.
 */
export function checkStreamStart(bytes: Uint8Array, from: number, to: number, base: number, zeros: number): number {
  for (let i = from; i < to; i++) {
    const b = bytes[i] as number;
    if (b === 0) {
      if (++zeros > MAX_LEADING_ZEROS) {
        throw new FieldcamError('H264_NOT_ANNEXB', `more than ${MAX_LEADING_ZEROS} zero bytes before the first start code`);
      }
    } else if (b === 1 && zeros >= 2) {
      return -1;
    } else {
      const at = base + i;
      const hint = at === 0 && b === 0x47 ? ' (an MPEG-TS sync byte?)' : at === 0 && b === 0x1a ? ' (a Matroska/WebM file?)' : '';
      const found = b.toString(16).padStart(2, '0');
      throw new FieldcamError('H264_NOT_ANNEXB', `expected an Annex-B start code (00 00 01) at the start of the stream, found 0x${found} at byte ${at}${hint}`);
    }
  }
  return zeros;
}
