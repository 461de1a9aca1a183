// The device bundle of docs/device-bundle.md (format version 1): device.cbor, certificate.pem, private.key and
// ca.pem in one directory. Each file is written atomically (temporary file in the same folder created with
// its final mode, fsync, rename), and a file whose content and mode are already right is not touched, so a
// re-run that changes nothing rewrites nothing.
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCbor } from '../../firmware/core/cbor/encodeCbor.ts';
import { CAMERA_NAME, MAX_CAMERAS } from '../../firmware/core/iot/iotNames.ts';
import { FieldcamError } from '../shared/hostErrors.ts';
import { writeFileAtomic } from '../shared/writeFileAtomic.ts';

/** Every file of a bundle and its mode (docs/device-bundle.md). */
export const BUNDLE_FILES = Object.freeze({
  'device.cbor': 0o600,
  'certificate.pem': 0o644,
  'private.key': 0o600,
  'ca.pem': 0o644,
} as const);
export type BundleFile = keyof typeof BUNDLE_FILES;

export const BUNDLE_VERSION = 1;

/**
 * One camera of a device with several (issue 18): its name (CAMERA_NAME; its stream is cameraStreamName(thing,
 * name)) and its optional overrides of the board manifest, as docs/device-bundle.md defines them.
 */
export interface CameraEntry {
  readonly name: string;
  readonly codec?: string;
  readonly fps?: number;
  /** The camera's bitrate, which sizes its pool (bitrate × the board's buffer seconds); absent: the board's pool.bitrateKbps. */
  readonly bitrateKbps?: number;
  /** The camera adapter as `--camera-source` text (host/shared/cameraSource.ts parseCameraSourceFlag): rpicam:1, v4l2:/dev/video1, rtsp. */
  readonly source?: string;
}

/**
 * device.cbor `recording` (docs/events.md), only the keys given: the device fills in the defaults and checks the
 * pre-roll against its board (firmware/app/DeviceConfig.ts parseRecording, the one rule).
 */
export interface RecordingMap {
  readonly mode: 'continuous' | 'event';
  readonly preRollMs?: number;
  readonly postMs?: number;
  readonly trigger?: string;
}

/** device.cbor: the keys of docs/device-bundle.md, in the order they are encoded. */
export interface DeviceDocument {
  readonly version: 1;
  readonly thingName: string;
  /** The one camera's stream; absent when `cameras` is given (each camera's stream is `<thing>-<camera>`). */
  readonly streamName?: string;
  /** 1..MAX_CAMERAS cameras of one device; absent: one camera streaming to `streamName`. */
  readonly cameras?: readonly CameraEntry[];
  readonly region: string;
  readonly roleAlias: string;
  readonly endpoints: {
    /** `host[:port]` of iot:CredentialProvider */
    readonly credentialProvider: string;
    /** `host[:port]` of iot:Data-ATS (MQTT, issue 6) */
    readonly iotData: string;
    /** `https://host[:port]` of the KVS control plane */
    readonly kinesisVideo: string;
  };
  readonly retentionHours?: number;
  readonly recording?: RecordingMap;
}

/** A camera map with a fixed key order, only the keys given. */
function orderedCamera(c: CameraEntry): Record<string, unknown> {
  return {
    name: c.name,
    ...(c.codec !== undefined ? { codec: c.codec } : {}),
    ...(c.fps !== undefined ? { fps: c.fps } : {}),
    ...(c.bitrateKbps !== undefined ? { bitrateKbps: c.bitrateKbps } : {}),
    ...(c.source !== undefined ? { source: c.source } : {}),
  };
}

/** A recording map with a fixed key order, only the keys given. */
function orderedRecording(r: RecordingMap): Record<string, unknown> {
  return {
    mode: r.mode,
    ...(r.preRollMs !== undefined ? { preRollMs: r.preRollMs } : {}),
    ...(r.postMs !== undefined ? { postMs: r.postMs } : {}),
    ...(r.trigger !== undefined ? { trigger: r.trigger } : {}),
  };
}

/** The writer's half of the `cameras` rule: what the device would refuse is never written. */
function checkCameras(config: DeviceDocument): void {
  const cameras = config.cameras;
  if (cameras === undefined) {
    if (config.streamName === undefined) throw new FieldcamError('PROVISION_CAMERA_INVALID', 'device.cbor needs streamName or cameras');
    return;
  }
  if (config.streamName !== undefined)
    throw new FieldcamError('PROVISION_CAMERA_INVALID', 'device.cbor holds cameras or streamName, not both: each camera streams to <thing>-<camera>');
  if (cameras.length < 1 || cameras.length > MAX_CAMERAS)
    throw new FieldcamError('PROVISION_CAMERA_INVALID', `device.cbor cameras: ${cameras.length} cameras; 1 to ${MAX_CAMERAS}`);
  const seen = new Set<string>();
  for (const { name } of cameras) {
    if (!CAMERA_NAME.test(name)) throw new FieldcamError('PROVISION_CAMERA_INVALID', `device.cbor cameras: '${name}' is not a camera name`);
    if (seen.has(name)) throw new FieldcamError('PROVISION_CAMERA_INVALID', `device.cbor cameras: '${name}' is named twice`);
    seen.add(name);
  }
}

/** The CBOR of a device configuration, with a fixed key order so equal configurations give equal bytes. */
export function encodeDeviceConfig(config: DeviceDocument): Uint8Array {
  checkCameras(config);
  const ordered = {
    version: config.version,
    thingName: config.thingName,
    ...(config.cameras !== undefined ? { cameras: config.cameras.map(orderedCamera) } : { streamName: config.streamName }),
    region: config.region,
    roleAlias: config.roleAlias,
    endpoints: {
      credentialProvider: config.endpoints.credentialProvider,
      iotData: config.endpoints.iotData,
      kinesisVideo: config.endpoints.kinesisVideo,
    },
    ...(config.retentionHours !== undefined ? { retentionHours: config.retentionHours } : {}),
    ...(config.recording !== undefined ? { recording: orderedRecording(config.recording) } : {}),
  };
  const out = new Uint8Array(4096);
  return out.slice(0, encodeCbor(ordered, out));
}

function sameFile(path: string, bytes: Uint8Array, mode: number): 'same' | 'mode' | 'different' {
  try {
    const current = readFileSync(path);
    if (!Buffer.from(bytes).equals(current)) return 'different';
    return (statSync(path).mode & 0o777) === mode ? 'same' : 'mode';
  } catch {
    return 'different';
  }
}

function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** Whether writing `content` would change the file (its bytes or its mode). */
export function bundleFileDiffers(dir: string, name: BundleFile, content: string | Uint8Array): boolean {
  return sameFile(join(dir, name), bytesOf(content), BUNDLE_FILES[name]) !== 'same';
}

/**
 * Writes one bundle file atomically with its mode (the temporary file is created with it, so a private key is
 * never readable by others, not even for a moment). Returns false when the file was already right.
 */
export function writeBundleFile(dir: string, name: BundleFile, content: string | Uint8Array): boolean {
  return writeWithMode(dir, name, bytesOf(content), BUNDLE_FILES[name]);
}

/** The line an RTSP/HTTP camera's camera-url-<camera> file holds (flash reads it; it may hold a password: 0600). */
function urlLine(url: string): Uint8Array {
  return bytesOf(`${url}\n`);
}

/** Whether writing camera `file`'s URL (cameraUrlFile) would change it. */
export function cameraUrlDiffers(dir: string, file: string, url: string): boolean {
  return sameFile(join(dir, file), urlLine(url), 0o600) !== 'same';
}

/** Writes an RTSP/HTTP camera's URL into the bundle (`file` = cameraUrlFile(camera)), 0600; false when already right. */
export function writeCameraUrl(dir: string, file: string, url: string): boolean {
  return writeWithMode(dir, file, urlLine(url), 0o600);
}

function writeWithMode(dir: string, name: string, bytes: Uint8Array, mode: number): boolean {
  const path = join(dir, name);
  const state = sameFile(path, bytes, mode);
  if (state === 'same') return false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (state === 'mode') {
      chmodSync(path, mode);
      return true;
    }
    writeFileAtomic(path, bytes, mode);
  } catch (err) {
    throw new FieldcamError('CLI_OUTPUT_FAILED', `writing ${path}: ${(err as Error).message}`);
  }
  return true;
}

/** Writes the given files of a bundle; returns the names of those that changed. */
export function writeBundle(dir: string, files: Partial<Record<BundleFile, string | Uint8Array>>): BundleFile[] {
  const written: BundleFile[] = [];
  for (const name of Object.keys(BUNDLE_FILES) as BundleFile[]) {
    const content = files[name];
    if (content !== undefined && writeBundleFile(dir, name, content)) written.push(name);
  }
  return written;
}
