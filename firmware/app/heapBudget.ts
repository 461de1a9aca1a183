import { deriveSpoolSizing } from '../core/config/spoolBudget.ts';
import { FieldcamError } from '../core/errors.ts';
import type { PoolSizing } from '../core/pool/FramePool.ts';
import type { DeviceConfig } from './DeviceConfig.ts';

/**
 * What one camera's CameraUploader allocates in the JS heap when it is built, as a function of its pool's frame
 * records (`maxFrames`): slots (XS's fixed-size cells: 16 bytes on a 32-bit build, 32 on a 64-bit one) and chunk
 * bytes (typed arrays' storage), per kind of term. Measured in XS with collections held (exact counts), on x86_64
 * and under qemu-arm: the slot counts are the same on both, the chunk bytes a 64-bit build's (slot size 32) and a
 * 32-bit build's (16), each rounded up. Command and figures: docs/performance.md, "JS heap per camera"
 * (test/bench/xs/cameraHeap.ts). A frame record with a NAL table (H.264/H.265) holds four more typed arrays.
 */
export const CAMERA_HEAP = Object.freeze({
  fixedSlots: 1_800,
  slotsPerFrame: 24,
  slotsPerFrameNalTable: 28,
  /** Chunk bytes by slot size: a 64-bit build's typed arrays carry larger headers. */
  chunks: Object.freeze({
    16: Object.freeze({ fixed: 60_000, perFrame: 48, perFrameNalTable: 426 }),
    32: Object.freeze({ fixed: 80_000, perFrame: 103, perFrameNalTable: 531 }),
  }),
  /**
   * The camera's spool (docs/spool.md): its index (SpoolLog: 44 bytes per record it can hold, rounded up from 25 on a
   * 64-bit build and 41 on a 32-bit one) and the frame records of the window it reads back (SpoolFragmentSource).
   * Its record read buffer (the pool's slot size) is not heap: buildCameras places it beside the pools.
   * Fitted on the same bench (64- and 32-bit): 389 slots; 118-141 KB of chunks at 152 frames per fragment, up to
   * 256 KB at 302 on a 32-bit build.
   */
  spoolFixedSlots: 400,
  spoolFixedChunkBytes: 140_000,
  spoolChunkBytesPerFragmentFrame: 800,
  spoolIndexBytesPerRecord: 44,
  /**
   * What each camera may take beyond its build while it streams (its connection's 16 KiB receive scratch, HTTP and
   * ACK parsing, fragment headers), and the device's shared part (control channel, credentials, timers). On pi-zero-w
   * and pi-4 with 1-4 cameras the heap's peak while streaming equals the heap held after boot without a spool and is up
   * to 2.1 MB above it with one (the engine's blocks mostly have the room already; the estimate stayed above every peak:
   * test/bench/cameraHeapBoot.ts, docs/boards.md), so these are allowances, not measured growth.
   */
  streamingBytesPerCamera: 64 * 1024,
  streamingSharedBytes: 256 * 1024,
});

/** What a camera's heap depends on: its frame records, whether they hold NAL tables, and its spool's sizes. */
export interface CameraHeapShape {
  readonly maxFrames: number;
  readonly nalTable: boolean;
  /** The camera's spool (cameraSpool.ts sizes it so); absent: none. */
  readonly spool?: { readonly maxRecords: number; readonly framesPerFragment: number };
}

/** What building the camera allocates (CAMERA_HEAP), on a build whose slots take `slotSize` bytes; no streaming allowance. */
export function cameraBuildBytes(shape: CameraHeapShape, slotSize: number): number {
  const h = CAMERA_HEAP;
  const frames = shape.maxFrames;
  const c = slotSize <= 16 ? h.chunks[16] : h.chunks[32];
  let slots = h.fixedSlots + frames * (h.slotsPerFrame + (shape.nalTable ? h.slotsPerFrameNalTable : 0));
  let chunks = c.fixed + frames * (c.perFrame + (shape.nalTable ? c.perFrameNalTable : 0));
  const spool = shape.spool;
  if (spool) {
    slots += h.spoolFixedSlots;
    chunks += h.spoolFixedChunkBytes + spool.framesPerFragment * h.spoolChunkBytesPerFragmentFrame;
    chunks += spool.maxRecords * h.spoolIndexBytesPerRecord;
  }
  return Math.ceil(slots * slotSize + chunks);
}

/** A camera's shape from its configuration and pool sizing, its spool sized as createCameraSpool sizes it. */
export function cameraHeapShape(sizing: PoolSizing, camera: DeviceConfig): CameraHeapShape {
  const budget = camera.board.spool;
  // A spool needs a budget and its folder (cameraSpool.ts); audio cameras and event recording spool too.
  const spooled = budget !== undefined && budget.maxBytes > 0 && camera.spoolDir !== undefined;
  const shape = { maxFrames: sizing.maxFrames, nalTable: (sizing.nalsPerFrame ?? 1) > 0 };
  if (!spooled) return shape;
  const s = deriveSpoolSizing(budget, camera.board.pool, camera.board.stream);
  return {
    ...shape,
    spool: { maxRecords: s.maxRecords, framesPerFragment: Math.min(s.maxFramesPerFragment, sizing.maxFrames) },
  };
}

/** The boot check's figures (the boot line carries them). */
export interface HeapPlan {
  /** The JS heap held when the check ran: built-ins, bytecode, the configuration. */
  readonly heldBytes: number;
  /** Each camera's estimate (cameraBuildBytes and its streaming allowance), in order. */
  readonly cameraBytes: readonly number[];
  /** held + cameras + the shared streaming part. */
  readonly estimateBytes: number;
  /** The runtime's heap limit (--heap-limit = the manifest's memory.jsBudgetBytes). */
  readonly limitBytes: number;
}

/**
 * The JS-heap half of the device's memory budget (planPools is the pools' half), checked at boot before any camera
 * is built: what is held now, plus each camera's estimate, plus the shared streaming part, must fit the runtime's
 * heap limit. Past it the engine would stop the device with OUT_OF_MEMORY some time later, while streaming; here it
 * refuses at once, naming the numbers. `memory` is the board's (limitBytes 0 = no limit: nothing to check);
 * `slotSize` the build's slot size (absent: a board without XS slots, nothing to check). Throws CONFIG_INVALID.
 */
export function planHeap(
  memory: { readonly heapBytes: number; readonly limitBytes: number },
  slotSize: number | undefined,
  cameras: readonly DeviceConfig[],
  sizings: readonly PoolSizing[],
): HeapPlan | undefined {
  if (!memory.limitBytes || !slotSize) return undefined;
  const shapes = cameras.map((c, i) => cameraHeapShape(sizings[i]!, c));
  const spooled = shapes.some((shape) => shape.spool !== undefined);
  const cameraBytes = shapes.map((shape) => cameraBuildBytes(shape, slotSize) + CAMERA_HEAP.streamingBytesPerCamera);
  const estimateBytes = memory.heapBytes + cameraBytes.reduce((a, b) => a + b, 0) + CAMERA_HEAP.streamingSharedBytes;
  if (estimateBytes > memory.limitBytes) {
    const mb = (n: number) => `${(n / 1_048_576).toFixed(2)} MiB`;
    const each = cameras.map((c, i) => `${c.cameraName ?? c.stream.name} ${mb(cameraBytes[i]!)}`).join(', ');
    throw new FieldcamError(
      'CONFIG_INVALID',
      `the JS heap of ${cameras.length} camera(s) would need about ${mb(estimateBytes)}: ${mb(memory.heapBytes)} held at boot, ` +
        `${each} (frame records, reader, session${spooled ? ', spool' : ''}; while streaming), ` +
        `${mb(CAMERA_HEAP.streamingSharedBytes)} shared; ` +
        `the runtime's limit is ${mb(memory.limitBytes)} (memory.jsBudgetBytes of board ` +
        `${cameras[0]?.board.name ?? '?'}): fewer cameras, a lower fps per camera (frame records)` +
        `${spooled ? ", a smaller spool.maxBytes in the board's manifest (the spool's index is heap)" : ''}, or a board with a larger jsBudgetBytes`,
    );
  }
  return Object.freeze({ heldBytes: memory.heapBytes, cameraBytes: Object.freeze(cameraBytes), estimateBytes, limitBytes: memory.limitBytes });
}
