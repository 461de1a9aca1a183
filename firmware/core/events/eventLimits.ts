/** Bounds of event recording (docs/events.md): every event, line and clip the device keeps is bounded. */
export const EVENT_LIMITS = Object.freeze({
  /** A trigger line with its newline; longer lines are skipped up to the next newline (EVENT_LINE_TOO_LONG). */
  lineMaxBytes: 256,
  /** Tags one event may carry; a clip keeps at most this many (merged events share them). */
  tagsMax: 4,
  nameMaxChars: 32,
  valueMaxChars: 64,
  /** Longest post window: an event keeps the camera uploading for at most this long. */
  postMsMax: 10 * 60_000,
  /**
   * The longest pre-roll or `pre` checked where the board is not known (provisioning, the CLI): the board's pool
   * sets the real limit at boot and at flash time (RecordingConfig maxPreRollMs).
   */
  preMsAnyBoard: 3_600_000,
  /** Defaults of recording.preRollMs and recording.postMs. */
  preMsDefault: 10_000,
  postMsDefault: 20_000,
  /**
   * Clips whose tags are kept at once. A clip's fragments carry its tags until they are PERSISTED; with more clips
   * than this in the pool at once (a long outage with many short events) the oldest clip's fragments go untagged,
   * counted as EventGate `stats.tagsLost`.
   */
  clipRecords: 4,
} as const);

/**
 * Tags every clip fragment carries besides the event's own: FIELDCAM_CLIP (the clip id: the stream timecode, ms, of
 * its first event) and FIELDCAM_EVENTS (how many events it merged). Names starting with the prefix are ours.
 */
export const CLIP_TAG = Object.freeze({ prefix: 'FIELDCAM_', clip: 'FIELDCAM_CLIP', events: 'FIELDCAM_EVENTS' } as const);
