// Element IDs fieldcam writes, as they appear on the wire (the VINT marker bits are part of the ID,
// RFC 8794 §5). Values from the EBML header elements of RFC 8794 and the Matroska schema of RFC 9559
// (ebml_matroska.xml, paths below); kvs-reference.md §5.2 lists the same tree.
// Matroska renamed Timecode to Timestamp and SegmentUID to SegmentUUID in RFC 9559; the IDs are unchanged
// and we keep the libmatroska names the KVS documentation uses.

export const EBML_IDS = Object.freeze({
  // ── \EBML header (RFC 8794) ──
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,

  // ── \Segment, \Segment\Info ──
  Segment: 0x18538067,
  Info: 0x1549a966,
  SegmentUID: 0x73a4,
  TimecodeScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,

  // ── \Segment\Tracks\TrackEntry ──
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  DefaultDuration: 0x23e383,
  Name: 0x536e,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  BitDepth: 0x6264,

  // ── \Segment\Cluster ──
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,

  // ── \Segment\Tags\Tag (Targets is minOccurs 1; SimpleTag holds TagName/TagString) ──
  Tags: 0x1254c367,
  Tag: 0x7373,
  Targets: 0x63c0,
  SimpleTag: 0x67c8,
  TagName: 0x45a3,
  TagString: 0x4487,
} as const);

export type EbmlId = (typeof EBML_IDS)[keyof typeof EBML_IDS];
