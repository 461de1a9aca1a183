// XS runner: runs every suite registered by the files bundled before it, inside fieldcam-runtime (natively
// or under qemu-arm). toolchain/xs/bundleTests.mjs writes the entry that imports this file first (so the
// fixture loader exists before suite files run their top-level code), then every core suite, then calls
// runRegisteredSuites(). Output: `ok <suite> › <test>` / `FAIL <suite> › <test>: <message>` per test, a
// `# xs …` cost line per suite, and the `@@fieldcam-results` marker that toolchain/test.mjs aggregates.
import {
  setBoardAckScan,
  setBoardByteScan,
  setBoardFrameRelease,
  setBoardFrameQueue,
  setBoardCameraFds,
  setBoardMkvBlock,
  setBoardStorage,
  setFixtureLoader,
  setScale,
  takeRegisteredSuites,
} from './index.ts';
import type { NativeHost } from '../../firmware/boards/xs/native.ts';
import { xsCamera } from '../../firmware/boards/xs/xsCamera.ts';
import { xsMkvBlock, xsByteScan, xsFrameQueue, xsFrameRelease } from '../../firmware/boards/xs/xsMediaPorts.ts';
import { xsStorage } from '../../firmware/boards/xs/xsStorage.ts';

/** The C host's natives (firmware/runtime/natives.c). */
declare const native: NativeHost;

// Arguments: [--scale N] [--timings]. The runtime's working directory is the repository root.
const timings = native.argv.includes('--timings');
const scaleAt = native.argv.indexOf('--scale');
if (scaleAt >= 0) setScale(Number(native.argv[scaleAt + 1]));
setFixtureLoader((name) => new Uint8Array(native.readFile(`test/fixtures/${name}`)));
// The ports firmware/boards/xs/xsBoard.ts hands the core, so core suites check the C scanners and block.c against the TS ones.
setBoardByteScan(xsByteScan());
setBoardMkvBlock(xsMkvBlock());
setBoardFrameRelease(xsFrameRelease());
setBoardFrameQueue(xsFrameQueue());
// The ACK framing walk as xsBoard hands it over (the host functions themselves), so the AckParser suites check ack.c.
setBoardAckScan(Object.freeze({ followAck: native.ackFollow, readAck: native.ackRead }));
// A scratch folder of this run (the native and the emulated runs go at the same time): files only, removed by the
// suites that make them.
const scratch = `build/xs/storage-scratch/${native.now()}-${Math.floor(native.monotonic() * 1000)}`;
setBoardStorage(xsStorage(), scratch);
// Camera fds: files and FIFOs in the scratch folder, unlinked once open (the fd keeps them).
let cameraFiles = 0;
function cameraPath(): string {
  native.storageMakeDirectory('build/xs/storage-scratch');
  native.storageMakeDirectory(scratch);
  return `${scratch}/camera-${cameraFiles++}`;
}
setBoardCameraFds({
  camera: (fd) => xsCamera(fd),
  file(bytes) {
    const path = cameraPath();
    const writer = native.storageOpen(path);
    native.storageAppend(writer, bytes, 0, bytes.length);
    native.storageClose(writer);
    const fd = native.storageOpen(path);
    native.storageRemove(path);
    return fd;
  },
  pipe() {
    const path = cameraPath();
    const fd = native.openFifo(path);
    native.storageRemove(path);
    return fd;
  },
  write: (fd, bytes, offset, length) => native.storageAppend(fd, bytes, offset, length),
  close: (fd) => native.storageClose(fd),
});

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
