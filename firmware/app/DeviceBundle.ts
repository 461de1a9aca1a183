import { decodeCbor } from '../core/cbor/decodeCbor.ts';
import { FieldcamError, isFieldcamError } from '../core/errors.ts';
import { ROLE_ALIAS, THING_NAME } from '../core/iot/iotNames.ts';
import type { Board } from '../io/Board.ts';
import {
  CONTROL_KEEP_ALIVE_DEFAULT,
  fail,
  number,
  object,
  onlyKeys,
  parseCameraAudio,
  parseCameraList,
  type CameraAudio,
  parseRecording,
  REGION,
  STREAM_NAME,
  text,
  type DeviceBoard,
  type DeviceConfig,
} from './DeviceConfig.ts';
import { CODECS, codecChoices, isCodecId, type CodecId } from '../core/media/codecs.ts';
import type { PoolBudget } from '../core/config/derivePoolSizing.ts';
import { EVENT_LIMITS } from '../core/events/eventLimits.ts';
import { maxPreRollMs } from './RecordingConfig.ts';
import { parseBoardDocument, type BoardDocument } from './BoardDocument.ts';
import { NET_DEADLINE_DEFAULTS } from '../core/net/PhaseDeadline.ts';

/** How the device is started from a bundle: `firmware.js --bundle DIR --board FILE` (the image's board.json). */
export interface BundleSource {
  readonly bundle: string;
  readonly board: string;
  /** The camera's file descriptor (default 0: standard input, where the simulator and the capture pipe feed it). */
  readonly cameraFd?: number;
  /** The control channel's state file (`--state FILE`); default `control-state.cbor` next to the bundle directory. */
  readonly state?: string;
  /** `--recorded`: the camera pipe replays a recording (the simulator): its cadence, a clean end (DeviceConfig camera.recorded). */
  readonly recorded?: boolean;
  /** `--spool DIR`: the spool's folder (default `spool/` beside the state file, else `<bundle>.spool` beside the bundle; docs/spool.md). */
  readonly spool?: string;
}

type Json = Record<string, unknown>;

// docs/device-bundle.md, format version 1.
const TOP_KEYS = ['version', 'thingName', 'streamName', 'region', 'roleAlias', 'endpoints', 'retentionHours', 'camera', 'cameras', 'stream', 'recording'];
const ENDPOINT_KEYS = ['credentialProvider', 'iotData', 'kinesisVideo'];
const CAMERA_KEYS = ['codec', 'fps', 'audio'];
/**
 * The keys of one camera of `cameras` (the contract with provision and doctor). `source`: the camera adapter
 * (host/shared/cameraSource.ts) the run script starts, as the flag text (`v4l2:/dev/video1`) or the manifest's map;
 * the firmware reads only the fd. `bitrateKbps` sizes the camera's pool (bitrate × the board's buffer seconds; absent: the
 * board's `pool.bitrateKbps`), checked by parseCameraList, and is the encoder's bitrate in the run script.
 */
const CAMERAS_KEYS = ['name', 'codec', 'fps', 'bitrateKbps', 'source', 'audio'];
/**
 * With `cameras`, camera i (in list order) is read from descriptor CAMERA_FD_BASE + i: the run script opens one
 * capture pipe per camera there (`3< <(capture 0) 4< <(capture 1) …`), the simulator passes one pipe each.
 */
export const CAMERA_FD_BASE = 3;
const STREAM_KEYS = ['fragmentMs', 'metadata'];
const HOST = /^[a-zA-Z0-9.-]{1,253}$/;
/** device.cbor is a few hundred bytes; the limit only bounds a corrupt file. */
const MAX_DEVICE_CBOR = 16 * 1024;

/** `host:port` or `host` (default 443, or 8883 for MQTT over TLS), as the IoT endpoints are written. */
function hostPort(value: string, field: string, defaultPort = 443): { host: string; port: number } {
  const m = /^([^:/]+)(?::(\d{1,5}))?$/.exec(value);
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (!m || !HOST.test(m[1]!) || port < 1 || port > 65_535) fail(field, '"host" or "host:port"');
  return { host: m[1]!, port };
}

/** `https://host[:port]` (the KVS control plane; TLS only). */
function httpsUrl(value: string, field: string): { host: string; port: number } {
  const m = /^https:\/\/([^:/]+)(?::(\d{1,5}))?\/?$/.exec(value);
  const port = m?.[2] === undefined ? 443 : Number(m[2]);
  if (!m || !HOST.test(m[1]!) || port < 1 || port > 65_535) fail(field, '"https://host[:port]"');
  return { host: m[1]!, port };
}

function pem(board: Board, path: string, label: RegExp, what: string): void {
  let content: string;
  try {
    content = board.readText(path);
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `bundle: cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  if (!label.test(content)) throw new FieldcamError('CONFIG_INVALID', `bundle: ${path} is not a PEM ${what}`);
}

/** What the device takes from its board manifest: the DeviceBoard a JSON configuration's `board` also gives. */
export function deviceBoardOf(m: BoardDocument): DeviceBoard {
  return Object.freeze({
    name: m.name,
    pool: m.pool,
    stream: m.stream,
    ...(m.memory.appHeapBudgetBytes !== undefined ? { appHeapBudgetBytes: m.memory.appHeapBudgetBytes } : {}),
    ...(m.memory.poolBudgetBytes !== undefined ? { poolBudgetBytes: m.memory.poolBudgetBytes } : {}),
    ...(m.control ? { control: m.control } : {}),
    ...(m.net ? { net: Object.freeze({ ...NET_DEADLINE_DEFAULTS, ...m.net }) } : {}),
    ...(m.spool ? { spool: m.spool } : {}),
  });
}

/**
 * Reads a device bundle (docs/device-bundle.md) and the board manifest the image carries into the device's
 * configuration: device.cbor strictly validated (version 1, unknown keys refused, every problem naming its
 * key), the certificate, private key and CA checked to be PEM, the stream named after the thing unless
 * overridden, credentials from the IoT credentials provider. Board, pool and stream timing come from the
 * manifest; the bundle's `camera` and `stream` maps override it. The camera is standard input (fd 0) unless told, live.
 * Throws FieldcamError CONFIG_INVALID.
 */
export function loadDeviceBundle(board: Board, source: BundleSource): DeviceConfig {
  const dir = source.bundle.replace(/\/+$/, '') || '/';
  let raw: unknown;
  try {
    raw = JSON.parse(board.readText(source.board));
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `cannot read the board manifest ${source.board}: ${(err as Error).message}`);
  }
  const manifest = parseBoardDocument(raw, source.board);
  const deviceBoard = deviceBoardOf(manifest);

  const file = `${dir}/device.cbor`;
  let bytes: Uint8Array;
  try {
    bytes = board.readBytes(file);
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `bundle: cannot read ${file}: ${(err as Error).message}`);
  }
  const { thingName, streamName, region, roleAlias, provider, kvs, iotData, retentionHours, codec, fps, audio, fragmentMs, metadata, recording, cameras } =
    readDeviceDocument(bytes, file, {
      codec: manifest.camera.codec,
      fps: () => manifest.camera.fps,
      fragmentMs: deviceBoard.stream.fragmentMs,
      maxFragmentMs: deviceBoard.stream.maxFragmentMs,
      name: deviceBoard.name,
      maxPreRollMs: maxPreRollMs(deviceBoard),
      pool: deviceBoard,
    });

  const certFile = `${dir}/certificate.pem`;
  const keyFile = `${dir}/private.key`;
  const caFile = `${dir}/ca.pem`;
  pem(board, certFile, /-----BEGIN CERTIFICATE-----/, 'certificate');
  pem(board, keyFile, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/, 'private key');
  pem(board, caFile, /-----BEGIN CERTIFICATE-----/, 'CA certificate');

  // Camera i of a multi-camera bundle reads fd CAMERA_FD_BASE + i, live like the single camera on fd 0.
  const recorded = source.recorded ? { recorded: true } : {};
  const specs = cameras?.map((c, i) =>
    Object.freeze({
      ...c,
      camera: Object.freeze({
        fd: CAMERA_FD_BASE + i,
        codec: c.codec,
        live: true,
        ...recorded,
        ...(c.fps !== undefined ? { fps: Object.freeze({ num: c.fps, den: 1 }) } : {}),
        ...(c.audio ? { audio: c.audio } : {}),
      }),
    }),
  );
  return Object.freeze({
    version: 1,
    board: Object.freeze({ ...deviceBoard, stream: Object.freeze({ ...deviceBoard.stream, fragmentMs }) }),
    stream: Object.freeze({
      name: streamName,
      region,
      ...(retentionHours !== undefined ? { createRetentionHours: retentionHours } : {}),
      ...(metadata ? { metadata: Object.freeze(metadata) } : {}),
    }),
    endpoint: Object.freeze({ host: kvs.host, port: kvs.port, caFile }),
    credentials: Object.freeze({ iot: Object.freeze({ host: provider.host, port: provider.port, roleAlias, thingName, certFile, keyFile }) }),
    camera: specs
      ? specs[0]!.camera
      : Object.freeze({
          fd: source.cameraFd ?? 0,
          codec,
          live: true,
          ...recorded,
          ...(fps !== undefined ? { fps: Object.freeze({ num: fps, den: 1 }) } : {}),
          ...(audio ? { audio } : {}),
        }),
    ...(specs ? { cameras: Object.freeze(specs) } : {}),
    statusIntervalMs: 1000,
    ...(recording ? { recording } : {}),
    // The spool, when the board has one: `spool/` beside the state file (a flashed board's one writable place), else
    // `<bundle>.spool` beside the bundle (the bundle itself may be read-only; bundles side by side get one each).
    ...(deviceBoard.spool && deviceBoard.spool.maxBytes > 0 ? { spoolDir: source.spool ?? defaultSpoolDir(dir, source.state) } : {}),
    ...(iotData
      ? {
          control: Object.freeze({
            host: iotData.host,
            port: iotData.port,
            thingName,
            caFile,
            certFile,
            keyFile,
            stateFile: source.state ?? besideBundle(dir, 'control-state.cbor'),
            keepAliveSeconds: CONTROL_KEEP_ALIVE_DEFAULT,
          }),
        }
      : {}),
  });
}

/** What device.cbor needs of the board: the camera's codec and frame rate, and the fragment length and its limit. */
export interface DocumentBoard {
  readonly codec: unknown;
  /** The camera's frame rate, read only when an MJPEG camera has none in the bundle (JPEG carries no timing). */
  fps(): number;
  readonly fragmentMs: number;
  readonly maxFragmentMs: number;
  /** The board's name and the longest pre-roll its pool keeps (RecordingConfig maxPreRollMs); absent: any board. */
  readonly name?: string;
  readonly maxPreRollMs?: number;
  /** The board's pool budget, which sizes each camera's pool in a `cameras` list; absent: the board's values are unknown (doctor). */
  readonly pool?: DeviceBoard;
}

/** A camera of device.cbor's `cameras` as read: its pool and stream; the device sets its fd (CAMERA_FD_BASE + i). */
export interface DocumentCamera {
  readonly name: string;
  readonly streamName: string;
  readonly codec: CodecId;
  readonly fps: number | undefined;
  readonly pool: PoolBudget;
  /** Its microphone (docs/device-bundle.md "Audio"), absent = video only. */
  readonly audio?: CameraAudio;
}

/**
 * device.cbor (docs/device-bundle.md, format version 1) read and validated as the device reads it, with the
 * board's camera and stream defaults merged in; `fieldcam doctor` reads bundles with it too. Throws
 * FieldcamError CONFIG_INVALID naming the problem; `file` names the file in the messages.
 */
export function readDeviceDocument(bytes: Uint8Array, file: string, board: DocumentBoard) {
  let raw: unknown;
  try {
    raw = decodeCbor(bytes, 0, bytes.length, { maxBytes: MAX_DEVICE_CBOR, maxDepth: 4, maxItems: 256, maxStringBytes: 4096 });
  } catch (err) {
    throw new FieldcamError(
      'CONFIG_INVALID',
      `bundle: ${file} is not a valid CBOR document (${isFieldcamError(err) ? err.code : 'error'}: ${(err as Error).message})`,
    );
  }
  const d = object(raw, 'device.cbor');
  onlyKeys(d, 'device.cbor', '', TOP_KEYS);
  if (d.version !== 1) fail('device.cbor version', '1 (this firmware reads bundle format version 1)');
  const thingName = text(d, 'device.cbor', 'thingName', THING_NAME);
  // Several cameras: each streams to cameraStreamName(thing, camera); `camera` and `streamName` would be a second way to say it.
  if (d.cameras !== undefined) {
    for (const key of ['camera', 'streamName']) {
      if (d[key] !== undefined)
        throw new FieldcamError(
          'CONFIG_INVALID',
          `device.cbor: ${key} must be absent when cameras is given (each camera has its codec and fps in cameras; its stream is <thingName>-<name>)`,
        );
    }
  }
  const streamName = d.streamName === undefined ? thingName : text(d, 'device.cbor', 'streamName', STREAM_NAME);
  if (d.cameras === undefined && !STREAM_NAME.test(streamName)) {
    fail('device.cbor thingName', 'usable as a stream name ([a-zA-Z0-9_.-]) or streamName must be given');
  }
  const region = text(d, 'device.cbor', 'region', REGION);
  const roleAlias = text(d, 'device.cbor', 'roleAlias', ROLE_ALIAS);
  const endpoints = object(d.endpoints, 'device.cbor endpoints');
  onlyKeys(endpoints, 'device.cbor', 'endpoints', ENDPOINT_KEYS);
  const provider = hostPort(text(endpoints, 'device.cbor endpoints', 'credentialProvider'), 'device.cbor endpoints.credentialProvider');
  const kvs = httpsUrl(text(endpoints, 'device.cbor endpoints', 'kinesisVideo'), 'device.cbor endpoints.kinesisVideo');
  // iot:Data-ATS: the MQTT broker of the control channel (8883: MQTT over TLS with a client certificate).
  const iotData =
    endpoints.iotData === undefined ? undefined : hostPort(text(endpoints, 'device.cbor endpoints', 'iotData'), 'device.cbor endpoints.iotData', 8883);
  const retentionHours = d.retentionHours === undefined ? undefined : integer(d, 'device.cbor', 'retentionHours', 0, 87_600);

  let codec = board.codec;
  let fps: number | undefined;
  let audio: CameraAudio | undefined;
  if (d.camera !== undefined) {
    const camera = object(d.camera, 'device.cbor camera');
    onlyKeys(camera, 'device.cbor', 'camera', CAMERA_KEYS);
    if (camera.codec !== undefined) codec = camera.codec;
    if (camera.fps !== undefined) fps = integer(camera, 'device.cbor camera', 'fps', 1, 1000);
    if (camera.audio !== undefined) audio = parseCameraAudio(object(camera.audio, 'device.cbor camera.audio'), 'device.cbor', 'camera.audio');
  }
  if (!isCodecId(codec)) fail('camera.codec', codecChoices('"'));
  // H.264/H.265 carry their timing (SPS VUI); JPEG has none, so MJPEG falls back to the manifest's frame rate.
  if (fps === undefined && !CODECS[codec].nalTables) fps = board.fps();

  let cameras: readonly DocumentCamera[] | undefined;
  if (d.cameras !== undefined) {
    // Without a board (doctor), the pools are sized from a placeholder: only names, codecs and frame rates are read.
    const poolBoard = board.pool ?? PLACEHOLDER_BOARD;
    const boardCodec = board.codec;
    cameras = parseCameraList(d.cameras, 'device.cbor', thingName, poolBoard, (o, field) => {
      onlyKeys(o, 'device.cbor', field, CAMERAS_KEYS);
      if (o.source !== undefined && typeof o.source !== 'string') object(o.source, `device.cbor ${field}.source`);
      if (typeof o.source === 'string') text(o, `device.cbor ${field}`, 'source');
      const c = o.codec === undefined ? boardCodec : o.codec;
      if (!isCodecId(c)) fail(`${field}.codec`, codecChoices('"'));
      let f = o.fps === undefined ? undefined : integer(o, `device.cbor ${field}`, 'fps', 1, 1000);
      if (f === undefined && !CODECS[c].nalTables) f = board.fps();
      const a = o.audio === undefined ? undefined : parseCameraAudio(object(o.audio, `device.cbor ${field}.audio`), 'device.cbor', `${field}.audio`);
      return Object.freeze({ fd: 0, codec: c, live: true, ...(f !== undefined ? { fps: Object.freeze({ num: f, den: 1 }) } : {}), ...(a ? { audio: a } : {}) });
    }).map((spec) =>
      Object.freeze({
        name: spec.name,
        streamName: spec.streamName,
        codec: spec.camera.codec,
        fps: spec.camera.fps?.num,
        pool: spec.pool,
        ...(spec.camera.audio ? { audio: spec.camera.audio } : {}),
      }),
    );
  }

  let fragmentMs = board.fragmentMs;
  let metadata: Record<string, string> | undefined;
  if (d.stream !== undefined) {
    const stream = object(d.stream, 'device.cbor stream');
    onlyKeys(stream, 'device.cbor', 'stream', STREAM_KEYS);
    if (stream.fragmentMs !== undefined) fragmentMs = integer(stream, 'device.cbor stream', 'fragmentMs', 0, board.maxFragmentMs);
    if (stream.metadata !== undefined) {
      const m = object(stream.metadata, 'device.cbor stream.metadata');
      metadata = {};
      for (const key of Object.keys(m)) metadata[key] = text(m, 'device.cbor stream.metadata', key);
    }
  }

  // Recording mode (docs/events.md): without a board, the pre-roll is checked against the largest pool a manifest may give.
  const recording =
    d.recording === undefined
      ? undefined
      : parseRecording(object(d.recording, 'device.cbor recording'), 'device.cbor', board.maxPreRollMs ?? EVENT_LIMITS.preMsAnyBoard, board.name ?? 'any');

  return {
    thingName,
    streamName,
    region,
    roleAlias,
    provider,
    kvs,
    iotData,
    retentionHours,
    codec,
    fps,
    audio,
    fragmentMs,
    metadata,
    recording,
    cameras,
  } as const;
}

/** Where a bundle's spool goes unless `--spool` names a folder (docs/spool.md, "Where it lives"). */
export function defaultSpoolDir(bundleDir: string, stateFile: string | undefined): string {
  if (stateFile !== undefined) {
    const slash = stateFile.lastIndexOf('/');
    return slash < 0 ? 'spool' : `${stateFile.slice(0, slash) || ''}/spool`;
  }
  const dir = bundleDir.replace(/\/+$/, '') || '/';
  return besideBundle(dir, `${dir.slice(dir.lastIndexOf('/') + 1) || 'bundle'}.spool`);
}

/** Stands in for the board when device.cbor is read without one (doctor): camera pools are then not meaningful. */
const PLACEHOLDER_BOARD: DeviceBoard = Object.freeze({
  name: 'any',
  pool: Object.freeze({ bitrateKbps: 1, bufferSeconds: 1, fps: 1, maxFrameBytes: 1024 }),
  stream: Object.freeze({ fragmentMs: 1000, maxFragmentMs: 20_000 }),
});

/** `name` in the directory that holds the bundle directory (the bundle itself may be read-only). */
function besideBundle(dir: string, name: string): string {
  const slash = dir.lastIndexOf('/');
  return slash < 0 ? name : `${dir.slice(0, slash) || ''}/${name}`;
}

function integer(o: Json, field: string, key: string, min: number, max: number): number {
  const v = number(o, field, key, min, max);
  return Number.isInteger(v) ? v : fail(`${field}.${key}`, 'an integer');
}
