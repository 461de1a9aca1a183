import { PACKET_TYPE } from './mqttConstants.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

/** Writes PINGREQ (§3.12): 0xc0 0x00. Returns 2. */
export function writePingreq(out: Uint8Array, offset = 0): number {
  fitPacket(0, out, offset);
  return writeFixedHeader(PACKET_TYPE.PINGREQ << 4, 0, out, offset) - offset;
}
