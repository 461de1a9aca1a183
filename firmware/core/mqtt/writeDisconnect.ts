import { PACKET_TYPE } from './mqttConstants.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

/** Writes DISCONNECT (§3.14): 0xe0 0x00; the broker then discards the will ([MQTT-3.14.4-3]). Returns 2. */
export function writeDisconnect(out: Uint8Array, offset = 0): number {
  fitPacket(0, out, offset);
  return writeFixedHeader(PACKET_TYPE.DISCONNECT << 4, 0, out, offset) - offset;
}
