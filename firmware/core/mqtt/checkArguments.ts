import type { QoS } from './mqttConstants.ts';

/** QoS the client sends or requests: 0 or 1 (QoS 2 flows are not implemented). */
export function checkQos(qos: unknown, name: string): asserts qos is QoS {
  if (qos !== 0 && qos !== 1) throw new RangeError(`${name} must be 0 or 1, got ${String(qos)}`);
}

/** A Packet Identifier: non-zero 16-bit ([MQTT-2.3.1-1]). */
export function checkPacketId(packetId: unknown, name = 'packetId'): asserts packetId is number {
  if (typeof packetId !== 'number' || !Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
    throw new RangeError(`${name} must be an integer in 1..65535 ([MQTT-2.3.1-1]), got ${String(packetId)}`);
  }
}
