import type { Board } from '../../io/Board.ts';
import { FieldcamError } from '../../core/errors.ts';
import { decodeUtf8 } from '../../core/text/utf8.ts';
import { host } from './native.ts';
import { xsCamera } from './xsCamera.ts';
import { xsHash } from './xsHash.ts';
import { xsLoop } from './xsLoop.ts';
import { xsSocket } from './xsSocket.ts';
import { xsStorage } from './xsStorage.ts';
import { xsClock, xsTimers } from './xsTime.ts';

/**
 * The byte scans are the host's functions themselves (scan.c reads only its arguments, never `this`): the media
 * path calls them once or twice per camera read, and a wrapper would add two JS calls each time.
 */
function xsByteScan(): NonNullable<Board['byteScan']> {
  const native = host();
  return Object.freeze({
    indexOfByte: native.indexOfByte,
    findStartCodes: native.findStartCodes,
    classifyNals: native.classifyNals,
    closeAccessUnit: native.closeAccessUnit,
    pushAccessUnits: native.pushAccessUnits,
    copyNalTable: native.copyNalTable,
    fillFrameRecord: native.fillFrameRecord,
    findJpegMarker: native.findJpegMarker,
    skipJpegSegments: native.skipJpegSegments,
    walkJpegHeaders: native.walkJpegHeaders,
  });
}

/** The SimpleBlock writers are the host's functions themselves, for the same reason (block.c reads only its arguments). */
function xsMkvBlock(): NonNullable<Board['mkvBlock']> {
  return Object.freeze({ pushBlock: host().mkvBlock, writeBlock: host().mkvWriteBlock });
}

/** The device board: every port over the C host's natives (firmware/runtime). */
export const xsBoard: Board = Object.freeze({
  runtime: 'xs',
  clock: xsClock,
  timers: xsTimers,
  sockets: xsSocket,
  hash: xsHash,
  storage: xsStorage(),
  byteScan: xsByteScan(),
  mkvBlock: xsMkvBlock(),
  camera: xsCamera,
  fifo: (path: string) => {
    let fd: number;
    try {
      fd = host().openFifo(path);
    } catch (err) {
      throw new FieldcamError('INPUT_READ_FAILED', `trigger ${path}: ${(err as Error).message}`);
    }
    return xsCamera(fd, `trigger ${path}`);
  },
  readText: (path: string) => decodeUtf8(new Uint8Array(host().readFile(path))),
  readBytes: (path: string) => new Uint8Array(host().readFile(path)),
  writeBytesAtomic: (path: string, bytes: Uint8Array) => host().writeFileAtomic(path, bytes, 0, bytes.length),
  removeStaleTemps: (path: string) => host().removeStaleTemps(path),
  print: (line: string) => host().print(line),
  printError: (line: string) => host().printError(line),
  onStop: (callback: () => void) => xsLoop.onSignal(() => callback()),
  memory: () => host().memory(),
  framePoolMemory: (bytes: number) => host().framePoolMemory(bytes),
  limitAppHeap: (bytes: number) => host().limitAppHeap(bytes),
  tls: () => host().tlsStats(),
  computrons: () => host().computrons(),
  random: () => Math.random(),
});
