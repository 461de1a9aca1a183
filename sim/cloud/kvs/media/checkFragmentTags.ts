import { ALLOWED_RESERVED_NAMES, RESERVED_METADATA_PREFIX } from '../../../../firmware/core/mkv/FragmentMetadata.ts';
import { METADATA_LIMITS } from '../../../../firmware/core/mkv/mkvLimits.ts';

/** One SimpleTag of a fragment's metadata Tags, with the byte lengths as sent (values may be cut when long). */
export interface FragmentTag {
  readonly name: string;
  readonly nameBytes: number;
  readonly value: string;
  readonly valueBytes: number;
}

/**
 * The KVS fragment-metadata limits (kvs-reference.md §5.6, §6.3; ACK 4009): at most 10 items, names 1-128
 * bytes not starting with "AWS" (except the documented notification and image names), values at most 256
 * bytes. Returns what is wrong, or undefined.
 */
export function checkFragmentTags(tags: readonly FragmentTag[]): string | undefined {
  if (tags.length > METADATA_LIMITS.maxItems) return `${tags.length} metadata items; at most ${METADATA_LIMITS.maxItems}`;
  for (const t of tags) {
    if (t.nameBytes < 1 || t.nameBytes > METADATA_LIMITS.nameMaxBytes) {
      return `a metadata name of ${t.nameBytes} bytes; 1-${METADATA_LIMITS.nameMaxBytes} allowed`;
    }
    if (t.name.startsWith(RESERVED_METADATA_PREFIX) && !(ALLOWED_RESERVED_NAMES as readonly string[]).includes(t.name)) {
      return `the metadata name "${t.name}" starts with "${RESERVED_METADATA_PREFIX}"`;
    }
    if (t.valueBytes > METADATA_LIMITS.valueMaxBytes) {
      return `a metadata value of ${t.valueBytes} bytes for "${t.name}"; at most ${METADATA_LIMITS.valueMaxBytes}`;
    }
  }
  return undefined;
}
