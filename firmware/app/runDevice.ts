import { playbackWarnings } from '../core/media/playbackWarnings.ts';
import type { ControlChannel, ControlEvent } from '../core/control/ControlChannel.ts';
import { errorSpec, FieldcamError, isFieldcamError } from '../core/errors.ts';
import type { EventGateReport } from '../core/events/EventGate.ts';
import type { IotCredentialsEvent } from '../core/iot/IotCredentialsClient.ts';
import type { SessionEvent } from '../core/kvs/PutMediaSession.ts';
import type { Board } from '../io/Board.ts';
import type { CameraUploader, UploaderStatus } from './CameraUploader.ts';
import { buildCameras, type DeviceCameras } from './buildCameras.ts';
import { cameraConfigs } from './cameraConfigs.ts';
import { eventOnAll } from './deviceControls.ts';
import { loadDeviceBundle, type BundleSource } from './DeviceBundle.ts';
import { parseDeviceConfig, type DeviceConfig } from './DeviceConfig.ts';
import { LocalTrigger } from './LocalTrigger.ts';
import { startControl } from './startControl.ts';

/** The app's exit codes (the C host's own are 1-8, firmware/runtime/runtime.h). Stable for the simulator and systemd. */
export const DEVICE_EXIT = Object.freeze({
  OK: 0,
  /** The configuration is missing, unreadable or invalid: fix it; restarting will not help. */
  CONFIG: 9,
  /** The camera could not be opened or read, or what it sends is not the configured codec (errors of area input, h264, mjpeg). */
  CAMERA: 10,
  /** Uploading failed for good (refused credentials, deleted stream) or the last fragment was never PERSISTED. */
  UPLOAD: 11,
  /** A control channel `restart` command: the last fragment was flushed; the service manager starts the device again. */
  RESTART: 12,
} as const);

/**
 * Lines on standard output, one JSON object each, so the simulator and log collectors parse them:
 * boot, status (every statusIntervalMs), event (connection changes, retries, drops, failures), summary, error.
 */
function line(board: Board, record: Record<string, unknown>): void {
  board.print(JSON.stringify(record));
}

const finiteOr = (v: number, fallback: number) => (Number.isFinite(v) ? Math.round(v) : fallback);

function captureToSocket(s: UploaderStatus): Record<string, number> {
  const w = s.captureToSocket;
  // A tenth of a millisecond: natively a frame reaches the socket in about one.
  const tenth = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : -1);
  const out = {
    captureToSocketFrames: w.retained,
    captureToSocketP50Ms: tenth(w.percentile(50)),
    captureToSocketP99Ms: tenth(w.percentile(99)),
    captureToSocketMaxMs: tenth(w.percentile(100)),
  };
  w.clear();
  return out;
}

/** Recording mode "event" (docs/events.md): flat fields on the status and summary lines. */
function eventFields(e: EventGateReport): Record<string, number> {
  return {
    events: e.events,
    clips: e.clips,
    fragmentsAdmitted: e.fragmentsAdmitted,
    preRollMs: e.preRollMs,
    preRollFillMs: e.preRollFillMs,
    openClip: e.openClip,
    postRemainingMs: e.postRemainingMs,
  };
}

function statusRecord(board: Board, device: string, s: UploaderStatus): Record<string, unknown> {
  const memory = board.memory();
  const tls = board.tls?.();
  const now = board.clock.monotonic();
  return {
    device,
    framesIn: s.framesIn,
    fragmentsIn: s.fragmentsIn,
    framesDropped: s.framesDropped,
    drops: { ...s.drops },
    ...(s.cameraError !== undefined ? { cameraError: s.cameraError } : {}),
    fragmentsSent: s.stats.fragmentsSent,
    fragmentsPersisted: s.stats.fragmentsPersisted,
    fragmentsReplayed: s.stats.fragmentsReplayed,
    fragmentsReceivedUnconfirmed: s.stats.fragmentsReceivedUnconfirmed,
    fragmentsResentWhole: s.stats.fragmentsResentWhole,
    bytesSent: s.stats.bytesSent,
    connections: s.stats.connections,
    connected: s.connected,
    poolSlotsInUse: s.poolSlotsInUse,
    poolSlots: s.poolSlots,
    lastPersistedAgeMs: s.lastPersistedAt < 0 ? -1 : Math.round(now - s.lastPersistedAt),
    ackLatencyP50Ms: finiteOr(s.stats.latency.percentile(50), -1),
    ackLatencyP99Ms: finiteOr(s.stats.latency.percentile(99), -1),
    // Capture → socket over the frames first sent since the previous line (a live camera), then the window restarts.
    ...captureToSocket(s),
    heapBytes: memory.heapBytes,
    peakHeapBytes: memory.peakBytes,
    baselineHeapBytes: memory.baselineBytes ?? 0,
    ...(memory.chunkBytes !== undefined
      ? {
          heapChunkBytes: memory.chunkBytes,
          peakHeapChunkBytes: memory.peakChunkBytes ?? 0,
          heapSlotBytes: memory.slotBytes ?? 0,
          peakHeapSlotBytes: memory.peakSlotBytes ?? 0,
        }
      : {}),
    ...(tls ? { tlsRecords: tls.records, tlsBytes: tls.bytes, tlsHandshakes: tls.handshakes } : {}),
    computrons: board.computrons(),
    ...(s.events ? eventFields(s.events) : {}),
    ...(s.spool ?? {}),
    ...(s.audio ? { audio: { ...s.audio, drops: { ...s.audio.drops }, packetsSent: s.stats.audioPacketsSent } } : {}),
  };
}

function eventRecord(e: SessionEvent): Record<string, unknown> | undefined {
  switch (e.type) {
    case 'ack':
      return e.ack.eventType === 'ERROR' ? { type: 'event', event: 'ack-error', errorId: e.ack.errorId } : undefined;
    case 'retry':
    case 'dropped':
    case 'failed':
      return { type: 'event', event: e.type, code: e.code, message: e.message };
    default:
      return { type: 'event', event: e.type };
  }
}

/** Credentials events: when fresh ones arrived (never the keys), retries and the refusal that ends the run. */
function credentialsRecord(e: IotCredentialsEvent): Record<string, unknown> {
  switch (e.type) {
    case 'credentials':
      return { type: 'event', event: 'credentials', expiration: new Date(e.expirationMs).toISOString(), refreshInMs: e.refreshInMs };
    case 'retry':
      return { type: 'event', event: 'credentials-retry', code: e.code, message: e.message, delayMs: e.delayMs };
    case 'failed':
      return { type: 'event', event: 'credentials-failed', code: e.code, message: e.message };
  }
}

/** Control channel events: `{ type: 'control', event: 'connected' | 'command' | 'result' | …, … }`. */
function controlRecord(e: ControlEvent): Record<string, unknown> {
  const { type, ...rest } = e;
  return { type: 'control', event: type, ...rest };
}

/**
 * The control channel of a configured device, built before the cameras are read: it applies its state file now
 * (before the broker is reached). It never stops streaming: if it cannot even be built, that is a line.
 */
function attachControl(
  board: Board,
  config: DeviceConfig,
  uploaders: readonly CameraUploader[],
): { channel: ControlChannel | undefined; restartRequested: boolean } {
  const attached: { channel: ControlChannel | undefined; restartRequested: boolean } = { channel: undefined, restartRequested: false };
  try {
    attached.channel = startControl(
      board,
      config,
      config.control!,
      uploaders,
      () => {
        attached.restartRequested = true;
        for (const u of uploaders) u.stop();
      },
      (e) => line(board, controlRecord(e)),
    );
  } catch (err) {
    const e = isFieldcamError(err) ? err : new FieldcamError('CONFIG_INVALID', `control channel: ${(err as Error).message}`);
    line(board, { type: 'control', event: 'error', code: e.code, message: e.message });
  }
  return attached;
}

/**
 * A crash (power cut, kill -9) in the middle of an atomic write leaves its temporary file beside the target. At boot,
 * before anything writes again, those of our own files are removed: only `<file>.tmp-<pid>` beside the files this
 * device writes atomically (the control state file), never anything else in that folder.
 */
function removeStaleTemps(board: Board, config: DeviceConfig): void {
  const path = config.control?.stateFile;
  if (path === undefined) return;
  try {
    const removed = board.removeStaleTemps(path);
    if (removed > 0) line(board, { type: 'event', event: 'stale-temps-removed', file: path, count: removed });
  } catch (err) {
    line(board, { type: 'event', event: 'stale-temps-failed', file: path, message: (err as Error).message });
  }
}

function errorLine(board: Board, err: FieldcamError): void {
  line(board, { type: 'error', code: err.code, message: err.message, remedy: err.remedy });
}

/**
 * The device's main job: load the configuration — a JSON file (simulator, development: static keys) or a
 * device bundle with the image's board manifest (IoT credentials) — stream the camera to KVS until the camera
 * ends or a stop signal arrives, report status while doing it, and return the exit code. Board-independent:
 * the XS entry (firmware/app/main.ts) and Node tests call it with their board.
 */
export async function runDevice(board: Board, source: string | BundleSource): Promise<number> {
  let config: DeviceConfig;
  try {
    config = typeof source === 'string' ? parseDeviceConfig(board.readText(source)) : loadDeviceBundle(board, source);
  } catch (err) {
    errorLine(board, isFieldcamError(err) ? err : new FieldcamError('CONFIG_INVALID', `cannot read the configuration: ${(err as Error).message}`));
    return DEVICE_EXIT.CONFIG;
  }
  // The app's budget starts here: everything after this line (pool records, scratch, sessions) is the app's.
  if (config.board.appHeapBudgetBytes !== undefined) board.limitAppHeap?.(config.board.appHeapBudgetBytes);
  // Several cameras: every line about one of them names it (`camera`); one camera keeps the lines it always had.
  const several = config.cameras !== undefined;
  const named = (camera: DeviceConfig): Record<string, unknown> => (several ? { camera: camera.cameraName, stream: camera.stream.name } : {});
  let cameras: DeviceCameras;
  try {
    cameras = buildCameras(
      board,
      config,
      (camera, e) => {
        const record = eventRecord(e);
        if (record) line(board, { ...record, ...named(camera) });
      },
      (e) => line(board, credentialsRecord(e)),
    );
  } catch (err) {
    errorLine(board, isFieldcamError(err) ? err : new FieldcamError('CONFIG_INVALID', (err as Error).message));
    return DEVICE_EXIT.CONFIG;
  }
  const { uploaders, plan, heap } = cameras;
  const configs = cameraConfigs(config);
  const device = config.stream.name;
  // Combinations KVS stores but its console/HLS cannot play (user-needs row 20), from the codec tables, once each.
  const warnings = [...new Set(configs.flatMap((c) => playbackWarnings(c.camera.codec, c.camera.audio ? [c.camera.audio.codec] : [])))];
  line(board, {
    type: 'boot',
    device,
    board: config.board.name,
    runtime: board.runtime,
    recording: config.recording?.mode ?? 'continuous',
    poolSlots: uploaders.reduce((n, u) => n + u.pool.sizing.slotCount, 0),
    heapBytes: board.memory().heapBytes,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(plan
      ? {
          poolBytes: plan.totalBytes,
          poolBudgetBytes: plan.budgetBytes,
          ...(heap ? { heapAtCheckBytes: heap.heldBytes, heapEstimateBytes: heap.estimateBytes, heapLimitBytes: heap.limitBytes } : {}),
          cameras: configs.map((c, i) => ({
            camera: c.cameraName,
            stream: c.stream.name,
            codec: c.camera.codec,
            fd: c.camera.fd,
            poolSlots: uploaders[i]!.pool.sizing.slotCount,
            poolBytes: plan.pools[i]!.bytes,
          })),
        }
      : {}),
  });
  board.onStop(() => {
    for (const u of uploaders) u.stop();
  });
  removeStaleTemps(board, config);
  const control = config.control ? attachControl(board, config, uploaders) : undefined;
  let statusTimer: ReturnType<Board['timers']['set']> | undefined;
  const tick = () => {
    uploaders.forEach((u, i) => {
      line(board, { type: 'status', ...statusRecord(board, configs[i]!.stream.name, u.status()), ...named(configs[i]!) });
    });
    statusTimer = board.timers.set(config.statusIntervalMs, tick);
  };
  if (config.statusIntervalMs > 0) statusTimer = board.timers.set(config.statusIntervalMs, tick);
  cameras.iot?.start();
  // A camera that fails, or a live camera whose capture ended, ends the device: the others flush and stop, and the
  // service manager restarts it whole (captures included). A recording that ends (the simulator's --once) leaves
  // the others running to their own end.
  const runs = uploaders.map((u, i) =>
    u.run().then((result) => {
      const camera = configs[i]!.camera;
      if (result.error || (camera.live && camera.recorded !== true)) for (const other of uploaders) other.stop();
      return result;
    }),
  );
  control?.channel?.start();
  const recording = config.recording;
  const trigger =
    recording?.mode === 'event' && recording.trigger !== undefined
      ? new LocalTrigger({
          board,
          path: recording.trigger,
          maxPreMs: recording.preRollMs,
          onEvent: (request) => eventOnAll(uploaders, request),
          report: (record) => line(board, record),
        })
      : undefined;
  trigger?.start();
  const results = await Promise.all(runs);
  cameras.iot?.close();
  trigger?.close();
  control?.channel?.close(control.restartRequested ? 'restart' : 'shutdown');
  if (statusTimer !== undefined) board.timers.clear(statusTimer);
  results.forEach((result, i) => {
    line(board, {
      type: 'summary',
      ...statusRecord(board, configs[i]!.stream.name, result.status),
      ...named(configs[i]!),
      ...(result.error ? { error: result.error.code } : {}),
    });
  });
  const errors = results.filter((r) => r.error !== undefined).map((r) => r.error!);
  for (const error of errors) errorLine(board, error);
  if (control?.restartRequested) return DEVICE_EXIT.RESTART;
  const error = errors[0];
  if (!error) return DEVICE_EXIT.OK;
  const code = exitCodeFor(error);
  // The service manager's journal shows stderr next to the exit status: say which code and what to do.
  board.printError(`fieldcam: exit ${code}: ${error.code}: ${error.message} (remedy: ${error.remedy})`);
  return code;
}

/** DEVICE_EXIT for the error that ended a run, from its area in the error table (never from its message). */
export function exitCodeFor(error: FieldcamError): number {
  const area = errorSpec(error.code).area;
  if (area === 'input' || area === 'h264' || area === 'h265' || area === 'mjpeg') return DEVICE_EXIT.CAMERA;
  if (area === 'config') return DEVICE_EXIT.CONFIG;
  return DEVICE_EXIT.UPLOAD;
}
