import { writeFileAtomic } from '../../host/shared/writeFileAtomic.ts';
import type { BoardManifest } from '../../host/shared/loadBoardManifest.ts';
import type { CodecId } from '../../firmware/core/media/codecs.ts';
import type { AudioCodecId } from '../../firmware/core/audio/audioCodecs.ts';
import type { SpoolBudget } from '../../firmware/core/config/spoolBudget.ts';
import { CAMERA_FD_BASE } from '../../firmware/app/DeviceBundle.ts';

/** A camera's `audio` map (firmware/app/DeviceConfig.ts CameraAudio). */
export interface AudioInputConfig {
  readonly codec: AudioCodecId;
  readonly fd: number;
  readonly sampleRate?: number;
  readonly channels?: number;
}

export interface DeviceConfigInput {
  readonly board: BoardManifest;
  readonly streamName: string;
  readonly region: string;
  readonly endpoint: { readonly host: string; readonly port: number; readonly caFile: string };
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  readonly codec: CodecId;
  readonly fps?: { readonly num: number; readonly den: number };
  /** A camera (drops when the pool is full) or a file replay (waits). */
  readonly live: boolean;
  /**
   * The live camera's pipe replays the video file (camera.recorded: its cadence, a clean end). Default true: the
   * simulator's feeder replays a recording; false makes the device treat it as a camera (capture clock, cut tail).
   */
  readonly recorded?: boolean;
  /** The camera's file descriptor (default 0: the simulator feeds stdin). */
  readonly cameraFd?: number;
  /** The camera's audio (DeviceConfig camera.audio): codec, descriptor, format; absent = video only. */
  readonly audio?: AudioInputConfig;
  /**
   * Several cameras in the one device (DeviceConfig `cameras`): each streams to `<streamName>-<name>`; camera i reads
   * fd 3 + i unless `fd` says otherwise (bootBoard feeds `cameras` there). `codec`, `fps`, `live` above are the defaults.
   */
  readonly cameras?: readonly {
    readonly name: string;
    readonly codec?: CodecId;
    readonly fd?: number;
    readonly fps?: { readonly num: number; readonly den: number };
    readonly live?: boolean;
    readonly bitrateKbps?: number;
    readonly audio?: AudioInputConfig;
  }[];
  readonly createRetentionHours?: number;
  readonly statusIntervalMs?: number;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly pin?: { readonly startTimeMs: number; readonly segmentUid: string };
  /**
   * The crash-safe spool (docs/spool.md): its folder, and the budget (default: the board manifest's `spool`). Absent:
   * no spool (the simulator's default, so a run leaves no files behind).
   */
  readonly spool?: { readonly dir: string; readonly budget?: Partial<SpoolBudget> };
  /** Recording mode (firmware/app/RecordingConfig.ts, docs/events.md); absent = continuous. */
  readonly recording?: { readonly mode: 'continuous' | 'event'; readonly preRollMs?: number; readonly postMs?: number; readonly trigger?: string };
  /**
   * The control channel (firmware/app/DeviceConfig.ts `control`): the MQTT broker (iot:Data-ATS), the thing name
   * (client id and topic prefix), the device certificate and key, the state file; caFile defaults to the endpoint's.
   */
  readonly control?: {
    readonly host: string;
    readonly port: number;
    readonly thingName: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly stateFile: string;
    readonly caFile?: string;
    readonly keepAliveSeconds?: number;
  };
}

/** Writes a device configuration (firmware/app/DeviceConfig.ts, version 1) atomically; the camera is stdin unless `cameraFd` says otherwise. */
export function writeDeviceConfig(path: string, c: DeviceConfigInput): void {
  const config = {
    version: 1,
    board: {
      name: c.board.name,
      pool: c.board.pool,
      stream: c.board.stream,
      ...(c.board.memory.appHeapBudgetBytes !== undefined ? { appHeapBudgetBytes: c.board.memory.appHeapBudgetBytes } : {}),
      ...(c.board.memory.poolBudgetBytes !== undefined ? { poolBudgetBytes: c.board.memory.poolBudgetBytes } : {}),
      ...(c.board.control ? { control: c.board.control } : {}),
      ...(c.board.net ? { net: c.board.net } : {}),
      ...(c.spool ? { spool: { ...c.board.spool, ...c.spool.budget } } : {}),
    },
    stream: {
      name: c.streamName,
      region: c.region,
      ...(c.createRetentionHours !== undefined ? { createRetentionHours: c.createRetentionHours } : {}),
      ...(c.metadata ? { metadata: c.metadata } : {}),
    },
    endpoint: c.endpoint,
    credentials: c.credentials,
    ...(c.cameras
      ? {
          cameras: c.cameras.map((cam, i) => {
            const live = cam.live ?? c.live;
            const fps = cam.fps ?? c.fps;
            return {
              name: cam.name,
              fd: cam.fd ?? CAMERA_FD_BASE + i,
              codec: cam.codec ?? c.codec,
              live,
              ...(live && c.recorded !== false ? { recorded: true } : {}),
              ...(fps ? { fps } : {}),
              ...(cam.bitrateKbps !== undefined ? { bitrateKbps: cam.bitrateKbps } : {}),
              ...(cam.audio ? { audio: cam.audio } : {}),
            };
          }),
        }
      : {
          camera: {
            fd: c.cameraFd ?? 0,
            codec: c.codec,
            live: c.live,
            ...(c.live && c.recorded !== false ? { recorded: true } : {}),
            ...(c.fps ? { fps: c.fps } : {}),
            ...(c.audio ? { audio: c.audio } : {}),
          },
        }),
    statusIntervalMs: c.statusIntervalMs ?? 1000,
    ...(c.pin ? { pin: c.pin } : {}),
    ...(c.control ? { control: c.control } : {}),
    ...(c.recording ? { recording: c.recording } : {}),
    ...(c.spool ? { spoolDir: c.spool.dir } : {}),
  };
  writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n', 0o600); // it holds credentials
}
