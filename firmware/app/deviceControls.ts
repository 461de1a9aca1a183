import { combineEventReports } from '../core/events/combineEventReports.ts';
import type { EventOutcome } from '../core/events/EventGate.ts';
import type { EventRequest } from '../core/events/EventRequest.ts';
import type { CameraTelemetry, DeviceControls, SpoolTelemetry, TelemetrySnapshot } from '../core/control/ControlPorts.ts';
import type { Board } from '../io/Board.ts';
import type { CameraUploader, UploaderStatus } from './CameraUploader.ts';
import type { DeviceConfig } from './DeviceConfig.ts';
import type { SpoolStatus } from './cameraSpool.ts';

const finiteOr = (v: number, fallback: number) => (Number.isFinite(v) ? Math.round(v) : fallback);

/**
 * What the control channel may do to this device, over its cameras' pipelines: a command applies to every camera
 * of the device (start, stop, fragment length, tags, events). The camera adapters read an encoded stream from a
 * descriptor and cannot change its frame rate or bitrate, so those settings are unsupported. `restart` is the
 * app's: it flushes and exits with DEVICE_EXIT.RESTART.
 */
export function deviceControls(board: Board, config: DeviceConfig, uploaders: readonly CameraUploader[], restart: () => void): DeviceControls {
  const iot = uploaders[0]!.iot; // one client for all the cameras of a device (buildCameras)
  return {
    capabilities: Object.freeze({
      fps: false,
      bitrate: false,
      reloadCredentials: iot !== undefined,
      fragmentMs: Math.max(1000, config.board.stream.fragmentMs),
      maxFragmentMs: config.board.stream.maxFragmentMs,
    }),
    setStreaming: (on) => Promise.all(uploaders.map((u) => u.setStreaming(on))).then(() => undefined),
    setFragmentMs: (ms) => {
      for (const u of uploaders) u.setFragmentMs(ms);
    },
    // The tag goes on every camera's next fragment; the result names the first of them sent (a stalled camera
    // tags its next fragment whenever it comes, without holding the answer back).
    tagNextFragment: (name, value) => Promise.race(uploaders.map((u) => u.tagNextFragment(name, value))),
    event: (request) => eventOnAll(uploaders, request),
    snapshot: () => snapshot(board, uploaders, config.cameras !== undefined),
    ...(iot ? { reloadCredentials: () => iot.refresh() } : {}),
    restart,
  };
}

/**
 * An event (control `event`, a trigger line) on every camera: each uploads its own clip. The outcome is the first
 * camera's that took it; when none could (EVENT_NO_VIDEO before any frame), the first camera's refusal is thrown.
 */
export function eventOnAll(uploaders: readonly CameraUploader[], request: EventRequest): EventOutcome {
  let outcome: EventOutcome | undefined;
  let refusal: unknown;
  for (const u of uploaders) {
    try {
      const o = u.event(request);
      outcome ??= o;
    } catch (err) {
      refusal ??= err;
    }
  }
  if (outcome === undefined) throw refusal;
  return outcome;
}

/** Frames read from the camera: queued ones, plus those dropped before they could be queued. */
function framesRead(s: UploaderStatus, u: CameraUploader): number {
  const d = u.pool.drops;
  return s.framesIn + d.awaitKeyFrame + d.frameTooLarge + d.noParameterSets + d.stopped + d.truncated + d.corrupt + d.fragmentTooLong;
}

/** The spool part of telemetry (docs/spool.md) over `statuses` (sums; the oldest age and the first error); none without a spool. */
function spoolTelemetry(statuses: readonly UploaderStatus[]): { spool?: SpoolTelemetry } {
  const spools = statuses.map((s) => s.spool).filter((s) => s !== undefined);
  if (spools.length === 0) return {};
  const total = (f: (s: SpoolStatus) => number) => spools.reduce((n, s) => n + f(s), 0);
  const error = spools.find((s) => s.spoolError !== undefined)?.spoolError;
  return {
    spool: {
      bytes: total((s) => s.spoolBytes),
      fragments: total((s) => s.spoolFragments),
      oldestAgeMs: Math.max(...spools.map((s) => s.spoolOldestAgeMs)),
      drainBytesPerSecond: total((s) => s.spoolDrainBytesPerSecond),
      writtenBytesPerHour: total((s) => s.spoolWrittenBytesPerHour),
      fragmentsDropped: total((s) => s.spoolFragmentsDropped),
      ...(error !== undefined ? { error } : {}),
    },
  };
}

/**
 * Telemetry counters (docs/control-channel.md); read every N seconds, so the small objects are acceptable. The
 * device's counters are the sums over its cameras; a device with several adds `cameras`, each one's own.
 */
function snapshot(board: Board, uploaders: readonly CameraUploader[], several: boolean): TelemetrySnapshot {
  const memory = board.memory();
  const now = board.clock.monotonic();
  const statuses = uploaders.map((u) => u.status());
  const sum = (f: (s: UploaderStatus, u: CameraUploader) => number) => statuses.reduce((n, s, i) => n + f(s, uploaders[i]!), 0);
  const drops: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const s of statuses) {
    for (const [k, v] of Object.entries(s.drops)) drops[k] = (drops[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.stats.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const age = (s: UploaderStatus) => (s.lastPersistedAt < 0 ? -1 : Math.round(now - s.lastPersistedAt));
  // The device's last PERSISTED is its stalest camera's: one camera that stopped persisting turns health yellow/red.
  const ages = statuses.map(age);
  const lastPersistedAgeMs = ages.includes(-1) ? -1 : Math.max(...ages);
  const cameraError = statuses.find((s) => s.cameraError !== undefined)?.cameraError;
  const first = statuses[0]!;
  const events = combineEventReports(statuses.map((s) => s.events));
  const cameras: Record<string, CameraTelemetry> = {};
  if (several) {
    statuses.forEach((s, i) => {
      const u = uploaders[i]!;
      cameras[u.name] = {
        stream: u.streamName,
        framesIn: framesRead(s, u),
        framesOut: s.stats.framesSent,
        fragmentsSent: s.stats.fragmentsSent,
        fragmentsPersisted: s.stats.fragmentsPersisted,
        poolSlotsInUse: s.poolSlotsInUse,
        poolSlots: s.poolSlots,
        lastPersistedAgeMs: age(s),
        connected: s.connected,
        ...(s.cameraError !== undefined ? { cameraError: s.cameraError } : {}),
        ...(s.events ? { events: s.events } : {}),
        ...spoolTelemetry([s]),
      };
    });
  }
  return {
    framesIn: sum(framesRead),
    framesOut: sum((s) => s.stats.framesSent),
    fragmentsSent: sum((s) => s.stats.fragmentsSent),
    fragmentsPersisted: sum((s) => s.stats.fragmentsPersisted),
    drops,
    poolSlotsInUse: sum((s) => s.poolSlotsInUse),
    poolSlots: sum((s) => s.poolSlots),
    bytesBehind: sum((_, u) => u.bytesBehind()),
    ackLatencyP50Ms: finiteOr(first.stats.latency.percentile(50), -1),
    ackLatencyP99Ms: finiteOr(Math.max(...statuses.map((s) => finiteOr(s.stats.latency.percentile(99), -1))), -1),
    lastPersistedAgeMs: several ? lastPersistedAgeMs : age(first),
    errors,
    heap: {
      bytes: memory.heapBytes,
      peak: memory.peakBytes,
      limit: memory.limitBytes,
      ...(memory.chunkBytes !== undefined ? { chunks: memory.chunkBytes, slots: memory.slotBytes ?? 0 } : {}),
    },
    computrons: board.computrons(),
    ...(cameraError !== undefined ? { cameraError } : {}),
    ...(several ? { cameras } : {}),
    ...(events ? { events } : {}),
    ...spoolTelemetry(statuses),
  };
}
