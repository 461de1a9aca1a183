import type { Board } from '../../app/Board.ts';
import { decodeUtf8 } from '../../core/text/decodeUtf8.ts';
import { host } from './native.ts';
import { xsCamera } from './xsCamera.ts';
import { xsHash } from './xsHash.ts';
import { xsLoop } from './xsLoop.ts';
import { xsSocket } from './xsSocket.ts';
import { xsClock, xsTimers } from './xsTime.ts';

/** The device board: every port over the C host's natives (firmware/runtime). */
export const xsBoard: Board = Object.freeze({
  runtime: 'xs',
  clock: xsClock,
  timers: xsTimers,
  sockets: xsSocket,
  hash: xsHash,
  byteScan: Object.freeze({
    indexOfByte: (data: Uint8Array, value: number, from: number, to: number) => host().indexOfByte(data, value, from, to),
    findStartCodes: (data: Uint8Array, from: number, to: number, found: Uint32Array) => host().findStartCodes(data, from, to, found),
    findJpegMarker: (data: Uint8Array, from: number, to: number) => host().findJpegMarker(data, from, to),
    skipJpegSegments: (data: Uint8Array, from: number, to: number) => host().skipJpegSegments(data, from, to),
  }),
  camera: xsCamera,
  readText: (path: string) => decodeUtf8(new Uint8Array(host().readFile(path))),
  readBytes: (path: string) => new Uint8Array(host().readFile(path)),
  writeBytesAtomic: (path: string, bytes: Uint8Array) => host().writeFileAtomic(path, bytes, 0, bytes.length),
  print: (line: string) => host().print(line),
  onStop: (callback: () => void) => xsLoop.onSignal(() => callback()),
  memory: () => host().memory(),
  framePoolMemory: (bytes: number) => host().framePoolMemory(bytes),
  limitAppHeap: (bytes: number) => host().limitAppHeap(bytes),
  computrons: () => host().computrons(),
  random: () => Math.random(),
});
