import { FieldcamError } from '../errors.ts';
import { MAX_REMAINING_LENGTH } from './mqttConstants.ts';

/** Bytes the Remaining Length varint takes for `n` (§2.2.3, Table 2.4): 1 to 4. */
export function remainingLengthSize(n: number): number {
  if (n > MAX_REMAINING_LENGTH) {
    throw new FieldcamError('MQTT_PACKET_TOO_LARGE', `a remaining length of ${n} bytes exceeds ${MAX_REMAINING_LENGTH} (§2.2.3)`);
  }
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : 4;
}

/** Writes `n` as the §2.2.3 varint (7 bits a byte, least significant first) and returns the next index. */
export function writeRemainingLength(n: number, out: Uint8Array, p: number): number {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    out[p++] = b;
  } while (n > 0);
  return p;
}
