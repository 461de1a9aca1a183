import { decodeUtf8 } from '../text/utf8.ts';
import { FieldcamError } from '../errors.ts';
import { CONNACK_RETURN, PACKET_TYPE, SUBACK_FAILURE, type QoS } from './mqttConstants.ts';
import type { MqttInbound } from './MqttInbound.ts';

const PLUS = 0x2b;
const HASH = 0x23;
const MAX_CONNACK_RETURN = CONNACK_RETURN.NOT_AUTHORIZED;

/**
 * Checks the first byte of a packet from the broker (§2.2.1 type, §2.2.2 flags) as soon as it arrives.
 * Throws MQTT_MALFORMED (reserved type, wrong reserved flags [MQTT-2.2.2-2], QoS 3 [MQTT-3.3.1-4]) or
 * MQTT_PROTOCOL_VIOLATION (a type only clients send, QoS 2, DUP at QoS 0 [MQTT-3.3.1-2]).
 */
export function checkFirstByte(first: number): void {
  const type = first >> 4;
  const flags = first & 0x0f;
  switch (type) {
    case PACKET_TYPE.PUBLISH: {
      const qos = (flags >> 1) & 3;
      if (qos === 3) throw malformed('a PUBLISH has both QoS bits set ([MQTT-3.3.1-4])');
      if (qos === 2) throw violation('a PUBLISH at QoS 2, above any QoS this client subscribes with ([MQTT-3.8.4-6])');
      if (qos === 0 && flags & 0x08) throw violation('a QoS 0 PUBLISH has DUP set ([MQTT-3.3.1-2])');
      return;
    }
    case PACKET_TYPE.CONNACK:
    case PACKET_TYPE.PUBACK:
    case PACKET_TYPE.SUBACK:
    case PACKET_TYPE.UNSUBACK:
    case PACKET_TYPE.PINGRESP:
      if (flags !== 0) throw malformed(`packet type ${type} has flags 0x${flags.toString(16)}, not 0 ([MQTT-2.2.2-2])`);
      return;
    case PACKET_TYPE.PUBREC:
    case PACKET_TYPE.PUBREL:
    case PACKET_TYPE.PUBCOMP:
      throw violation(`packet type ${type} belongs to the QoS 2 flow, which this client never starts (§4.3.3)`);
    case PACKET_TYPE.CONNECT:
    case PACKET_TYPE.SUBSCRIBE:
    case PACKET_TYPE.UNSUBSCRIBE:
    case PACKET_TYPE.PINGREQ:
    case PACKET_TYPE.DISCONNECT:
      throw violation(`packet type ${type} is sent only by clients (§2.2.1, Table 2.1)`);
    default:
      throw malformed(`packet type ${type} is reserved (§2.2.1, Table 2.1)`);
  }
}

/**
 * Checks the Remaining Length against the packet type (§3.x.1: fixed sizes, minimum sizes) as soon as it is
 * known, before any body byte is buffered. Throws MQTT_MALFORMED.
 */
export function checkRemainingLength(first: number, remaining: number): void {
  const type = first >> 4;
  let ok: boolean;
  switch (type) {
    case PACKET_TYPE.CONNACK: // §3.2.1
    case PACKET_TYPE.PUBACK: // §3.4.1
    case PACKET_TYPE.UNSUBACK: // §3.11.1
      ok = remaining === 2;
      break;
    case PACKET_TYPE.PINGRESP: // §3.13.1
      ok = remaining === 0;
      break;
    case PACKET_TYPE.SUBACK: // §3.9: Packet Identifier and at least one return code
      ok = remaining >= 3;
      break;
    default: // PUBLISH: topic length, at least one topic byte ([MQTT-4.7.3-1]), Packet Identifier at QoS 1
      ok = remaining >= 3 + (first & 0x06 ? 2 : 0);
  }
  if (!ok) throw malformed(`packet type ${type} cannot have a remaining length of ${remaining} (§3)`);
}

/**
 * Decodes the variable header and payload `b[start..end)` of a packet whose first byte passed checkFirstByte
 * and whose length passed checkRemainingLength. A PUBLISH payload is a view of `b`.
 */
export function parseInbound(first: number, b: Uint8Array, start: number, end: number): MqttInbound {
  const type = first >> 4;
  switch (type) {
    case PACKET_TYPE.CONNACK: {
      const ackFlags = b[start]!;
      const returnCode = b[start + 1]!;
      if (ackFlags & 0xfe) throw malformed('CONNACK reserved acknowledge-flag bits 7-1 are set (§3.2.2.1)');
      if (returnCode > MAX_CONNACK_RETURN) throw violation(`CONNACK return code ${returnCode} is reserved (§3.2.2.3)`);
      const sessionPresent = ackFlags === 1;
      if (sessionPresent && returnCode !== 0) throw violation('a refusing CONNACK has Session Present set ([MQTT-3.2.2-4])');
      return { type, sessionPresent, returnCode };
    }
    case PACKET_TYPE.PUBLISH:
      return parsePublish(first, b, start, end);
    case PACKET_TYPE.PUBACK:
    case PACKET_TYPE.UNSUBACK:
      return { type, packetId: packetId(b, start, type) };
    case PACKET_TYPE.SUBACK: {
      const id = packetId(b, start, type);
      const returnCodes: number[] = [];
      for (let p = start + 2; p < end; p++) {
        const code = b[p]!;
        if (code > 2 && code !== SUBACK_FAILURE) throw violation(`SUBACK return code 0x${code.toString(16)} is reserved ([MQTT-3.9.3-2])`);
        returnCodes.push(code);
      }
      return { type, packetId: id, returnCodes };
    }
    default:
      return { type: PACKET_TYPE.PINGRESP };
  }
}

function parsePublish(first: number, b: Uint8Array, start: number, end: number): MqttInbound {
  const qos = ((first >> 1) & 1) as QoS; // checkFirstByte allowed only QoS 0 and 1
  const topicLength = (b[start]! << 8) | b[start + 1]!;
  let p = start + 2;
  if (p + topicLength + (qos ? 2 : 0) > end) throw malformed(`the PUBLISH topic length ${topicLength} runs past the packet (§3.3.2.1)`);
  if (topicLength === 0) throw violation('the PUBLISH topic name is empty ([MQTT-4.7.3-1])');
  const topic = decodeUtf8(b, p, topicLength, true);
  if (topic === undefined) throw malformed('the PUBLISH topic name is not well-formed UTF-8 ([MQTT-1.5.3-1])');
  // NUL, "+" and "#" are single bytes that never occur inside a multi-byte UTF-8 sequence, so the bytes are
  // scanned rather than the string (indexing a string is not constant-time inside XS).
  for (let i = p; i < p + topicLength; i++) {
    const c = b[i]!;
    if (c === 0) throw malformed('the PUBLISH topic name holds U+0000 ([MQTT-1.5.3-2])');
    if (c === PLUS || c === HASH) throw violation(`the PUBLISH topic name ${JSON.stringify(topic)} holds a wildcard ([MQTT-3.3.2-2])`);
  }
  p += topicLength;
  let id = 0;
  if (qos) {
    id = packetId(b, p, PACKET_TYPE.PUBLISH);
    p += 2;
  }
  return {
    type: PACKET_TYPE.PUBLISH,
    topic,
    payload: b.subarray(p, end),
    qos,
    retain: (first & 0x01) !== 0,
    dup: (first & 0x08) !== 0,
    packetId: id,
  };
}

function packetId(b: Uint8Array, p: number, type: number): number {
  const id = (b[p]! << 8) | b[p + 1]!;
  if (id === 0) throw violation(`packet type ${type} carries Packet Identifier 0 ([MQTT-2.3.1-1])`);
  return id;
}

function malformed(message: string): FieldcamError {
  return new FieldcamError('MQTT_MALFORMED', message);
}

function violation(message: string): FieldcamError {
  return new FieldcamError('MQTT_PROTOCOL_VIOLATION', message);
}
