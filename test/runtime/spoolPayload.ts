// The record a power-cut writer appends for timecode t: a length from 1 byte to 60 KiB and bytes, both from t, so
// a checker can tell a complete record from a torn or mixed one. Pure ECMAScript (bundled into XS scripts too).
export const SPOOL_MAX_PAYLOAD = 60 * 1024;

export function spoolPayload(t: number): Uint8Array {
  const length = 1 + ((t * 7919) % SPOOL_MAX_PAYLOAD);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (t * 31 + i * 7) & 0xff;
  return bytes;
}
