import type { Frame } from '../media/Frame.ts';
import { pushFrameBytes } from '../media/pushFrameBytes.ts';
import type { ViewList } from '../media/ViewList.ts';

const NAL_AUD = 9; // access_unit_delimiter_rbsp (7.3.2.4): no meaning inside a length-prefixed sample
const NAL_FILLER = 12; // filler_data_rbsp (7.3.2.7): padding for constant bit rate over a wire, not for storage

/**
 * Appends `frame`'s payload to `out` as AVCC (ISO/IEC 14496-15 5.3.4.2: each NAL unit preceded by its length as a
 * 4-byte big-endian integer, lengthSizeMinusOne = 3) without copying payload bytes (design.md §3):
 *
 * - a NAL after a 4-byte start code gets its length written over those 4 bytes in place, and one range
 *   [offset - 4, offset + length) is pushed;
 * - a NAL after a 3-byte start code gets its length from `scratch` (4 bytes per NAL index, caller-owned,
 *   reused; views into it are valid until its next use), then the NAL bytes.
 *
 * H.264 AUD and filler NAL units are left out (`h264` false: an H.265 frame, whose reader keeps them out of the
 * table and whose types 9 and 12 are slices). Rewriting is idempotent, so a replay may call this again on the same frame.
 */
export function pushAvccPayload(frame: Frame, out: ViewList, scratch: Uint8Array, h264 = true): void {
  const n = frame.nalCount;
  // The tables and piece A read once per frame, not per NAL (XS counts every property read: docs/performance.md).
  const types = frame.nalType;
  const offsets = frame.nalOffset;
  const lengths = frame.nalLength;
  const prefixes = frame.nalPrefix;
  const lenA = frame.endA - frame.startA;
  for (let i = 0; i < n; i++) {
    const type = types[i] as number;
    if (h264 && (type === NAL_AUD || type === NAL_FILLER)) continue;
    const offset = offsets[i] as number;
    const length = lengths[i] as number;
    const b0 = length >>> 24;
    const b1 = (length >>> 16) & 0xff;
    const b2 = (length >>> 8) & 0xff;
    const b3 = length & 0xff;
    if (prefixes[i] === 4) {
      if (offset + length <= lenA) {
        // The whole range in piece A (all but the access unit a slot boundary cuts): write and push it directly.
        const bytes = frame.slotA!.bytes;
        const at = frame.startA + offset - 4;
        bytes[at] = b0;
        bytes[at + 1] = b1;
        bytes[at + 2] = b2;
        bytes[at + 3] = b3;
        out.push(bytes, at, length + 4);
        continue;
      }
      frame.setByteAt(offset - 4, b0);
      frame.setByteAt(offset - 3, b1);
      frame.setByteAt(offset - 2, b2);
      frame.setByteAt(offset - 1, b3);
      pushFrameBytes(frame, out, offset - 4, length + 4);
    } else {
      const at = i * 4;
      if (at + 4 > scratch.length) {
        throw new RangeError(`scratch must hold 4 bytes per NAL unit: ${scratch.length} bytes, NAL index ${i}`);
      }
      scratch[at] = b0;
      scratch[at + 1] = b1;
      scratch[at + 2] = b2;
      scratch[at + 3] = b3;
      out.push(scratch, at, 4);
      if (offset + length <= lenA) out.push(frame.slotA!.bytes, frame.startA + offset, length);
      else pushFrameBytes(frame, out, offset, length);
    }
  }
}
