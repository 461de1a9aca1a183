// MQTT 3.1.1 (OASIS Standard, 29 October 2014) wire constants.

/** Control packet types, the high nibble of the first byte (§2.2.1, Table 2.1). 0 and 15 are reserved. */
export const PACKET_TYPE = Object.freeze({
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const);

export type PacketType = (typeof PACKET_TYPE)[keyof typeof PACKET_TYPE];

/** CONNACK return codes (§3.2.2.3, Table 3.1); 6-255 are reserved. */
export const CONNACK_RETURN = Object.freeze({
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USER_NAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const);

/** SUBACK return code for a refused subscription (§3.9.3); 0x00-0x02 are the granted QoS. */
export const SUBACK_FAILURE = 0x80;

/** Protocol Name "MQTT" and Protocol Level 4 (§3.1.2.1, §3.1.2.2). */
export const PROTOCOL_NAME = Object.freeze([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54] as const);
export const PROTOCOL_LEVEL = 4;

/** CONNECT flags (§3.1.2.3, Figure 3.4); bit 0 is reserved and zero ([MQTT-3.1.2-3]). */
export const CONNECT_FLAG = Object.freeze({
  CLEAN_SESSION: 0x02,
  WILL: 0x04,
  WILL_QOS_SHIFT: 3,
  WILL_RETAIN: 0x20,
  PASSWORD: 0x40,
  USER_NAME: 0x80,
} as const);

/** PUBLISH fixed-header flags (§3.3.1). */
export const PUBLISH_FLAG = Object.freeze({
  RETAIN: 0x01,
  QOS_SHIFT: 1,
  DUP: 0x08,
} as const);

/** Largest Remaining Length, four varint bytes (§2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** Longest UTF-8 string or binary field: a two-byte length prefix (§1.5.3). */
export const MAX_STRING_BYTES = 0xffff;

export type QoS = 0 | 1;
