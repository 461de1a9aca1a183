/** Bounds of the control channel (docs/control-channel.md): every document the device reads or keeps is bounded. */
export const CONTROL_LIMITS = Object.freeze({
  /** A command or desired document larger than this is refused (CONTROL_PAYLOAD_INVALID). */
  maxPayloadBytes: 1024,
  idMaxChars: 64,
  nameMaxChars: 32,
  /** Command ids remembered with their results; a repeat is answered from here, not executed again. */
  commandLog: 16,
  /** Results waiting for room in the MQTT client's QoS 1 ring (a burst of commands fills it before PUBACKs return). */
  pendingResults: 32,
  /** The state file (settings, desired version, command log with results). */
  maxStateBytes: 32 * 1024,
  /** Result messages are cut here so the log and the state file stay bounded. */
  messageMaxChars: 256,
  /** Error codes reported in telemetry's `errors` map (the most frequent are kept). */
  telemetryErrorCodes: 16,
  /** Encoded telemetry, results and reported documents are written into buffers of this size. */
  encodeBytes: 4096,
  /** CBOR decoding of inbound documents: a flat map with a nested `args`/`settings` map. */
  decode: Object.freeze({ maxBytes: 1024, maxDepth: 4, maxItems: 64, maxStringBytes: 512 }),
  decodeState: Object.freeze({ maxBytes: 32 * 1024, maxDepth: 8, maxItems: 2048, maxStringBytes: 1024 }),
} as const);
