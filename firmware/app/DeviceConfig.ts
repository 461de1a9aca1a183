import type { PoolBudget } from '../core/config/derivePoolSizing.ts';
import { parseSpoolBudget, type SpoolBudget } from '../core/config/spoolBudget.ts';
import { FieldcamError } from '../core/errors.ts';
import { CAMERA_NAME, cameraStreamName, MAX_CAMERAS, THING_NAME } from '../core/iot/iotNames.ts';
import type { FrameRate } from '../core/media/FrameInput.ts';
import { NET_DEADLINE_DEFAULTS, type NetDeadlines } from '../core/net/PhaseDeadline.ts';
import { codecChoices, isCodecId, type CodecId } from '../core/media/codecs.ts';
import {
  BOARD_KEYS,
  type ControlBoard,
  parseAppHeapBudget,
  parseBoardStream,
  parseControlBoard,
  parseNetBoard,
  parsePoolBudget,
  parsePoolBudgetBytes,
} from './BoardDocument.ts';
import { AUDIO_CODEC_IDS, isAudioCodecId, type AudioCodecId } from '../core/audio/audioCodecs.ts';
import { AAC_RATES as AAC_SAMPLE_RATES } from '../core/audio/AdtsHeader.ts';
import { EVENT_LIMITS } from '../core/events/eventLimits.ts';
import { maxPreRollMs, RECORDING_KEYS, type RecordingConfig } from './RecordingConfig.ts';

/** What the device needs from its board manifest (manifests/boards/*.json). */
export interface DeviceBoard {
  readonly name: string;
  readonly pool: PoolBudget;
  readonly stream: { readonly fragmentMs: number; readonly maxFragmentMs: number };
  /** What the app may allocate after boot (the ESP32 profile's heap budget); absent = only the runtime's limit. */
  readonly appHeapBudgetBytes?: number;
  /** The control channel's fixed buffers on this board (manifest `control`); absent = CONTROL_BOARD_DEFAULTS. */
  readonly control?: ControlBoard;
  /** Per-phase connection deadlines (manifest `net`, each key optional); absent = NET_DEADLINE_DEFAULTS. */
  readonly net?: NetDeadlines;
  /**
   * The most the frame pools of all the device's cameras may take together (manifest `memory.poolBudgetBytes`);
   * absent = one camera's pool at `pool` (a board that states nothing runs one camera). Checked at boot (poolBudget.ts).
   */
  readonly poolBudgetBytes?: number;
  /** The crash-safe spool's budget (manifest `spool`, docs/spool.md); absent or maxBytes 0 = RAM pool only. */
  readonly spool?: SpoolBudget;
}

/**
 * The device's configuration, version 1: where to stream, with which credentials, from which camera. Written by
 * the host (`fieldcam sim`, `fieldcam build`), read at boot and validated here; every problem names the field.
 * Static credentials are for the simulator and development only (design.md §4); IoT credentials replace them.
 */
export interface DeviceConfig {
  readonly version: 1;
  readonly board: DeviceBoard;
  readonly stream: {
    readonly name: string;
    readonly region: string;
    /** Create the stream with this retention when it does not exist; absent = the stream must exist. */
    readonly createRetentionHours?: number;
    readonly metadata?: Readonly<Record<string, string>>;
  };
  /** The KVS control-plane endpoint (HTTPS); the data endpoint comes from GetDataEndpoint. */
  readonly endpoint: { readonly host: string; readonly port: number; readonly caFile: string };
  /** Static keys (simulator, development) or the AWS IoT credentials provider (a device bundle). */
  readonly credentials: StaticCredentials | { readonly iot: IotCredentialSettings };
  readonly camera: {
    /** File descriptor the encoded stream arrives on (0 = stdin, the simulator's feeder). */
    readonly fd: number;
    readonly codec: CodecId;
    readonly fps?: FrameRate;
    /** A live camera cannot wait: a full pool drops the oldest un-sent fragment. Otherwise reading pauses. */
    readonly live: boolean;
    /**
     * The camera pipe replays a recording (the simulator's feeder): frames keep the file's cadence and its end is a
     * clean end (the last frame is whole). Absent/false: a camera, stamped from the capture clock, its tail cut.
     */
    readonly recorded?: boolean;
    /** The camera's microphone, a second track (docs/device-bundle.md "Audio"); absent = video only. */
    readonly audio?: CameraAudio;
  };
  /** Status line period (the simulator's dashboard reads them); 0 = none. */
  readonly statusIntervalMs: number;
  /** The control channel (docs/control-channel.md); absent = none. */
  readonly control?: ControlConfig;
  /** Recording mode (docs/events.md); absent = continuous. */
  readonly recording?: RecordingConfig;
  /**
   * The spool's folder (docs/spool.md): a bundle's is `spool` beside the bundle unless its source names another; a
   * JSON configuration has a spool only when it names one (and its board a budget). Several cameras: one
   * sub-folder each.
   */
  readonly spoolDir?: string;
  /** Pinned values for reproducible uploads (tests): first frame's timecode and the SegmentUID (32 hex digits). */
  readonly pin?: { readonly startTimeMs: number; readonly segmentUid: string };
  /**
   * Several cameras in this one device (docs/device-bundle.md `cameras`), in order; absent = one camera (`camera`,
   * streaming to `stream.name`). When present, `camera` is the first one's and `stream.name` the device's name
   * (the thing): cameraConfigs() gives each camera its own configuration.
   */
  readonly cameras?: readonly CameraSpec[];
  /** The camera's name inside its device (CAMERA_NAME), in the per-camera configurations cameraConfigs() makes. */
  readonly cameraName?: string;
}

/** One camera of a device with several (DeviceConfig `cameras`). */
export interface CameraSpec {
  /** CAMERA_NAME, unique in the device. */
  readonly name: string;
  /** cameraStreamName(device, name): `<thing>-<camera>`. */
  readonly streamName: string;
  readonly camera: DeviceConfig['camera'];
  /** The board's pool budget with this camera's bitrate and frame rate: its own pool is sized from it. */
  readonly pool: PoolBudget;
}

/**
 * A camera's audio input: a second byte stream on its own descriptor (the run script's ffmpeg writes AAC in ADTS or
 * raw G.711 into a FIFO the runtime gets as `fd`), carried as Matroska track 2 (KVS: `video/h264,audio/aac`). The
 * format is the track's, fixed at boot: an AAC stream that differs is refused packet by packet (AUDIO_FORMAT_MISMATCH).
 */
export interface CameraAudio {
  readonly codec: AudioCodecId;
  /** Required: with `cameras`, fds 3… are the cameras' (CAMERA_FD_BASE + i), so the audio's is always said. */
  readonly fd: number;
  /** Hz: AAC one of the ADTS rates (default 48000); G.711 a multiple of 50 (default 8000). */
  readonly sampleRate: number;
  /** 1 or 2 (default 1). */
  readonly channels: number;
}

const CAMERA_AUDIO_KEYS = ['codec', 'fd', 'sampleRate', 'channels'];

/** A camera map's `audio` (JSON config and device.cbor alike); `field` names it in errors. Throws CONFIG_INVALID. */
export function parseCameraAudio(o: Json, source: string, field: string): CameraAudio {
  onlyKeys(o, source, field, CAMERA_AUDIO_KEYS);
  if (!isAudioCodecId(o.codec)) fail(`${field}.codec`, AUDIO_CODEC_IDS.map((id) => `"${id}"`).join(', '));
  const codec = o.codec;
  const fd = integerIn(o, field, 'fd', 0, 65_535);
  const sampleRate = o.sampleRate === undefined ? (codec === 'aac' ? 48_000 : 8000) : integerIn(o, field, 'sampleRate', 8000, 96_000);
  if (codec === 'aac' && !AAC_SAMPLE_RATES.includes(sampleRate)) fail(`${field}.sampleRate`, `an AAC rate (${AAC_SAMPLE_RATES.join(', ')})`);
  if (codec !== 'aac' && sampleRate % 50 !== 0) fail(`${field}.sampleRate`, 'a multiple of 50 Hz (20 ms packets)');
  const channels = o.channels === undefined ? 1 : integerIn(o, field, 'channels', 1, 2);
  return Object.freeze({ codec, fd, sampleRate, channels });
}

/** MQTT over TLS to the iot:Data-ATS endpoint with the device certificate; client id and topics = thing name. */
export interface ControlConfig {
  readonly host: string;
  readonly port: number;
  readonly thingName: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Where desired settings and the command log survive restarts (written atomically). */
  readonly stateFile: string;
  /** MQTT keep-alive (§3.1.2.10); AWS IoT accepts 30-1200 s. */
  readonly keepAliveSeconds: number;
}

export const CONTROL_KEEP_ALIVE_DEFAULT = 60;

/** The `control` object of a JSON configuration; `caFile` defaults to the KVS endpoint's CA bundle. */
export function parseControlConfig(o: Json, field: string, defaultCaFile: string): ControlConfig {
  return Object.freeze({
    host: text(o, field, 'host', /^[a-zA-Z0-9.-]{1,253}$/),
    port: integerIn(o, field, 'port', 1, 65_535),
    thingName: text(o, field, 'thingName', THING_NAME),
    caFile: o.caFile === undefined ? defaultCaFile : text(o, field, 'caFile'),
    certFile: text(o, field, 'certFile'),
    keyFile: text(o, field, 'keyFile'),
    stateFile: text(o, field, 'stateFile'),
    keepAliveSeconds: o.keepAliveSeconds === undefined ? CONTROL_KEEP_ALIVE_DEFAULT : integerIn(o, field, 'keepAliveSeconds', 5, 1200),
  });
}

function integerIn(o: Json, field: string, key: string, min: number, max: number): number {
  const v = number(o, field, key, min, max);
  return Number.isInteger(v) ? v : fail(`${field}.${key}`, 'an integer');
}

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where and as whom the device asks the AWS IoT credentials provider (device bundle, docs/device-bundle.md). */
export interface IotCredentialSettings {
  /** `endpoints.credentialProvider` (iot:CredentialProvider); its CA is `endpoint.caFile` (ca.pem serves every AWS endpoint). */
  readonly host: string;
  readonly port: number;
  readonly roleAlias: string;
  readonly thingName: string;
  /** The device certificate and private key (PEM files in the bundle). */
  readonly certFile: string;
  readonly keyFile: string;
}

type Json = Record<string, unknown>;

export function fail(field: string, want: string): never {
  throw new FieldcamError('CONFIG_INVALID', `config ${field} must be ${want}`);
}
export function object(v: unknown, field: string): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : fail(field, 'an object');
}
/**
 * The one unknown-key check of both configuration formats (JSON config and device.cbor): a misspelt key is refused
 * by name, never ignored (a silently ignored `fragmentMS` would stream with the default). `source` names the file
 * ("config", "device.cbor"), `field` the object ('' = top level).
 */
export function onlyKeys(o: Json, source: string, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      throw new FieldcamError('CONFIG_INVALID', `${source}: unknown key ${field === '' ? '' : `${field}.`}${key} (allowed: ${allowed.join(', ')})`);
    }
  }
}

// JSON configuration version 1: the keys each object may hold.
const CONFIG_KEYS = Object.freeze({
  top: ['version', 'board', 'stream', 'endpoint', 'credentials', 'camera', 'cameras', 'statusIntervalMs', 'control', 'recording', 'spoolDir', 'pin'],
  board: ['name', 'pool', 'stream', 'appHeapBudgetBytes', 'poolBudgetBytes', 'control', 'net', 'spool'],
  pool: BOARD_KEYS.pool,
  boardStream: BOARD_KEYS.stream,
  boardControl: BOARD_KEYS.control,
  boardNet: BOARD_KEYS.net,
  stream: ['name', 'region', 'createRetentionHours', 'metadata'],
  endpoint: ['host', 'port', 'caFile'],
  credentials: ['accessKeyId', 'secretAccessKey', 'sessionToken'],
  camera: ['fd', 'codec', 'fps', 'live', 'recorded', 'audio'],
  cameras: ['name', 'fd', 'codec', 'fps', 'live', 'recorded', 'bitrateKbps', 'audio'],
  fps: ['num', 'den'],
  pin: ['startTimeMs', 'segmentUid'],
  control: ['host', 'port', 'thingName', 'caFile', 'certFile', 'keyFile', 'stateFile', 'keepAliveSeconds'],
} as const);

export function text(o: Json, field: string, key: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) fail(`${field}.${key}`, 'a non-empty string (at most 4096 characters)');
  if (pattern && !pattern.test(v)) fail(`${field}.${key}`, `a string matching ${String(pattern)}`);
  return v;
}
export function number(o: Json, field: string, key: string, min: number, max: number): number {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : fail(`${field}.${key}`, `a number in [${min}, ${max}]`);
}

// KVS stream names: 1-256 of [a-zA-Z0-9_.-] (kvs-reference.md, CreateStream).
export const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/;
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** Parses and validates the JSON text of a device configuration. Throws FieldcamError CONFIG_INVALID. */
export function parseDeviceConfig(json: string): DeviceConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `config is not valid JSON: ${(err as Error).message}`);
  }
  const c = object(raw, '(top level)');
  onlyKeys(c, 'config', '', CONFIG_KEYS.top);
  if (c.version !== 1) fail('version', '1 (this firmware reads configuration version 1)');
  const board = object(c.board, 'board');
  onlyKeys(board, 'config', 'board', CONFIG_KEYS.board);
  onlyKeys(object(board.pool, 'board.pool'), 'config', 'board.pool', CONFIG_KEYS.pool);
  onlyKeys(object(board.stream, 'board.stream'), 'config', 'board.stream', CONFIG_KEYS.boardStream);
  if (board.control !== undefined) onlyKeys(object(board.control, 'board.control'), 'config', 'board.control', CONFIG_KEYS.boardControl);
  if (board.net !== undefined) onlyKeys(object(board.net, 'board.net'), 'config', 'board.net', CONFIG_KEYS.boardNet);
  const stream = object(c.stream, 'stream');
  onlyKeys(stream, 'config', 'stream', CONFIG_KEYS.stream);
  const endpoint = object(c.endpoint, 'endpoint');
  onlyKeys(endpoint, 'config', 'endpoint', CONFIG_KEYS.endpoint);
  const credentials = object(c.credentials, 'credentials');
  onlyKeys(credentials, 'config', 'credentials', CONFIG_KEYS.credentials);
  if (c.control !== undefined) onlyKeys(object(c.control, 'control'), 'config', 'control', CONFIG_KEYS.control);
  const deviceBoard = parseDeviceBoard(board, 'board', board.appHeapBudgetBytes, board.poolBudgetBytes);
  const streamName = text(stream, 'stream', 'name', STREAM_NAME);
  // Several cameras: each streams to `<stream.name>-<camera>` and `camera` must be absent (one way to say it).
  const cameras =
    c.cameras === undefined
      ? undefined
      : parseCameraList(c.cameras, 'config', streamName, deviceBoard, (o, field) => {
          onlyKeys(o, 'config', field, CONFIG_KEYS.cameras);
          return parseJsonCamera(o, field);
        });
  if (cameras && c.camera !== undefined) {
    throw new FieldcamError('CONFIG_INVALID', 'config: camera and cameras exclude each other (give every camera in cameras)');
  }
  let camera: DeviceConfig['camera'];
  if (cameras) camera = cameras[0]!.camera;
  else {
    const o = object(c.camera, 'camera');
    onlyKeys(o, 'config', 'camera', CONFIG_KEYS.camera);
    camera = parseJsonCamera(o, 'camera');
  }
  let metadata: Record<string, string> | undefined;
  if (stream.metadata !== undefined) {
    const m = object(stream.metadata, 'stream.metadata');
    metadata = {};
    for (const key of Object.keys(m)) metadata[key] = text(m, 'stream.metadata', key);
  }
  let pin: DeviceConfig['pin'];
  if (c.pin !== undefined) {
    const p = object(c.pin, 'pin');
    onlyKeys(p, 'config', 'pin', CONFIG_KEYS.pin);
    pin = Object.freeze({ startTimeMs: number(p, 'pin', 'startTimeMs', 0, 8.64e15), segmentUid: text(p, 'pin', 'segmentUid', /^[0-9a-f]{32}$/) });
  }
  const sessionToken = credentials.sessionToken === undefined ? undefined : text(credentials, 'credentials', 'sessionToken');
  return Object.freeze({
    version: 1,
    board: deviceBoard,
    stream: Object.freeze({
      name: streamName,
      region: text(stream, 'stream', 'region', REGION),
      ...(stream.createRetentionHours !== undefined ? { createRetentionHours: number(stream, 'stream', 'createRetentionHours', 0, 87_600) } : {}),
      ...(metadata ? { metadata: Object.freeze(metadata) } : {}),
    }),
    endpoint: Object.freeze({
      host: text(endpoint, 'endpoint', 'host'),
      port: number(endpoint, 'endpoint', 'port', 1, 65_535),
      caFile: text(endpoint, 'endpoint', 'caFile'),
    }),
    credentials: Object.freeze({
      accessKeyId: text(credentials, 'credentials', 'accessKeyId', /^[A-Z0-9]{1,128}$/),
      secretAccessKey: text(credentials, 'credentials', 'secretAccessKey'),
      ...(sessionToken ? { sessionToken } : {}),
    }),
    camera,
    ...(cameras ? { cameras } : {}),
    statusIntervalMs: c.statusIntervalMs === undefined ? 1000 : number(c, '(top level)', 'statusIntervalMs', 0, 3_600_000),
    ...(c.control !== undefined ? { control: parseControlConfig(object(c.control, 'control'), 'control', text(endpoint, 'endpoint', 'caFile')) } : {}),
    ...(c.recording !== undefined
      ? { recording: parseRecording(object(c.recording, 'recording'), 'config', maxPreRollMs(deviceBoard), deviceBoard.name) }
      : {}),
    ...(c.spoolDir !== undefined ? { spoolDir: text(c, '(top level)', 'spoolDir') } : {}),
    ...(pin ? { pin } : {}),
  });
}

/** A camera map of the JSON configuration (`camera`, or one of `cameras`): its fd, codec, frame rate, live or not. */
function parseJsonCamera(camera: Json, field: string): DeviceConfig['camera'] {
  if (!isCodecId(camera.codec)) fail(`${field}.codec`, codecChoices('"'));
  if (typeof camera.live !== 'boolean') fail(`${field}.live`, 'true or false');
  if (camera.recorded !== undefined && typeof camera.recorded !== 'boolean') fail(`${field}.recorded`, 'true or false');
  let fps: FrameRate | undefined;
  if (camera.fps !== undefined) {
    const f = object(camera.fps, `${field}.fps`);
    onlyKeys(f, 'config', `${field}.fps`, CONFIG_KEYS.fps);
    fps = Object.freeze({ num: number(f, `${field}.fps`, 'num', 1, 1_000_000), den: number(f, `${field}.fps`, 'den', 1, 1_000_000) });
  }
  return Object.freeze({
    fd: integerIn(camera, field, 'fd', 0, 65_535),
    codec: camera.codec,
    live: camera.live,
    ...(camera.recorded === true ? { recorded: true } : {}),
    ...(fps ? { fps } : {}),
    ...(camera.audio !== undefined ? { audio: parseCameraAudio(object(camera.audio, `${field}.audio`), 'config', `${field}.audio`) } : {}),
  });
}

/**
 * The `cameras` list of either configuration format (docs/device-bundle.md): 1..MAX_CAMERAS maps, each with a
 * unique `name` (CAMERA_NAME) and an optional `bitrateKbps` (its pool; default the board's), the rest read by
 * `camera` (the format's own camera map). Each streams to cameraStreamName(device, name), which must be a KVS
 * stream name. Throws FieldcamError CONFIG_INVALID naming the key (`cameras[1].name`).
 */
export function parseCameraList(
  list: unknown,
  source: string,
  device: string,
  board: DeviceBoard,
  camera: (o: Json, field: string) => DeviceConfig['camera'],
): readonly CameraSpec[] {
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_CAMERAS) fail('cameras', `a list of 1 to ${MAX_CAMERAS} camera maps`);
  const names: string[] = [];
  const specs = list.map((item: unknown, i): CameraSpec => {
    const field = `cameras[${i}]`;
    const o = object(item, field);
    const name = text(o, field, 'name', CAMERA_NAME);
    if (names.includes(name))
      throw new FieldcamError('CONFIG_INVALID', `${source}: ${field}.name "${name}" is used twice (camera names are unique in a device)`);
    names.push(name);
    const streamName = cameraStreamName(device, name);
    if (!STREAM_NAME.test(streamName)) fail(`${field}.name`, `a name that makes ${JSON.stringify(streamName)} a KVS stream name ([a-zA-Z0-9_.-], at most 256)`);
    const cam = camera(o, field);
    const bitrateKbps = o.bitrateKbps === undefined ? board.pool.bitrateKbps : number(o, field, 'bitrateKbps', 1, 1e6);
    // MJPEG cameras state their frame rate; it sizes the frame records as the board's `pool.fps` does.
    const fps = cam.fps ? Math.ceil(cam.fps.num / cam.fps.den) : board.pool.fps;
    return Object.freeze({ name, streamName, camera: cam, pool: Object.freeze({ ...board.pool, bitrateKbps, fps }) });
  });
  return Object.freeze(specs);
}

/**
 * The board part of a JSON configuration (`o` = its `board`; `field` names it in errors), by the board sections'
 * rules (BoardDocument.ts). `appHeapBudgetBytes` and `poolBudgetBytes` sit at board level there and under `memory`
 * in a manifest, so the caller passes them. The device's board from a manifest: deviceBoardOf (DeviceBundle.ts).
 */
export function parseDeviceBoard(o: Json, field: string, appHeapBudgetBytes: unknown, poolBudgetBytes?: unknown): DeviceBoard {
  return Object.freeze({
    name: text(o, field, 'name'),
    pool: parsePoolBudget(object(o.pool, `${field}.pool`), `${field}.pool`, fail),
    stream: parseBoardStream(object(o.stream, `${field}.stream`), `${field}.stream`, fail),
    ...(appHeapBudgetBytes !== undefined ? { appHeapBudgetBytes: parseAppHeapBudget({ appHeapBudgetBytes }, field, fail) } : {}),
    ...(poolBudgetBytes !== undefined ? { poolBudgetBytes: parsePoolBudgetBytes({ poolBudgetBytes }, field, fail) } : {}),
    ...(o.control !== undefined ? { control: parseControlBoard(object(o.control, `${field}.control`), `${field}.control`, fail) } : {}),
    ...(o.net !== undefined ? { net: Object.freeze({ ...NET_DEADLINE_DEFAULTS, ...parseNetBoard(object(o.net, `${field}.net`), `${field}.net`, fail) }) } : {}),
    ...(o.spool !== undefined ? { spool: parseSpoolBudget(object(o.spool, `${field}.spool`), `${field}.spool`) } : {}),
  });
}

/**
 * The `recording` map of a JSON configuration or of device.cbor (`source` names the file in errors; `preRollLimitMs`:
 * what the board's pool can keep, RecordingConfig maxPreRollMs). Throws FieldcamError CONFIG_INVALID naming the key.
 */
export function parseRecording(o: Json, source: string, preRollLimitMs: number, boardName: string): RecordingConfig {
  onlyKeys(o, source, 'recording', RECORDING_KEYS);
  const mode = o.mode;
  if (mode !== 'continuous' && mode !== 'event') fail('recording.mode', '"continuous" or "event"');
  const whole = (key: string, max: number, fallback: number, why: string) => {
    if (o[key] === undefined) return fallback;
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(`recording.${key}`, `a whole number of ms in [0, ${max}]${why}`);
    return v;
  };
  const preRollMs = whole(
    'preRollMs',
    preRollLimitMs,
    Math.min(EVENT_LIMITS.preMsDefault, preRollLimitMs),
    ` (board ${boardName}: its pool's buffer less two fragments)`,
  );
  const postMs = whole('postMs', EVENT_LIMITS.postMsMax, EVENT_LIMITS.postMsDefault, '');
  const trigger = o.trigger === undefined ? undefined : text(o, 'recording', 'trigger', /^\/[^\0]{0,1023}$/);
  return Object.freeze({ mode, preRollMs, postMs, ...(trigger !== undefined ? { trigger } : {}) });
}
