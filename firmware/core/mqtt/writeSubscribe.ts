import { checkPacketId, checkQos } from './checkArguments.ts';
import { checkTopicFilter } from './checkTopic.ts';
import { PACKET_TYPE, type QoS } from './mqttConstants.ts';
import { writeMqttString, writeUint16 } from './mqttString.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

export interface Subscription {
  readonly filter: string;
  /** Requested QoS (§3.8.3); the broker may grant less (SUBACK). */
  readonly qos: QoS;
}

// SUBSCRIBE and UNSUBSCRIBE carry fixed-header flags 0010 ([MQTT-3.8.1-1], [MQTT-3.10.1-1]).
const RESERVED_FLAGS = 0b0010;

/**
 * Writes SUBSCRIBE (§3.8) for one or more filters ([MQTT-3.8.3-3]) into `out` at `offset` and returns its
 * length. Filters are validated (MQTT_TOPIC_INVALID) before a byte is written. Nothing is allocated.
 */
export function writeSubscribe(packetId: number, subscriptions: readonly Subscription[], out: Uint8Array, offset = 0): number {
  checkPacketId(packetId);
  if (subscriptions.length === 0) throw new RangeError('subscriptions must hold at least one filter ([MQTT-3.8.3-3])');
  let remaining = 2;
  for (let i = 0; i < subscriptions.length; i++) {
    checkQos(subscriptions[i]!.qos, `subscriptions[${i}].qos`);
    remaining += 2 + checkTopicFilter(subscriptions[i]!.filter) + 1;
  }
  fitPacket(remaining, out, offset);
  let p = writeFixedHeader((PACKET_TYPE.SUBSCRIBE << 4) | RESERVED_FLAGS, remaining, out, offset);
  p = writeUint16(packetId, out, p);
  for (let i = 0; i < subscriptions.length; i++) {
    const { filter, qos } = subscriptions[i]!;
    // Measured twice rather than kept in an allocated array: filters are short and few.
    p = writeMqttString(filter, checkTopicFilter(filter), out, p);
    out[p++] = qos; // Requested QoS; the upper six bits are reserved zero (§3.8.3.1)
  }
  return p - offset;
}
