// Runs inside fieldcam-runtime: what one camera's CameraUploader allocates in the JS heap when it is built (its
// frame records, reader, writer, session and, with a spool, the spool's buffers), in slots and chunk bytes, counted
// exactly with the engine's collections held (native.heapCounters), for the frame-record counts given. The device's
// boot check (firmware/app/heapBudget.ts) is fitted to these figures. Prints one JSON line per case, with the shape
// (cameraHeapShape) the check estimates from.
//   npx esbuild test/bench/xs/cameraHeap.ts --bundle --format=iife --platform=neutral --target=es2022 --outfile=/tmp/heap.js
//   build/xs/x86_64/fieldcam-runtime /tmp/heap.js /tmp/heap-spool            (64-bit slots)
//   build/qemu/bin/qemu-arm -cpu arm1176 build/xs/armv6/fieldcam-runtime /tmp/heap.js /tmp/heap-spool   (32-bit)
import { CameraUploader } from '../../../firmware/app/CameraUploader.ts';
import { spoolReadBytes } from '../../../firmware/app/cameraSpool.ts';
import { parseDeviceConfig } from '../../../firmware/app/DeviceConfig.ts';
import { cameraHeapShape } from '../../../firmware/app/heapBudget.ts';
import { cameraPoolSizing } from '../../../firmware/app/poolBudget.ts';
import { xsBoard } from '../../../firmware/boards/xs/xsBoard.ts';

declare const native: {
  print(line: string): void;
  readonly argv: readonly string[];
  heapCounters(out: Float64Array, hold: boolean): void;
};

const spoolDir = native.argv[0] ?? '/tmp/fieldcam-heap-spool';
const counters = new Float64Array(2);

function config(fps: number, codec: string, spool: boolean, seconds: number, maxRecordBytes: number, spoolBytes: number): string {
  return JSON.stringify({
    version: 1,
    board: {
      name: 'bench',
      pool: { bitrateKbps: 1000, bufferSeconds: seconds, fps, maxFrameBytes: 262_144 },
      stream: { fragmentMs: 2000, maxFragmentMs: 10_000 },
      ...(spool ? { spool: { maxBytes: spoolBytes, minFreeBytes: 0, drainKbps: 4000, maxRecordBytes } } : {}),
    },
    stream: { name: 'heap', region: 'us-east-1' },
    endpoint: { host: '127.0.0.1', port: 9, caFile: '/dev/null' },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    camera: { fd: 0, codec, live: true, ...(codec === 'mjpeg' ? { fps: { num: fps, den: 1 } } : {}) },
    statusIntervalMs: 0,
    ...(spool ? { spoolDir: `${spoolDir}/${fps}-${codec}-${seconds}` } : {}),
  });
}

/** Slots and chunk bytes one uploader allocates when built (its pool's slots in an arena outside the count). */
function measure(fps: number, codec: string, spool: boolean, seconds = 60, maxRecordBytes = 1_048_576, spoolBytes = 64 << 20): void {
  const c = parseDeviceConfig(config(fps, codec, spool, seconds, maxRecordBytes, spoolBytes));
  const sizing = cameraPoolSizing(c);
  // The slots stand in small (their bytes are not heap on the device) and the spool's read buffer after them, both in
  // memory made before counting, as buildCameras places them outside the JS heap.
  const readBytes = spoolReadBytes(c);
  const arena = new ArrayBuffer(sizing.slotCount * 16 + readBytes);
  const spoolBuffer = readBytes > 0 ? new Uint8Array(arena, sizing.slotCount * 16, readBytes) : undefined;
  const small = { ...sizing, slotBytes: 16 };
  native.heapCounters(counters, true);
  const slots0 = counters[0]!;
  const chunks0 = counters[1]!;
  const uploader = new CameraUploader(xsBoard, c, undefined, undefined, {
    tls: { ca: '' },
    pool: { sizing: small, arena, offset: 0 },
    ...(spoolBuffer ? { spoolBuffer } : {}),
  });
  native.heapCounters(counters, false);
  const slots = counters[0]! - slots0;
  const chunkBytes = counters[1]! - chunks0;
  const slotSize = xsBoard.slotSize ?? 0;
  native.print(
    JSON.stringify({
      codec,
      fps,
      seconds,
      spool,
      maxRecordBytes: spool ? maxRecordBytes : 0,
      spoolBytes: spool ? spoolBytes : 0,
      shape: cameraHeapShape(sizing, c),
      slots,
      chunkBytes,
      slotSize,
      ok: uploader !== undefined,
    }),
  );
}

for (const codec of ['h264', 'mjpeg']) for (const fps of [5, 15, 30, 60]) measure(fps, codec, false);
for (const record of [262_144, 1_048_576]) measure(15, 'h264', true, 60, record);
measure(30, 'h264', true, 60, 1_048_576);
measure(15, 'h264', true, 60, 1_048_576, 512 << 20);
