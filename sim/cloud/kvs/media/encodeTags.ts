import { EbmlBuilder } from '../../../../firmware/core/mkv/EbmlBuilder.ts';
import { utf8Length } from '../../../../firmware/core/text/utf8.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';

/**
 * One level-1 Tags element holding `items` as SimpleTags of one Tag with empty Targets (kvs-reference.md
 * §5.6 syntax): the KVS tags GetMedia puts before each fragment, and producer metadata the ingest keeps
 * when it takes an end-of-fragment tag out of a Tags element.
 */
export function encodeTags(items: readonly (readonly [string, string])[]): Uint8Array {
  let room = 64;
  for (const [name, value] of items) room += utf8Length(name) + utf8Length(value) + 32;
  const b = new EbmlBuilder(room);
  b.begin(EBML_IDS.Tags).begin(EBML_IDS.Tag).begin(EBML_IDS.Targets).end();
  for (const [name, value] of items) b.begin(EBML_IDS.SimpleTag).string(EBML_IDS.TagName, name).string(EBML_IDS.TagString, value).end();
  b.end().end();
  return b.toUint8Array();
}
