import type { ProfileReport, ProfileSample } from '../../shared/ProfileReport.ts';
import type { ControlDocument } from '../control/controlCbor.ts';

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : {});

/** Figures a device's telemetry cannot give (docs/profiling.md §Field devices). */
export const TELEMETRY_MISSING = Object.freeze([
  'process RSS: telemetry carries the XS heap only',
  "latency per fragment: telemetry carries the device's ACK latency p50/p99 (sent → PERSISTED) only",
  'boot → first PutMedia byte and recovery after a fault: telemetry has no event times',
  'the app heap after boot: telemetry carries no heap baseline',
  "capture → socket per frame, TLS records and handshakes: the device's status lines carry them, telemetry does not",
  'ARM instructions per frame and CPU by stage: only under QEMU (fieldcam profile --count-instructions)',
]);

/**
 * `fieldcam device <thing> profile`: the profile report drawn from a deployed camera's telemetry records
 * (docs/control-channel.md §Telemetry), received over MQTT during the run: heap, pool, computrons per frame,
 * drops by reason and errors by code over time. `at` is the host's receive time.
 */
export function profileFromTelemetry(
  thing: string,
  records: readonly { readonly at: number; readonly doc: ControlDocument }[],
  durationS: number,
): ProfileReport {
  const start = records[0]?.at ?? 0;
  const samples: ProfileSample[] = records.map((r, i) => {
    const d = r.doc;
    const prev = i > 0 ? records[i - 1]!.doc : undefined;
    const frames = num(d.framesIn) - num(prev?.framesIn);
    const heap = rec(d.heap);
    const drops = rec(d.drops);
    return {
      t: (r.at - start) / 1000,
      framesIn: num(d.framesIn),
      framesDropped: Object.values(drops).reduce<number>((a, b) => a + num(b), 0),
      fragmentsPersisted: num(d.fragmentsPersisted),
      heapBytes: num(heap.bytes),
      peakHeapBytes: num(heap.peak),
      appHeapBytes: 0,
      poolSlotsInUse: num(d.poolSlotsInUse),
      heapChunkBytes: num(heap.chunks, -1),
      heapSlotBytes: num(heap.slots, -1),
      captureToSocketFrames: 0,
      captureToSocketP50Ms: -1,
      captureToSocketP99Ms: -1,
      captureToSocketMaxMs: -1,
      rssBytes: 0,
      deviceRssBytes: 0,
      computronsPerFrame: prev && frames > 0 ? Math.round((num(d.computrons) - num(prev.computrons)) / frames) : -1,
      connected: d.streaming === true,
    };
  });
  const last = records.at(-1)?.doc ?? {};
  const first = records[0]?.doc ?? {};
  const heap = rec(last.heap);
  const drops: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec(last.drops))) if (num(v) > 0) drops[k] = num(v);
  const errors: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec(last.errors))) {
    if (num(v) > 0) errors[`error ${k}`] = num(v);
    if (num(v) > 0) errorCodes[k] = num(v);
  }
  const frames = num(last.framesIn) - num(first.framesIn);
  const highWater = Math.max(0, ...samples.map((s) => s.poolSlotsInUse));
  const poolSlots = num(last.poolSlots);
  const peak = num(heap.peak);
  const limit = num(heap.limit);
  return {
    version: 1,
    board: thing,
    run: 'field device (MQTT telemetry)',
    video: '',
    durationS,
    timeScale: 1,
    realtime: true,
    faults: [],
    stream: thing,
    exitCode: 0,
    limits: { heapLimitBytes: limit, appHeapBudgetBytes: null, poolSlots, poolBytes: 0 },
    qemu: null,
    samples,
    fragments: [],
    events: [],
    latency: {
      count: 0,
      p50: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
      deviceAckP50Ms: num(last.ackLatencyP50Ms, -1),
      deviceAckP99Ms: num(last.ackLatencyP99Ms, -1),
    },
    bootToFirstByteMs: -1,
    recoveries: [],
    totals: {
      framesIn: num(last.framesIn),
      framesDropped: samples.at(-1)?.framesDropped ?? 0,
      fragmentsIn: num(last.fragmentsSent),
      fragmentsPersisted: num(last.fragmentsPersisted),
      connections: 0,
      peakHeapBytes: peak,
      peakAppHeapBytes: 0,
      poolHighWater: highWater,
      peakRssBytes: 0,
      computronsPerFrame: frames > 0 ? Math.round((num(last.computrons) - num(first.computrons)) / frames) : 0,
      instructionsPerFrame: null,
      instructionsPerFrameByStage: null,
      // Telemetry has the heap split now, not its peak: the highest seen.
      peakHeapChunkBytes: Math.max(-1, ...samples.map((s) => s.heapChunkBytes)),
      peakHeapSlotBytes: Math.max(-1, ...samples.map((s) => s.heapSlotBytes)),
      captureToSocket: { frames: 0, worstIntervalP99Ms: -1, maxMs: -1 },
      tlsRecords: -1,
      tlsBytes: -1,
      tlsHandshakes: -1,
      cloudFragmentsStored: 0,
      cloudPersistedAcks: 0,
      dropsByReason: drops,
      eventsByKind: errors,
      errorsByCode: errorCodes,
    },
    budgets: [
      { name: 'peak XS heap', measured: peak, budget: limit, unit: 'bytes', ok: peak <= limit, source: "the device's heap limit (telemetry heap.limit)" },
      {
        name: 'pool high-water',
        measured: highWater,
        budget: poolSlots,
        unit: 'slots',
        ok: highWater < poolSlots && !drops.poolFull,
        source: "the device's pool (telemetry poolSlots)",
        ...(drops.poolFull ? { note: `${drops.poolFull} frames dropped with the pool full since boot` } : {}),
      },
    ],
    missing: [...TELEMETRY_MISSING],
  };
}
