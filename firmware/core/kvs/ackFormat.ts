// What a PutMedia acknowledgement may hold (kvs-reference.md §4.4): the event types and the PIC's bounds.

export const ACK_EVENT_TYPES = Object.freeze(['BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE'] as const);
export type AckEventType = (typeof ACK_EVENT_TYPES)[number];

export const ACK_LIMITS = Object.freeze({
  /** The PIC's maximum ACK segment length, in characters (bytes: ACKs are ASCII) `[003 L753]`. */
  maxSegmentChars: 1024,
  /** The producer SDK's maximum fragment sequence-number length `[003 L766]`. */
  maxFragmentNumberChars: 128,
  /** Objects and arrays nested inside an unknown key's value. */
  maxNesting: 8,
  /** FragmentTimecode and ErrorId are integers up to 2^53 (exact in a double). */
  maxInteger: 2 ** 53,
} as const);
