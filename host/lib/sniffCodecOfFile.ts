import { closeSync, openSync } from 'node:fs';
import type { Codec } from '../../firmware/core/media/FrameInput.ts';
import { sniffCodec } from './muxFile.ts';

/** The codec of a file from its first bytes, or undefined when it cannot be opened or recognised. */
export function sniffCodecOfFile(path: string): Codec | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return sniffCodec(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
