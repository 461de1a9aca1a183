/**
 * The range arguments of a push(bytes, offset, length) or read(into, offset, length): whole numbers inside `bytes`.
 * A RangeError, not a FieldcamError: a wrong range is the caller's bug, never bad input from the wire.
 */
export function checkByteRange(bytes: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new RangeError(`offset/length: ${offset}+${length} is outside ${bytes.length} bytes`);
  }
}
