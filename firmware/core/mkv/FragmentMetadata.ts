import { FieldcamError } from '../errors.ts';
import { utf8Length } from '../text/utf8.ts';
import { EbmlBuilder } from './EbmlBuilder.ts';
import { METADATA_LIMITS } from './mkvLimits.ts';
import { TAGS_ELEMENT_OVERHEAD, writeTagsElement } from './writeTagsElement.ts';

/**
 * Names starting with "AWS" are reserved (PIC AWS_INTERNAL_METADATA_PREFIX, STATUS_INVALID_METADATA_NAME),
 * except the ones KVS documents for producers (kvs-reference.md §5.6): SNS notifications and S3 images.
 */
export const RESERVED_METADATA_PREFIX = 'AWS';
export const ALLOWED_RESERVED_NAMES = Object.freeze([
  'AWS_KINESISVIDEO_NOTIFICATION',
  'AWS_KINESISVIDEO_IMAGE_GENERATION',
  'AWS_KINESISVIDEO_IMAGE_PREFIX',
] as const);

const CAPACITY = METADATA_LIMITS.maxItems * (TAGS_ELEMENT_OVERHEAD + METADATA_LIMITS.nameMaxBytes + METADATA_LIMITS.valueMaxBytes);
const NO_BYTES = new Uint8Array(0);

/**
 * KVS fragment metadata (kvs-reference.md §5.6), with the producer SDK's semantics
 * (`putFragmentMetadata(name, value, persistent = true)`):
 * - persistent items go on every fragment until removed; putting the same name with a new value
 *   overwrites it, an empty value removes it;
 * - one-shot items (persistent = false) go on the next fragment only; the same name may repeat;
 * - at most 10 items per fragment, checked on `put`, so a refused item never displaces an accepted one.
 *
 * The Tags bytes for the next fragment are encoded into one buffer allocated at construction, and only
 * when the set has changed since the last `encode()`. `MkvWriter.startFragment` calls `encode()`; the
 * caller calls `fragmentDone()` once that fragment is committed, which drops the one-shot items.
 */
export class FragmentMetadata {
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private readonly persistent: boolean[] = [];
  private readonly builder = new EbmlBuilder(CAPACITY);
  private encoded: Uint8Array = NO_BYTES;
  private dirty = false;

  /** Items that will go on the next fragment. */
  get count(): number {
    return this.names.length;
  }

  /**
   * Adds, replaces or removes an item; throws METADATA_* (and changes nothing) when KVS would refuse it.
   * TypeError for non-string arguments.
   */
  put(name: string, value: string, persistent = true): void {
    if (typeof name !== 'string') throw new TypeError('name must be a string');
    if (typeof value !== 'string') throw new TypeError('value must be a string');
    if (typeof persistent !== 'boolean') throw new TypeError('persistent must be a boolean');
    const nameBytes = utf8Length(name);
    if (nameBytes < 1 || nameBytes > METADATA_LIMITS.nameMaxBytes) {
      throw new FieldcamError('METADATA_NAME_INVALID', `metadata name is ${nameBytes} bytes of UTF-8; 1-${METADATA_LIMITS.nameMaxBytes} allowed`);
    }
    if (name.startsWith(RESERVED_METADATA_PREFIX) && !(ALLOWED_RESERVED_NAMES as readonly string[]).includes(name)) {
      throw new FieldcamError('METADATA_NAME_RESERVED', `metadata name "${name}" starts with "${RESERVED_METADATA_PREFIX}"`);
    }
    const valueBytes = utf8Length(value);
    if (valueBytes > METADATA_LIMITS.valueMaxBytes) {
      throw new FieldcamError(
        'METADATA_VALUE_TOO_LONG',
        `metadata value for "${name}" is ${valueBytes} bytes of UTF-8; at most ${METADATA_LIMITS.valueMaxBytes} allowed`,
      );
    }
    if (persistent) {
      const at = this.indexOfPersistent(name);
      if (at >= 0) {
        if (value === '') this.removeAt(at);
        else if (this.values[at] !== value) {
          this.values[at] = value;
          this.dirty = true;
        }
        return;
      }
      if (value === '') return; // removing an item that is not there
    }
    if (this.names.length >= METADATA_LIMITS.maxItems) {
      throw new FieldcamError('METADATA_TOO_MANY', `metadata "${name}" refused: the next fragment already carries ${this.names.length} items, the KVS maximum`);
    }
    this.names.push(name);
    this.values.push(value);
    this.persistent.push(persistent);
    this.dirty = true;
  }

  /** Removes every item, persistent ones included. */
  clear(): void {
    if (this.names.length === 0) return;
    this.names.length = this.values.length = this.persistent.length = 0;
    this.dirty = true;
  }

  /**
   * The Tags elements for the next fragment, one per item in insertion order (empty when there are none).
   * The view stays valid until `encode()` runs again after a change.
   */
  encode(): Uint8Array {
    if (!this.dirty) return this.encoded;
    const b = this.builder.reset();
    for (let i = 0; i < this.names.length; i++) writeTagsElement(b, this.names[i]!, this.values[i]!);
    this.encoded = b.length === 0 ? NO_BYTES : b.bytes();
    this.dirty = false;
    return this.encoded;
  }

  /** The fragment that carried the current items has been written: one-shot items are dropped. */
  fragmentDone(): void {
    for (let i = this.names.length - 1; i >= 0; i--) if (!this.persistent[i]) this.removeAt(i);
  }

  private indexOfPersistent(name: string): number {
    for (let i = 0; i < this.names.length; i++) if (this.persistent[i] && this.names[i] === name) return i;
    return -1;
  }

  private removeAt(i: number): void {
    this.names.splice(i, 1);
    this.values.splice(i, 1);
    this.persistent.splice(i, 1);
    this.dirty = true;
  }
}
