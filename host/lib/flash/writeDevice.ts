// Copies a finished card image onto a block device that checkDevice.ts allowed: opened O_EXCL (Linux refuses
// an exclusive open of a block device that is mounted or held, EBUSY — a second guard against a mount made
// since the check), streamed in 4 MiB chunks, fsynced. The image was already read back (verifyImage) before
// this; the caller reads the card back afterwards the same way.
import { closeSync, constants, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { FieldcamError } from '../../shared/hostErrors.ts';

const CHUNK = 4 * 1024 * 1024;

export function writeDevice(image: string, device: string): number {
  let out: number;
  try {
    out = openSync(device, constants.O_WRONLY | constants.O_EXCL);
  } catch (err) {
    throw new FieldcamError(
      'FLASH_DEVICE_REFUSED',
      `flash: ${device} cannot be opened for writing alone (${(err as NodeJS.ErrnoException).code}): is it mounted or in use?; nothing was written`,
    );
  }
  const src = openSync(image, 'r');
  const buf = Buffer.alloc(CHUNK);
  let at = 0;
  try {
    for (;;) {
      const n = readSync(src, buf, 0, CHUNK, at);
      if (n === 0) break;
      let done = 0;
      while (done < n) done += writeSync(out, buf, done, n - done, at + done);
      at += n;
    }
    fsyncSync(out);
    return at;
  } catch (err) {
    throw new FieldcamError(
      'CLI_OUTPUT_FAILED',
      `flash: writing ${device} failed after ${at} bytes: ${(err as Error).message}; the card is not usable, write it again`,
    );
  } finally {
    closeSync(src);
    closeSync(out);
  }
}
