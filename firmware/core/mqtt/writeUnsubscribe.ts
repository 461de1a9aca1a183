import { checkPacketId } from './checkArguments.ts';
import { checkTopicFilter } from './checkTopic.ts';
import { PACKET_TYPE } from './mqttConstants.ts';
import { writeMqttString, writeUint16 } from './mqttString.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

const RESERVED_FLAGS = 0b0010; // [MQTT-3.10.1-1]

/** Writes UNSUBSCRIBE (§3.10) for one or more filters ([MQTT-3.10.3-2]); returns its length. */
export function writeUnsubscribe(packetId: number, filters: readonly string[], out: Uint8Array, offset = 0): number {
  checkPacketId(packetId);
  if (filters.length === 0) throw new RangeError('filters must hold at least one filter ([MQTT-3.10.3-2])');
  let remaining = 2;
  for (let i = 0; i < filters.length; i++) remaining += 2 + checkTopicFilter(filters[i]!);
  fitPacket(remaining, out, offset);
  let p = writeFixedHeader((PACKET_TYPE.UNSUBSCRIBE << 4) | RESERVED_FLAGS, remaining, out, offset);
  p = writeUint16(packetId, out, p);
  for (let i = 0; i < filters.length; i++) p = writeMqttString(filters[i]!, checkTopicFilter(filters[i]!), out, p);
  return p - offset;
}
