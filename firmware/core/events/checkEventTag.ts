import { FieldcamError } from '../errors.ts';
import { RESERVED_METADATA_PREFIX } from '../mkv/FragmentMetadata.ts';
import { CLIP_TAG, EVENT_LIMITS } from './eventLimits.ts';

const NAME = /^[A-Za-z0-9_.-]+$/;
/** Printable ASCII without space: a value fits a trigger line token and a KVS TagString as it is. */
const VALUE = /^[\x21-\x7e]+$/;

/**
 * One event tag, as KVS and the trigger line format accept it (docs/events.md). Throws FieldcamError
 * EVENT_TAG_INVALID naming the problem.
 */
export function checkEventTag(name: unknown, value: unknown): void {
  if (typeof name !== 'string' || name.length < 1 || name.length > EVENT_LIMITS.nameMaxChars || !NAME.test(name)) {
    throw new FieldcamError(
      'EVENT_TAG_INVALID',
      `tag name ${JSON.stringify(String(name).slice(0, 40))} must be 1-${EVENT_LIMITS.nameMaxChars} of A-Z a-z 0-9 _ . -`,
    );
  }
  if (name.startsWith(RESERVED_METADATA_PREFIX) || name.startsWith(CLIP_TAG.prefix)) {
    throw new FieldcamError('EVENT_TAG_INVALID', `tag name ${name} is reserved (${RESERVED_METADATA_PREFIX}…, ${CLIP_TAG.prefix}…)`);
  }
  if (typeof value !== 'string' || value.length < 1 || value.length > EVENT_LIMITS.valueMaxChars || !VALUE.test(value)) {
    throw new FieldcamError('EVENT_TAG_INVALID', `tag ${name}: the value must be 1-${EVENT_LIMITS.valueMaxChars} printable ASCII characters without spaces`);
  }
}
