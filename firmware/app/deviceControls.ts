import type { DeviceControls, TelemetrySnapshot } from '../core/control/ControlPorts.ts';
import type { Board } from '../io/Board.ts';
import type { CameraUploader } from './CameraUploader.ts';
import type { DeviceConfig } from './DeviceConfig.ts';

const finiteOr = (v: number, fallback: number) => (Number.isFinite(v) ? Math.round(v) : fallback);

/**
 * What the control channel may do to this device, over its pipeline. The camera adapters read an encoded
 * stream from a descriptor and cannot change its frame rate or bitrate, so those settings are unsupported.
 * `restart` is the app's: it flushes and exits with DEVICE_EXIT.RESTART.
 */
export function deviceControls(board: Board, config: DeviceConfig, uploader: CameraUploader, restart: () => void): DeviceControls {
  const iot = uploader.iot;
  return {
    capabilities: Object.freeze({
      fps: false,
      bitrate: false,
      reloadCredentials: iot !== undefined,
      fragmentMs: Math.max(1000, config.board.stream.fragmentMs),
      maxFragmentMs: config.board.stream.maxFragmentMs,
    }),
    setStreaming: (on) => uploader.setStreaming(on),
    setFragmentMs: (ms) => uploader.setFragmentMs(ms),
    tagNextFragment: (name, value) => uploader.tagNextFragment(name, value),
    event: (request) => uploader.event(request),
    snapshot: () => snapshot(board, uploader),
    ...(iot ? { reloadCredentials: () => iot.refresh() } : {}),
    restart,
  };
}

/** Telemetry counters (docs/control-channel.md); read every N seconds, so the small objects are acceptable. */
function snapshot(board: Board, uploader: CameraUploader): TelemetrySnapshot {
  const s = uploader.status();
  const d = uploader.pool.drops;
  const memory = board.memory();
  const now = board.clock.monotonic();
  return {
    // Frames read from the camera: queued ones, plus those dropped before they could be queued.
    framesIn: s.framesIn + d.awaitKeyFrame + d.frameTooLarge + d.noParameterSets + d.stopped + d.truncated + d.corrupt + d.fragmentTooLong,
    framesOut: s.stats.framesSent,
    fragmentsSent: s.stats.fragmentsSent,
    fragmentsPersisted: s.stats.fragmentsPersisted,
    drops: { ...d },
    poolSlotsInUse: s.poolSlotsInUse,
    poolSlots: s.poolSlots,
    bytesBehind: uploader.bytesBehind(),
    ackLatencyP50Ms: finiteOr(s.stats.latency.percentile(50), -1),
    ackLatencyP99Ms: finiteOr(s.stats.latency.percentile(99), -1),
    lastPersistedAgeMs: s.lastPersistedAt < 0 ? -1 : Math.round(now - s.lastPersistedAt),
    errors: { ...s.stats.errors },
    heap: { bytes: memory.heapBytes, peak: memory.peakBytes, limit: memory.limitBytes, ...(memory.chunkBytes !== undefined ? { chunks: memory.chunkBytes, slots: memory.slotBytes ?? 0 } : {}) },
    computrons: board.computrons(),
    ...(s.cameraError !== undefined ? { cameraError: s.cameraError } : {}),
    ...(s.events ? { events: s.events } : {}),
  };
}
