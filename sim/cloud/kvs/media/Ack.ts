// The PutMedia acknowledgement stream (kvs-reference.md §4.4, §4.5): one JSON object per event, keys spelled
// and ordered as KVS sends them, `FragmentNumber` a decimal string, `FragmentTimecode` and `ErrorId` numbers.

export type AckEventType = 'BUFFERING' | 'RECEIVED' | 'PERSISTED' | 'ERROR' | 'IDLE';

export interface Ack {
  readonly EventType: AckEventType;
  /** The fragment's Cluster Timecode as received, in TimecodeScale units (§4.8 item 4). */
  readonly FragmentTimecode?: number;
  readonly FragmentNumber?: string;
  readonly ErrorId?: number;
}

/** ACK ErrorIds the emulator sends (kvs-reference.md §4.5). */
export const ACK_ERROR = Object.freeze({
  STREAM_READ_ERROR: 4000,
  FRAGMENT_SIZE_REACHED: 4001,
  FRAGMENT_DURATION_REACHED: 4002,
  CONNECTION_DURATION_REACHED: 4003,
  FRAGMENT_TIMECODE_NOT_MONOTONIC: 4004,
  INVALID_MKV_DATA: 4006,
  INVALID_PRODUCER_TIMESTAMP: 4007,
  STREAM_NOT_ACTIVE: 4008,
  FRAGMENT_METADATA_LIMIT_REACHED: 4009,
  TRACK_NUMBER_MISMATCH: 4010,
  FRAMES_MISSING_FOR_TRACK: 4011,
  MORE_THAN_ALLOWED_TRACKS: 4012,
  STREAM_DELETED: 4507,
  INTERNAL_ERROR: 5000,
  ARCHIVAL_ERROR: 5001,
} as const);

/** One ACK as the bytes of its response chunk: the JSON object and a newline. */
export function formatAck(ack: Ack): string {
  return JSON.stringify(ack) + '\n';
}
