import type { ErrorCode } from '../errors.ts';

export interface AckErrorAction {
  /** drop: the fragment can never be accepted, release it; restart: reconnect and replay; fatal: stop. */
  readonly kind: 'drop' | 'restart' | 'fatal';
  readonly code: ErrorCode;
}

const DROP: AckErrorAction = Object.freeze({ kind: 'drop', code: 'UPLOAD_FRAGMENT_REJECTED' });
const RESTART: AckErrorAction = Object.freeze({ kind: 'restart', code: 'UPLOAD_SERVICE_ERROR' });
const ROTATE: AckErrorAction = Object.freeze({ kind: 'restart', code: 'UPLOAD_NETWORK' });
const INACTIVE: AckErrorAction = Object.freeze({ kind: 'fatal', code: 'UPLOAD_STREAM_NOT_ACTIVE' });
const CONFIG: AckErrorAction = Object.freeze({ kind: 'fatal', code: 'UPLOAD_CONFIG' });

/**
 * What the producer does for each PutMedia ACK ErrorId (kvs-reference.md §4.5): read/internal/archival
 * errors are retried on a new connection (the PIC re-sends by default); errors about the fragment itself
 * would fail again, so that fragment is dropped and streaming continues; a deleted stream or a KMS problem
 * stops with a clear error instead of retrying forever (user-needs.md row 25).
 */
export function actionForAckError(errorId: number): AckErrorAction {
  switch (errorId) {
    case 4000: // error reading the data stream
    case 5000: // internal service error
    case 5001: // failed to persist the fragment
      return RESTART;
    case 4003: // connection duration reached: just reconnect
      return ROTATE;
    case 4001: // fragment too large
    case 4002: // fragment too long
    case 4004: // timecode not monotonic
    case 4005: // multi-track (deprecated)
    case 4006: // invalid MKV
    case 4007: // invalid producer timestamp
    case 4009: // metadata limit
    case 4010: // track number mismatch
    case 4011: // frames missing for a track
    case 4012: // too many tracks
      return DROP;
    case 4008: // stream not active
    case 4507: // stream deleted
      return INACTIVE;
    default:
      if (errorId >= 4500 && errorId <= 4506) return CONFIG; // KMS errors
      return RESTART; // unknown: retrying is the safe default
  }
}
