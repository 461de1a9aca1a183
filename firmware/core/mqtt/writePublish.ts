import { checkPacketId, checkQos } from './checkArguments.ts';
import { checkTopicName } from './checkTopic.ts';
import { PACKET_TYPE, PUBLISH_FLAG, type QoS } from './mqttConstants.ts';
import { writeMqttString, writeUint16 } from './mqttString.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

export interface PublishFields {
  /** A Topic Name: no wildcards (§3.3.2.1). */
  readonly topic: string;
  readonly qos: QoS;
  /** §3.3.1.3. */
  readonly retain?: boolean;
  /** §3.3.1.1: set on a QoS 1 re-delivery; must be false at QoS 0 ([MQTT-3.3.1-2]). */
  readonly dup?: boolean;
  /** Required, 1-65535, at QoS 1 (§3.3.2.2); absent at QoS 0. */
  readonly packetId?: number;
}

/**
 * Writes the head of a PUBLISH packet (§3.3) — fixed header, Topic Name, Packet Identifier — for a payload
 * of `payloadLength` bytes that the caller sends right after it, e.g. as the next range of a ViewList gather
 * write, so the payload is never copied. Returns the head length. Validation as writePublish.
 */
export function writePublishHead(fields: PublishFields, payloadLength: number, out: Uint8Array, offset = 0): number {
  return writeHead(fields, payloadLength, out, offset, payloadLength);
}

/**
 * Writes a whole PUBLISH packet (§3.3), `payload` copied after the head, into `out` at `offset`; returns
 * its length. For large payloads prefer writePublishHead plus a gather write. Everything is checked before
 * a byte is written: MQTT_TOPIC_INVALID for a bad topic name, MQTT_BUFFER_TOO_SMALL, RangeError for
 * QoS / packet id / dup misuse.
 */
export function writePublish(fields: PublishFields, payload: Uint8Array, out: Uint8Array, offset = 0): number {
  const head = writeHead(fields, payload.length, out, offset, 0);
  out.set(payload, offset + head);
  return head + payload.length;
}

/** Validates, checks the fit (all but `elsewhere` bytes in `out`) and writes the head; returns its length. */
function writeHead(fields: PublishFields, payloadLength: number, out: Uint8Array, offset: number, elsewhere: number): number {
  const { topic, qos, retain = false, dup = false, packetId } = fields;
  checkQos(qos, 'qos');
  if (qos === 0) {
    if (dup) throw new RangeError('dup must be false at QoS 0 ([MQTT-3.3.1-2])');
    if (packetId !== undefined) throw new RangeError('packetId is only sent at QoS 1 (§3.3.2.2)');
  } else checkPacketId(packetId);
  if (!Number.isInteger(payloadLength) || payloadLength < 0) throw new RangeError(`payloadLength must be a non-negative integer, got ${payloadLength}`);
  const topicBytes = checkTopicName(topic);
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadLength;
  fitPacket(remaining, out, offset, elsewhere);
  const first = (PACKET_TYPE.PUBLISH << 4) | (dup ? PUBLISH_FLAG.DUP : 0) | (qos << PUBLISH_FLAG.QOS_SHIFT) | (retain ? PUBLISH_FLAG.RETAIN : 0);
  let p = writeFixedHeader(first, remaining, out, offset);
  p = writeMqttString(topic, topicBytes, out, p);
  if (qos > 0) p = writeUint16(packetId!, out, p);
  return p - offset;
}
