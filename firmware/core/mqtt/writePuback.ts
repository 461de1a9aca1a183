import { checkPacketId } from './checkArguments.ts';
import { PACKET_TYPE } from './mqttConstants.ts';
import { writeUint16 } from './mqttString.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

/** Writes PUBACK for a received QoS 1 PUBLISH (§3.4): 0x40 0x02 and the Packet Identifier. Returns 4. */
export function writePuback(packetId: number, out: Uint8Array, offset = 0): number {
  checkPacketId(packetId);
  fitPacket(2, out, offset);
  return writeUint16(packetId, out, writeFixedHeader(PACKET_TYPE.PUBACK << 4, 2, out, offset)) - offset;
}
