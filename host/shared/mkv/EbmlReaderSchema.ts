// What EbmlReader needs to know about a document type to end unknown-size masters (RFC 8794 §6.2): for each
// Element ID, which elements may contain it. IDs as they appear on the wire, from the Matroska schema of
// RFC 9559 (ebml_matroska.xml) and the EBML header of RFC 8794 §11.2. Only the paths a live KVS stream and
// its playback can contain are listed; an ID missing here is treated as an unknown element, which RFC 8794
// lets a reader skip when its size is known.

import { EBML_IDS } from '../../../firmware/core/mkv/ebmlIds.ts';

/** An element ID → the IDs of the masters it may appear in (`EBML_ROOT` for top-level elements). */
export type EbmlSchema = ReadonlyMap<number, readonly number[]>;

/** Pseudo parent of the top-level elements (an Element ID is never 0: its VINT_DATA may not be all zeros). */
export const EBML_ROOT = 0;

/** Global elements (RFC 8794 §11.3): Void and CRC-32 may appear inside every master. */
export const EBML_GLOBAL_IDS: readonly number[] = Object.freeze([0xec, 0xbf]);

const I = EBML_IDS;
/** \Segment\SeekHead, \Segment\Cues, \Segment\Attachments, \Segment\Chapters (RFC 9559 §5.1). */
const SEEK_HEAD = 0x114d9b74;
const CUES = 0x1c53bb6b;
const ATTACHMENTS = 0x1941a469;
const CHAPTERS = 0x1043a770;
/** \Segment\Cluster\BlockGroup and its Block (RFC 9559 §5.1.3). */
const BLOCK_GROUP = 0xa0;
const AUDIO = 0xe1;

const table: [number, readonly number[]][] = [
  // ── top level ──
  [I.EBML, [EBML_ROOT]],
  [I.Segment, [EBML_ROOT]],
  // ── \EBML (RFC 8794 §11.2) ──
  ...[
    I.EBMLVersion,
    I.EBMLReadVersion,
    I.EBMLMaxIDLength,
    I.EBMLMaxSizeLength,
    I.DocType,
    I.DocTypeVersion,
    I.DocTypeReadVersion,
    0x4281 /* DocTypeExtension */,
  ].map((id) => [id, [I.EBML]] as [number, number[]]),
  // ── \Segment children (level 1) ──
  ...[SEEK_HEAD, I.Info, I.Tracks, I.Cluster, CUES, ATTACHMENTS, CHAPTERS, I.Tags].map((id) => [id, [I.Segment]] as [number, number[]]),
  // ── \Segment\Info ──
  ...[
    I.SegmentUID,
    0x7384 /* SegmentFilename */,
    0x3cb923 /* PrevUUID */,
    0x3c83ab /* PrevFilename */,
    0x3eb923 /* NextUUID */,
    0x3e83bb /* NextFilename */,
    0x4444 /* SegmentFamily */,
    I.TimecodeScale,
    0x4489 /* Duration */,
    0x4461 /* DateUTC */,
    0x7ba9 /* Title */,
    I.MuxingApp,
    I.WritingApp,
  ].map((id) => [id, [I.Info]] as [number, number[]]),
  // ── \Segment\Tracks\TrackEntry ──
  [I.TrackEntry, [I.Tracks]],
  ...[
    I.TrackNumber,
    I.TrackUID,
    I.TrackType,
    0xb9 /* FlagEnabled */,
    0x88 /* FlagDefault */,
    0x55aa /* FlagForced */,
    I.FlagLacing,
    I.DefaultDuration,
    0x23314f /* TrackTimestampScale */,
    I.Name,
    0x22b59c /* Language */,
    0x22b59d /* LanguageBCP47 */,
    I.CodecID,
    I.CodecPrivate,
    0x258688 /* CodecName */,
    0x56aa /* CodecDelay */,
    0x56bb /* SeekPreRoll */,
    I.Video,
    AUDIO,
    0x6d80 /* ContentEncodings */,
  ].map((id) => [id, [I.TrackEntry]] as [number, number[]]),
  ...[
    0x9a /* FlagInterlaced */,
    I.PixelWidth,
    I.PixelHeight,
    0x54b0 /* DisplayWidth */,
    0x54ba /* DisplayHeight */,
    0x54b2 /* DisplayUnit */,
    0x55b0 /* Colour */,
  ].map((id) => [id, [I.Video]] as [number, number[]]),
  ...[0xb5 /* SamplingFrequency */, 0x78b5 /* OutputSamplingFrequency */, 0x9f /* Channels */, 0x6264 /* BitDepth */].map(
    (id) => [id, [AUDIO]] as [number, number[]],
  ),
  // ── \Segment\Cluster ──
  ...[I.Timecode, 0xa7 /* Position */, 0xab /* PrevSize */, I.SimpleBlock, BLOCK_GROUP, 0xaf /* EncryptedBlock */].map(
    (id) => [id, [I.Cluster]] as [number, number[]],
  ),
  ...[
    0xa1 /* Block */, 0x75a1 /* BlockAdditions */, 0x9b /* BlockDuration */, 0xfa /* ReferencePriority */, 0xfb /* ReferenceBlock */,
    0x75a2 /* DiscardPadding */,
  ].map((id) => [id, [BLOCK_GROUP]] as [number, number[]]),
  // ── \Segment\Tags\Tag ──
  [I.Tag, [I.Tags]],
  [I.Targets, [I.Tag]],
  ...[
    0x68ca /* TargetTypeValue */, 0x63ca /* TargetType */, 0x63c5 /* TagTrackUID */, 0x63c9 /* TagEditionUID */, 0x63c4 /* TagChapterUID */,
    0x63c6 /* TagAttachmentUID */,
  ].map((id) => [id, [I.Targets]] as [number, number[]]),
  [I.SimpleTag, [I.Tag, I.SimpleTag]], // SimpleTag nests (RFC 9559 §5.1.8.1.2, recursive)
  ...[I.TagName, 0x447a /* TagLanguage */, 0x447b /* TagLanguageBCP47 */, 0x4484 /* TagDefault */, I.TagString, 0x4485 /* TagBinary */].map(
    (id) => [id, [I.SimpleTag]] as [number, number[]],
  ),
];

/** The Matroska paths fieldcam reads back: KVS PutMedia bodies, GetMedia output, `fieldcam mux` files. */
export const MATROSKA_SCHEMA: EbmlSchema = new Map(table.map(([id, parents]) => [id, Object.freeze(parents.slice())]));
