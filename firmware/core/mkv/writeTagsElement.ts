import type { EbmlBuilder } from './EbmlBuilder.ts';
import { EBML_IDS } from './ebmlIds.ts';

/**
 * Worst-case bytes `writeTagsElement` needs beyond the name and value bytes, while building (masters
 * reserve 8 size octets until `end()` shrinks them): Tags 4+8, Tag 2+8, Targets 2+1, SimpleTag 2+8,
 * TagName 2+2, TagString 2+2 (names and values stay below 16 KiB, so their sizes take at most 2 octets).
 */
export const TAGS_ELEMENT_OVERHEAD = 43;

/**
 * One KVS metadata item as Matroska Tags: Tags > Tag > (Targets, SimpleTag > (TagName, TagString)).
 *
 * The KVS PIC (mkvgenGenerateTag in MkvGenerator.c, templates in MkvStatics.c) writes exactly this chain,
 * one Tags element per item, with 8-octet sizes and no Targets. We write minimal sizes and add an empty
 * Targets because RFC 9559 makes Targets mandatory in every Tag (minOccurs 1; empty = the whole Segment),
 * so strict readers accept the Tag. The item's name and value are not validated here.
 */
export function writeTagsElement(b: EbmlBuilder, name: string, value: string): void {
  b.begin(EBML_IDS.Tags).begin(EBML_IDS.Tag);
  b.begin(EBML_IDS.Targets).end();
  b.begin(EBML_IDS.SimpleTag).string(EBML_IDS.TagName, name).string(EBML_IDS.TagString, value).end();
  b.end().end();
}
