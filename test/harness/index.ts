// The test harness that core suites import. It is pure ECMAScript so the same suite files run under Node
// (where test/harness/node.ts hands them to uvu) and inside XS on x86-64 and ARM (test/harness/xs.ts).
// Suites never touch the file system: fixtures arrive through a loader that each runner installs.

import type { MkvBlockPort } from '../../firmware/core/mkv/MkvBlockPort.ts';
import type { AckScanPort } from '../../firmware/io/AckScan.ts';
import type { FrameQueuePort } from '../../firmware/io/FrameQueue.ts';
import type { ByteScanPort } from '../../firmware/io/ByteScan.ts';
import type { FrameReleasePort } from '../../firmware/io/FrameRelease.ts';
import type { FrameSourceFactory } from '../../firmware/io/FrameSource.ts';
import type { StoragePort } from '../../firmware/io/Storage.ts';

export * as assert from './assert.ts';

export type TestFn = () => void | Promise<void>;

export interface RegisteredTest {
  readonly name: string;
  readonly fn: TestFn;
}

export interface RegisteredSuite {
  readonly name: string;
  readonly tests: RegisteredTest[];
  /** Run once before the suite's tests (set-up: servers, clouds). If one throws, every test fails with its error. */
  readonly before: TestFn[];
  /** Run once after the suite's tests, pass or fail (clean-up; never an assertion). */
  readonly after: TestFn[];
}

export interface Suite {
  (name: string, fn: TestFn): void;
  /** Set-up before the suite's tests (mirrors uvu's `test.before`); a failure fails every test, not silently. */
  before(fn: TestFn): void;
  /** Clean-up after the suite's tests, whatever their outcome (mirrors uvu's `test.after`). */
  after(fn: TestFn): void;
  /** Registers the suite with the runner (mirrors uvu's `test.run()`). */
  run(): void;
}

const registry: RegisteredSuite[] = [];
let fixtureLoader: ((name: string) => Uint8Array) | undefined;

export function suite(name: string): Suite {
  const tests: RegisteredTest[] = [];
  const before: TestFn[] = [];
  const after: TestFn[] = [];
  const add = ((testName: string, fn: TestFn) => {
    tests.push({ name: testName, fn });
  }) as Suite;
  add.before = (fn) => {
    before.push(fn);
  };
  add.after = (fn) => {
    after.push(fn);
  };
  add.run = () => {
    registry.push({ name, tests, before, after });
  };
  return add;
}

/** Suites registered so far, in order; the runner drains it after importing each file. */
export function takeRegisteredSuites(): RegisteredSuite[] {
  return registry.splice(0, registry.length);
}

/** Bytes of `test/fixtures/<name>`, read by whichever runner hosts the suite. */
export function fixture(name: string): Uint8Array {
  if (!fixtureLoader) throw new Error('no fixture loader installed by the test runner');
  return fixtureLoader(name);
}

export function setFixtureLoader(loader: (name: string) => Uint8Array): void {
  fixtureLoader = loader;
}

let iterationScale = 1;

/**
 * Multiplier for the iteration counts of the heaviest (fuzz) loops: 1 on Node and native XS; a runner
 * under emulation may lower it so the same suites finish in reasonable time. Always at least 1 iteration.
 */
export function scaled(iterations: number): number {
  return Math.max(1, Math.round(iterations * iterationScale));
}

/** True when loops run their full counts (always on Node and native XS). */
export function fullScale(): boolean {
  return iterationScale === 1;
}

/** Step for "every cut point" loops: 1 at full scale, about 1 / scale when scaled down. */
export function stride(): number {
  return Math.max(1, Math.round(1 / iterationScale));
}

export function setScale(factor: number): void {
  if (!(factor > 0 && factor <= 1)) throw new RangeError(`scale must be in (0, 1], got ${factor}`);
  iterationScale = factor;
}

let boardScan: ByteScanPort | undefined;

/**
 * The board's own byte-scan port when the runner has one: the C host's natives (firmware/runtime/scan.c) inside
 * XS, natively and under qemu-arm; undefined under Node, whose board keeps the TypeScript scanners.
 */
export function boardByteScan(): ByteScanPort | undefined {
  return boardScan;
}

export function setBoardByteScan(port: ByteScanPort): void {
  boardScan = port;
}

let boardBlock: MkvBlockPort | undefined;

/**
 * The board's native SimpleBlock writer when the runner has one (firmware/runtime/block.c inside XS, natively and
 * under qemu-arm); undefined under Node, whose board keeps MkvWriter's TypeScript path.
 */
export function boardMkvBlock(): MkvBlockPort | undefined {
  return boardBlock;
}

export function setBoardMkvBlock(port: MkvBlockPort): void {
  boardBlock = port;
}

let boardRelease: FrameReleasePort | undefined;

/**
 * The board's native frame release when the runner has one (firmware/runtime/release.c inside XS, natively and under
 * qemu-arm); undefined under Node, whose board keeps FragmentQueue's TypeScript path.
 */
export function boardFrameRelease(): FrameReleasePort | undefined {
  return boardRelease;
}

export function setBoardFrameRelease(port: FrameReleasePort): void {
  boardRelease = port;
}

let boardQueue: FrameQueuePort | undefined;

/**
 * The board's native stamping and queueing when the runner has one (firmware/runtime/frames.c inside XS, natively and
 * under qemu-arm); undefined under Node, whose board keeps FrameInput's TypeScript path.
 */
export function boardFrameQueue(): FrameQueuePort | undefined {
  return boardQueue;
}

export function setBoardFrameQueue(port: FrameQueuePort): void {
  boardQueue = port;
}

let boardAck: AckScanPort | undefined;

/**
 * The board's ACK framing walk when the runner has one (firmware/runtime/ack.c inside XS, natively and under
 * qemu-arm); undefined under Node, whose board keeps AckParser's TypeScript walk.
 */
export function boardAckScan(): AckScanPort | undefined {
  return boardAck;
}

export function setBoardAckScan(port: AckScanPort): void {
  boardAck = port;
}

let storage: { readonly port: StoragePort; readonly scratch: string } | undefined;

/**
 * The board's Storage port and a scratch folder of this run for it: node:fs and a temporary folder under Node,
 * the C host's natives (firmware/runtime/storage.c) and a folder under build/xs inside XS. Suites make their
 * own sub-folders and remove the files they made.
 */
export function boardStorage(): { readonly port: StoragePort; readonly scratch: string } {
  if (!storage) throw new Error('no storage installed by the test runner');
  return storage;
}

export function setBoardStorage(port: StoragePort, scratch: string): void {
  storage = { port, scratch };
}

/**
 * Real file descriptors for camera tests, and the board's camera on them (xsCamera inside XS, with the host's
 * natives; nodeCamera and node:fs under Node). Suites close what they open (the camera's `close`, or `close`).
 */
export interface CameraFds {
  /** The board's camera source on `fd` (what the device reads its camera pipe with). */
  camera(fd: number): FrameSourceFactory;
  /** An fd that reads `bytes` from their start, then end of stream (a regular file in the scratch folder). */
  file(bytes: Uint8Array): number;
  /** An fd of an empty pipe (a FIFO opened read-write and non-blocking): reads would block until `write`. */
  pipe(): number;
  /** Writes bytes[offset, offset + length) to `fd` (the pipe's other end: the same FIFO). */
  write(fd: number, bytes: Uint8Array, offset: number, length: number): void;
  /** Closes `fd` behind its camera's back: the camera's next read fails (EBADF), as a device error would. */
  close(fd: number): void;
}

let cameraFds: CameraFds | undefined;

export function boardCameraFds(): CameraFds {
  if (!cameraFds) throw new Error('no camera fds installed by the test runner');
  return cameraFds;
}

export function setBoardCameraFds(fds: CameraFds): void {
  cameraFds = fds;
}
