// XS runner: runs every suite registered by the files bundled before it, inside fieldcam-runtime (natively
// or under qemu-arm). toolchain/xs/bundleTests.mjs writes the entry that imports this file first (so the
// fixture loader exists before suite files run their top-level code), then every core suite, then calls
// runRegisteredSuites(). Output: `ok <suite> › <test>` / `FAIL <suite> › <test>: <message>` per test, a
// `# xs …` cost line per suite, and the `@@fieldcam-results` marker that toolchain/test.mjs aggregates.
import type { MkvBlockPort } from '../../firmware/core/mkv/MkvBlockPort.ts';
import { setBoardByteScan, setBoardMkvBlock, setBoardStorage, setFixtureLoader, setScale, takeRegisteredSuites } from './index.ts';
import { xsStorage } from '../../firmware/boards/xs/xsStorage.ts';

/** The C host's natives (firmware/runtime/natives.c); only what the harness uses. */
declare const native: {
  print(line: string): void;
  readFile(path: string): ArrayBuffer;
  exit(code: number): never;
  monotonic(): number;
  now(): number;
  computrons(): number;
  heapBytes(): number;
  indexOfByte(data: Uint8Array, value: number, from: number, to: number): number;
  findStartCodes(data: Uint8Array, from: number, to: number, found: Uint32Array): number;
  classifyNals(data: Uint8Array, from: number, to: number, zeros: number, hasVcl: boolean, out: Uint32Array): number;
  closeAccessUnit(data: Uint8Array, from: number, to: number, base: number, state: Float64Array, table: Float64Array, sps: Uint8Array, pps: Uint8Array): number;
  copyNalTable(table: Float64Array, count: number, start: number, offsets: Uint32Array, lengths: Uint32Array, prefixes: Uint8Array, types: Uint8Array): void;
  pushAccessUnits(cursor: object, n: number, state: Float64Array, table: Float64Array, sps: Uint8Array, pps: Uint8Array): number;
  fillFrameRecord(frame: object, cursor: object, table: Float64Array, count: number, start: number, end: number, seq: number, key: boolean): void;
  findJpegMarker(data: Uint8Array, from: number, to: number): number;
  skipJpegSegments(data: Uint8Array, from: number, to: number): number;
  walkJpegHeaders(data: Uint8Array, from: number, to: number, out: Uint32Array): number;
  mkvBlock(frame: unknown, out: unknown, header: Uint8Array, relative: number, lengths: Uint8Array | null): number;
  mkvWriteBlock(frame: unknown, out: unknown, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array): number;
  readonly argv: readonly string[];
};

// Arguments: [--scale N] [--timings]. The runtime's working directory is the repository root.
const timings = native.argv.includes('--timings');
const scaleAt = native.argv.indexOf('--scale');
if (scaleAt >= 0) setScale(Number(native.argv[scaleAt + 1]));
setFixtureLoader((name) => new Uint8Array(native.readFile(`test/fixtures/${name}`)));
// The same port firmware/boards/xs/xsBoard.ts builds, so core suites check the C scanners against the TS ones.
setBoardByteScan(
  Object.freeze({
    indexOfByte: (data: Uint8Array, value: number, from: number, to: number) => native.indexOfByte(data, value, from, to),
    findStartCodes: (data: Uint8Array, from: number, to: number, found: Uint32Array) => native.findStartCodes(data, from, to, found),
    classifyNals: (data: Uint8Array, from: number, to: number, zeros: number, hasVcl: boolean, out: Uint32Array) =>
      native.classifyNals(data, from, to, zeros, hasVcl, out),
    closeAccessUnit: (data: Uint8Array, from: number, to: number, base: number, state: Float64Array, table: Float64Array, sps: Uint8Array, pps: Uint8Array) =>
      native.closeAccessUnit(data, from, to, base, state, table, sps, pps),
    copyNalTable: (table: Float64Array, count: number, start: number, offsets: Uint32Array, lengths: Uint32Array, prefixes: Uint8Array, types: Uint8Array) =>
      native.copyNalTable(table, count, start, offsets, lengths, prefixes, types),
    pushAccessUnits: native.pushAccessUnits,
    fillFrameRecord: native.fillFrameRecord,
    findJpegMarker: (data: Uint8Array, from: number, to: number) => native.findJpegMarker(data, from, to),
    skipJpegSegments: (data: Uint8Array, from: number, to: number) => native.skipJpegSegments(data, from, to),
    walkJpegHeaders: (data: Uint8Array, from: number, to: number, out: Uint32Array) => native.walkJpegHeaders(data, from, to, out),
  }),
);

// The SimpleBlock writer as xsBoard hands it over (the host function itself), so core suites check block.c.
setBoardMkvBlock(
  Object.freeze({
    pushBlock: native.mkvBlock as MkvBlockPort['pushBlock'],
    writeBlock: native.mkvWriteBlock as MkvBlockPort['writeBlock'],
  }),
);
// A scratch folder of this run (the native and the emulated runs go at the same time): files only, removed by the
// suites that make them.
setBoardStorage(xsStorage(), `build/xs/storage-scratch/${native.now()}-${Math.floor(native.monotonic() * 1000)}`);

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

export async function runRegisteredSuites(): Promise<void> {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  let peakHeap = native.heapBytes();
  for (const s of takeRegisteredSuites()) {
    const c0 = native.computrons();
    const t0 = native.monotonic();
    let setupError: unknown;
    try {
      for (const fn of s.before) await fn();
    } catch (err) {
      setupError = err; // every test of the suite fails with it
    }
    for (const t of s.tests) {
      const tc = native.computrons();
      try {
        if (setupError !== undefined) throw setupError;
        await t.fn();
        counts.passed++;
        native.print(`ok ${s.name} › ${t.name}`);
      } catch (err) {
        counts.failed++;
        native.print(`FAIL ${s.name} › ${t.name}: ${describe(err)}`);
      }
      if (timings) native.print(`# xs ${native.computrons() - tc} computrons: ${s.name} › ${t.name}`);
    }
    for (const fn of s.after) {
      try {
        await fn();
      } catch (err) {
        counts.failed++;
        native.print(`FAIL ${s.name} › (after): ${describe(err)}`);
      }
    }
    peakHeap = Math.max(peakHeap, native.heapBytes());
    const ms = native.monotonic() - t0;
    native.print(`# xs ${s.name}: ${native.computrons() - c0} computrons, ${Math.round(ms)} ms`);
  }
  native.print(`# xs total: ${native.computrons()} computrons, heap ${peakHeap} bytes`);
  native.print(`@@fieldcam-results ${JSON.stringify(counts)}`);
}
