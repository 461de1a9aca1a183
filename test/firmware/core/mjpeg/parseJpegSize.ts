import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { JPEG_EVENT, JpegScanner } from '../../../../firmware/core/mjpeg/JpegScanner.ts';

/**
 * The size of one complete JPEG image held in `bytes[offset .. offset + length)`: the image must start with
 * SOI and parse cleanly to its EOI (ITU-T T.81 B.2.1); bytes after the EOI are ignored. A test oracle (the device
 * never needs a lone image's size, so it lives with the suites):
 * it allocates a scanner per call, unlike `MjpegReader`.
 */
export function parseJpegSize(bytes: Uint8Array, offset = 0, length = bytes.length - offset): { width: number; height: number } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) throw new RangeError(`offset ${offset} is outside 0..${bytes.length}`);
  if (!Number.isInteger(length) || length < 0 || offset + length > bytes.length) {
    throw new RangeError(`length ${length} at offset ${offset} runs past ${bytes.length} bytes`);
  }
  if (length === 0) throw new FieldcamError('INPUT_EMPTY', 'the JPEG image has no bytes');
  if (length < 2 || bytes[offset] !== 0xff || bytes[offset + 1] !== 0xd8) {
    throw new FieldcamError('MJPEG_NOT_JPEG', 'the image does not start with an SOI marker (FFD8)');
  }
  const scanner = new JpegScanner();
  const to = offset + length;
  let i = scanner.scan(bytes, offset, to); // stops right after the SOI
  while (i < to) {
    i = scanner.scan(bytes, i, to);
    if (scanner.event === JPEG_EVENT.EOI) return { width: scanner.width, height: scanner.height };
    if (scanner.event === JPEG_EVENT.ERROR) {
      throw new FieldcamError(scanner.errorCode, `${scanner.errorDetail} (byte ${i - offset})`);
    }
  }
  throw new FieldcamError('MJPEG_TRUNCATED', `the image ends after ${length} bytes, before its EOI marker`);
}
