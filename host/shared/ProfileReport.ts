import type { FaultStep } from './parseFaultSpec.ts';

/** One status line of the device, stamped on the shared (scaled) clock, with the process RSS read at that moment. */
export interface ProfileSample {
  /** Device seconds since the runtime was started. */
  readonly t: number;
  readonly framesIn: number;
  readonly framesDropped: number;
  readonly fragmentsPersisted: number;
  readonly heapBytes: number;
  readonly peakHeapBytes: number;
  /** heapBytes − the heap after boot: what the app holds (against appHeapBudgetBytes where the board has one). */
  readonly appHeapBytes: number;
  readonly poolSlotsInUse: number;
  /** The XS engine's chunk and slot bytes in use (firmware status `heapChunkBytes`, `heapSlotBytes`); -1 where not reported. */
  readonly heapChunkBytes: number;
  readonly heapSlotBytes: number;
  /**
   * Capture → socket per frame over this status interval (firmware status `captureToSocket*`): frames first sent
   * in it, and their p50, p99 and max in ms (-1: no live frame sent in it).
   */
  readonly captureToSocketFrames: number;
  readonly captureToSocketP50Ms: number;
  readonly captureToSocketP99Ms: number;
  readonly captureToSocketMaxMs: number;
  /** The process's VmRSS; for an ARM board the qemu-arm process, QEMU included. */
  readonly rssBytes: number;
  /** rssBytes − the measured QEMU overhead (== rssBytes natively). */
  readonly deviceRssBytes: number;
  /** Computrons per frame since the previous sample (-1: no frame in between). */
  readonly computronsPerFrame: number;
  readonly connected: boolean;
}

/** A fragment as the local cloud stored it, and its latency from its last frame's end to PERSISTED. */
export interface ProfileFragment {
  readonly number: string;
  /** Device seconds since boot at which the fragment's last frame ended (producer timestamp + duration). */
  readonly endT: number;
  /** Device seconds since boot at which the cloud had it stored (PERSISTED), seen by polling the store. */
  readonly persistedT: number;
  readonly latencyMs: number;
  readonly bytes: number;
}

export interface ProfileEvent {
  readonly t: number;
  /** The device's event (dropped, retry, connected, disconnected, credentials, …), or `fault` for the schedule. */
  readonly event: string;
  readonly code?: string;
  readonly detail?: string;
}

export interface BudgetVerdict {
  readonly name: string;
  readonly measured: number;
  readonly budget: number;
  readonly unit: 'bytes' | 'slots' | 'ms';
  readonly ok: boolean;
  /** Where the budget comes from: the board manifest, the image, or a --budget override. */
  readonly source: string;
  /** Why it failed when the figure alone does not say (the pool filled between two samples). */
  readonly note?: string;
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What `fieldcam profile` writes as --json, and the HTML and CSV are drawn from (docs/profiling.md). */
export interface ProfileReport {
  readonly version: 1;
  readonly board: string;
  readonly run: string;
  readonly video: string;
  readonly durationS: number;
  readonly timeScale: number;
  readonly realtime: boolean;
  readonly faults: readonly FaultStep[];
  readonly stream: string;
  readonly exitCode: number;
  readonly limits: {
    readonly heapLimitBytes: number;
    readonly appHeapBudgetBytes: number | null;
    readonly poolSlots: number;
    readonly poolBytes: number;
  };
  readonly qemu: { readonly overheadBytes: number; readonly method: string } | null;
  readonly samples: readonly ProfileSample[];
  readonly fragments: readonly ProfileFragment[];
  readonly events: readonly ProfileEvent[];
  readonly latency: Percentiles & { readonly deviceAckP50Ms: number; readonly deviceAckP99Ms: number };
  readonly bootToFirstByteMs: number;
  readonly recoveries: readonly { readonly fault: string; readonly atS: number; readonly firstPersistedAfterMs: number }[];
  readonly totals: {
    readonly framesIn: number;
    readonly framesDropped: number;
    readonly fragmentsIn: number;
    readonly fragmentsPersisted: number;
    readonly connections: number;
    readonly peakHeapBytes: number;
    readonly peakAppHeapBytes: number;
    readonly poolHighWater: number;
    readonly peakRssBytes: number;
    readonly computronsPerFrame: number;
    readonly instructionsPerFrame: number | null;
    /** ARM guest instructions per frame by stage (the QEMU plugin's address ranges); null without --count-instructions. */
    readonly instructionsPerFrameByStage: Readonly<Record<string, number>> | null;
    /** Peak chunk and slot bytes of the XS heap (-1 where the board does not report them). */
    readonly peakHeapChunkBytes: number;
    readonly peakHeapSlotBytes: number;
    /** Capture → socket over every live frame: frames counted, the largest interval p99 and the largest single value (ms; -1: none). */
    readonly captureToSocket: { readonly frames: number; readonly worstIntervalP99Ms: number; readonly maxMs: number };
    /** TLS on the device (the XS host's mbedTLS counters; -1 where not reported): application-data records, their bytes, handshakes. */
    readonly tlsRecords: number;
    readonly tlsBytes: number;
    readonly tlsHandshakes: number;
    /** Errors by code: the device's error lines and the codes of its retry/dropped/failed events. */
    readonly errorsByCode: Readonly<Record<string, number>>;
    readonly cloudFragmentsStored: number;
    readonly cloudPersistedAcks: number;
    readonly dropsByReason: Readonly<Record<string, number>>;
    readonly eventsByKind: Readonly<Record<string, number>>;
  };
  readonly budgets: readonly BudgetVerdict[];
  /** Figures the run could not measure, and why. */
  readonly missing: readonly string[];
}

/** Nearest-rank percentile of sorted values (NaN for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
