import type { PACKET_TYPE, QoS } from './mqttConstants.ts';

/** CONNACK (§3.2). `returnCode` is one of CONNACK_RETURN; non-zero means the broker refused the connection. */
export interface ConnackRecord {
  readonly type: typeof PACKET_TYPE.CONNACK;
  readonly sessionPresent: boolean;
  readonly returnCode: number;
}

/**
 * PUBLISH (§3.3). `payload` is a view of the decoder's buffer or of the pushed chunk, valid only during the
 * onPacket call: copy it (slice) to keep it. `packetId` is 0 at QoS 0.
 */
export interface PublishRecord {
  readonly type: typeof PACKET_TYPE.PUBLISH;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly packetId: number;
}

/** PUBACK (§3.4), UNSUBACK (§3.11): the Packet Identifier being acknowledged. */
export interface AckRecord {
  readonly type: typeof PACKET_TYPE.PUBACK | typeof PACKET_TYPE.UNSUBACK;
  readonly packetId: number;
}

/** SUBACK (§3.9): one return code per filter, in order: the granted QoS (0-2) or SUBACK_FAILURE (0x80). */
export interface SubackRecord {
  readonly type: typeof PACKET_TYPE.SUBACK;
  readonly packetId: number;
  readonly returnCodes: readonly number[];
}

/** PINGRESP (§3.13). */
export interface PingrespRecord {
  readonly type: typeof PACKET_TYPE.PINGRESP;
}

/** Everything a broker sends to a client that uses QoS 0 and 1. */
export type MqttInbound = ConnackRecord | PublishRecord | AckRecord | SubackRecord | PingrespRecord;
