// Limits the writer enforces before bytes leave the device (kvs-reference.md §5.2, §5.3, §5.6, §6).

export const MKV_LIMITS = Object.freeze({
  /** CodecID and track Name, in bytes (PIC MKV_MAX_CODEC_ID_LEN / MKV_MAX_TRACK_NAME_LEN, §6.4). */
  codecIdMaxBytes: 32,
  trackNameMaxBytes: 32,
  /** CodecPrivate (PIC MKV_MAX_CODEC_PRIVATE_LEN, §6.4): 1 MiB. */
  codecPrivateMaxBytes: 1024 * 1024,
  /** SimpleBlock relative timecode is a signed 16-bit integer (RFC 9559 block structure, PIC 0x3200000c). */
  blockTimecodeMax: 32767,
  /**
   * Default and ceiling of the fragment duration. The quota table says 20 s, the API reference (ACK 4002),
   * StreamDefinition and troubleshooting text say 10 s (kvs-reference.md §14 E1): default to the strictest.
   */
  fragmentMsDefault: 10_000,
  fragmentMsCeiling: 20_000,
  /** "50 MB" per fragment (§6.2, ACK 4001), read as the stricter decimal megabytes. */
  fragmentBytesDefault: 50_000_000,
  fragmentBytesCeiling: 50_000_000,
  /** WritingApp is free text; bound it so the header stays small. */
  writingAppMaxBytes: 128,
} as const);

export const METADATA_LIMITS = Object.freeze({
  /** Items per fragment (§5.6, §6.3; ACK 4009). */
  maxItems: 10,
  /** TagName 1-128 bytes, TagString 0-256 bytes of UTF-8 (§6.3; the MKV error text's 127/255 is erratum E7). */
  nameMaxBytes: 128,
  valueMaxBytes: 256,
} as const);
