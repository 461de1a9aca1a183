/** Bounds of the control channel (docs/control-channel.md): every document the device reads or keeps is bounded. */
export const CONTROL_LIMITS = Object.freeze({
  /** A command or desired document larger than this is refused (CONTROL_PAYLOAD_INVALID). */
  maxPayloadBytes: 1024,
  idMaxChars: 64,
  nameMaxChars: 32,
  /** Command ids remembered with their results; a repeat is answered from here, not executed again. */
  commandLog: 16,
  /**
   * Default bound on commands running or answered but not yet taken by the MQTT client's QoS 1 ring (a burst
   * fills the ring before PUBACKs return); past it a command is refused with CONTROL_BUSY. Board data
   * (manifest `control.pendingResults`) where memory is tight.
   */
  pendingResults: 32,
  /**
   * Default size of the state file's encode buffer, allocated once (manifest `control.stateBytes`). The slim
   * command log (no telemetry records) is ~0.3 KiB an entry in practice, 1.7 KiB at worst (64-char id, a
   * 256-char message of 3-byte UTF-8): when the newest entries do not all fit, the oldest are left out of the file.
   */
  stateBytes: 16 * 1024,
  /** Bounds of a manifest's `control.stateBytes`: the settings always fit in the least; the largest is what decodeState reads. */
  stateBytesMin: 2048,
  stateBytesMax: 32 * 1024,
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
