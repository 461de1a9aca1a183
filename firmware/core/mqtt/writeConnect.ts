import { checkQos } from './checkArguments.ts';
import { checkTopicName } from './checkTopic.ts';
import { CONNECT_FLAG, MAX_STRING_BYTES, PACKET_TYPE, PROTOCOL_LEVEL, PROTOCOL_NAME, type QoS } from './mqttConstants.ts';
import { mqttStringLength, writeMqttBinary, writeMqttString, writeUint16 } from './mqttString.ts';
import { fitPacket, writeFixedHeader } from './writeFixedHeader.ts';

/** The Will Message the broker publishes if the connection is lost (§3.1.2.5-§3.1.2.7, §3.1.3.2-3). */
export interface WillFields {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
}

export interface ConnectFields {
  /** §3.1.3.1; may be empty only with cleanSession ([MQTT-3.1.3-7]). AWS IoT uses the thing name. */
  readonly clientId: string;
  /** §3.1.2.4: false asks the broker to keep the session (subscriptions, queued QoS 1 messages). */
  readonly cleanSession: boolean;
  /** §3.1.2.10: seconds, 0-65535; 0 turns keep-alive off. */
  readonly keepAliveSeconds: number;
  readonly username?: string;
  /** Binary data (§3.1.3.5); needs a username ([MQTT-3.1.2-22]). */
  readonly password?: Uint8Array;
  readonly will?: WillFields;
}

// Variable header: Protocol Name (6), Protocol Level (1), Connect Flags (1), Keep Alive (2) — §3.1.2.
const VARIABLE_HEADER_BYTES = 10;

/**
 * Writes a CONNECT packet (§3.1) into `out` at `offset` and returns its length. Everything is validated
 * before a byte is written: strings per §1.5.3 (MQTT_STRING_INVALID), the will topic per §4.7
 * (MQTT_TOPIC_INVALID), numbers and flag combinations as RangeError naming the field.
 */
export function writeConnect(fields: ConnectFields, out: Uint8Array, offset = 0): number {
  const { clientId, cleanSession, keepAliveSeconds, username, password, will } = fields;
  if (!Number.isInteger(keepAliveSeconds) || keepAliveSeconds < 0 || keepAliveSeconds > 0xffff) {
    throw new RangeError(`keepAliveSeconds must be an integer in 0..65535, got ${keepAliveSeconds}`);
  }
  if (clientId.length === 0 && !cleanSession) throw new RangeError('clientId may be empty only with cleanSession ([MQTT-3.1.3-7])');
  if (password !== undefined && username === undefined) throw new RangeError('password needs a username ([MQTT-3.1.2-22])');
  let remaining = VARIABLE_HEADER_BYTES;
  const clientIdBytes = mqttStringLength(clientId, 'the client identifier', 'MQTT_STRING_INVALID');
  remaining += 2 + clientIdBytes;
  let flags = cleanSession ? CONNECT_FLAG.CLEAN_SESSION : 0;
  let willTopicBytes = 0;
  if (will !== undefined) {
    checkQos(will.qos, 'will.qos');
    willTopicBytes = checkTopicName(will.topic);
    if (will.payload.length > MAX_STRING_BYTES) throw new RangeError(`will.payload is ${will.payload.length} bytes, more than 65535 (§3.1.3.3)`);
    remaining += 2 + willTopicBytes + 2 + will.payload.length;
    flags |= CONNECT_FLAG.WILL | (will.qos << CONNECT_FLAG.WILL_QOS_SHIFT) | (will.retain ? CONNECT_FLAG.WILL_RETAIN : 0);
  }
  let usernameBytes = 0;
  if (username !== undefined) {
    usernameBytes = mqttStringLength(username, 'the user name', 'MQTT_STRING_INVALID');
    remaining += 2 + usernameBytes;
    flags |= CONNECT_FLAG.USER_NAME;
  }
  if (password !== undefined) {
    if (password.length > MAX_STRING_BYTES) throw new RangeError(`password is ${password.length} bytes, more than 65535 (§3.1.3.5)`);
    remaining += 2 + password.length;
    flags |= CONNECT_FLAG.PASSWORD;
  }

  const total = fitPacket(remaining, out, offset);
  let p = writeFixedHeader(PACKET_TYPE.CONNECT << 4, remaining, out, offset);
  for (let i = 0; i < PROTOCOL_NAME.length; i++) out[p++] = PROTOCOL_NAME[i]!;
  out[p++] = PROTOCOL_LEVEL;
  out[p++] = flags;
  p = writeUint16(keepAliveSeconds, out, p);
  // Payload order is fixed: Client Identifier, Will Topic, Will Message, User Name, Password (§3.1.3).
  p = writeMqttString(clientId, clientIdBytes, out, p);
  if (will !== undefined) {
    p = writeMqttString(will.topic, willTopicBytes, out, p);
    p = writeMqttBinary(will.payload, out, p);
  }
  if (username !== undefined) p = writeMqttString(username, usernameBytes, out, p);
  if (password !== undefined) p = writeMqttBinary(password, out, p);
  return total;
}
