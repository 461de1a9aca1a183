// RFC 8949 §3.1: the initial byte of a data item is the major type (high 3 bits) and the additional
// information (low 5 bits): 0-23 is the argument itself, 24/25/26/27 announce a 1/2/4/8-byte argument,
// 28-30 are reserved (not well-formed) and 31 marks an indefinite length or, in major type 7, "break".

export const MAJOR = Object.freeze({
  UNSIGNED: 0,
  NEGATIVE: 1,
  BYTES: 2,
  TEXT: 3,
  ARRAY: 4,
  MAP: 5,
  TAG: 6,
  SIMPLE: 7,
} as const);

export const INFO = Object.freeze({
  /** Largest argument carried in the initial byte itself. */
  MAX_DIRECT: 23,
  ONE_BYTE: 24,
  TWO_BYTES: 25,
  FOUR_BYTES: 26,
  EIGHT_BYTES: 27,
  INDEFINITE: 31,
} as const);

/** Major type 7 initial bytes (RFC 8949 §3.3, Table 3). */
export const SIMPLE = Object.freeze({
  FALSE: 0xf4,
  TRUE: 0xf5,
  NULL: 0xf6,
  UNDEFINED: 0xf7,
  /** A simple value in the next byte; below 32 it is not well-formed (§3.3). */
  ONE_BYTE: 0xf8,
  FLOAT16: 0xf9,
  FLOAT32: 0xfa,
  FLOAT64: 0xfb,
  BREAK: 0xff,
} as const);

/**
 * Tag 64, "uint8 typed array" (RFC 8746 §2.1): cbor-x's default encoder wraps every plain Uint8Array in it
 * (a Node Buffer goes out untagged), so the decoder accepts it around a byte string.
 */
export const TAG_UINT8_ARRAY = 64;

/**
 * cbor-x's default encoder writes every object as a map with a two-byte count (initial byte 0xb9), even
 * when a shorter header would do; the encoder here does the same so the bytes are identical.
 */
export const MAP16 = 0xb9;
export const MAX_MAP16_ENTRIES = 0xffff;
