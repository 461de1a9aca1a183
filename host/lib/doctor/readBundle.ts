// Reads a device bundle (docs/device-bundle.md) for `fieldcam doctor`: which files are there, and device.cbor
// read by the device's own reader (every problem named as the device names it at boot).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../firmware/core/cbor/encodeCbor.ts';
import { CAMERA_NAME, MAX_CAMERAS } from '../../../firmware/core/iot/iotNames.ts';
import { readDeviceDocument, type DocumentBoard } from '../../../firmware/app/DeviceBundle.ts';
import { BUNDLE_FILES, BUNDLE_VERSION, type BundleFile, type CameraEntry, type DeviceConfig } from '../writeBundle.ts';

export interface BundleOnDisk {
  readonly dir: string;
  readonly missing: readonly BundleFile[];
  readonly text: Partial<Record<BundleFile, string>>;
  readonly keyMode: number | undefined;
  /** The decoded configuration, or the problem with it. */
  readonly config: DeviceConfig | undefined;
  readonly configProblem: string | undefined;
}

/**
 * Without a board (`--board`), device.cbor is read for a board that accepts any camera codec the firmware knows
 * and any fragment length: only the board-specific limits are left to the `--board` row.
 */
const ANY_BOARD: DocumentBoard = Object.freeze({ codec: 'h264', fps: () => 1, fragmentMs: 0, maxFragmentMs: Number.MAX_SAFE_INTEGER });

const CAMERA_KEYS: ReadonlySet<string> = new Set(['name', 'codec', 'fps', 'source']);

/**
 * device.cbor's `cameras` (issue 18): 1..MAX_CAMERAS maps, each with a CAMERA_NAME `name` given once, and no
 * `streamName` beside them. undefined when the key is absent. Throws naming the problem.
 */
function readCameras(doc: Record<string, unknown>): CameraEntry[] | undefined {
  const raw = doc.cameras;
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > MAX_CAMERAS) throw new Error(`device.cbor cameras must be a list of 1 to ${MAX_CAMERAS} camera maps`);
  if (doc.streamName !== undefined) throw new Error('device.cbor holds cameras and streamName: each camera streams to <thing>-<camera>, leave out streamName');
  if (doc.camera !== undefined) throw new Error('device.cbor holds cameras and camera: give each camera\'s codec and fps in its map of cameras');
  const names = new Set<string>();
  return raw.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`device.cbor cameras[${i}] must be a map`);
    const camera = entry as Record<string, unknown>;
    const unknown = Object.keys(camera).find((k) => !CAMERA_KEYS.has(k));
    if (unknown !== undefined) throw new Error(`device.cbor cameras[${i}] has the unknown key ${unknown}`);
    const name = camera.name;
    if (typeof name !== 'string' || !CAMERA_NAME.test(name)) throw new Error(`device.cbor cameras[${i}].name must be a camera name (1-32 of a-z 0-9 _ -, starting with a letter or digit)`);
    if (names.has(name)) throw new Error(`device.cbor cameras: '${name}' is named twice`);
    names.add(name);
    return camera as unknown as CameraEntry;
  });
}

/**
 * device.cbor read by the device's own reader (firmware/app/DeviceBundle.ts): what it refuses, doctor fails.
 * `cameras` is read here and the rest by the device's reader. TODO(issue 18, multicam): once DeviceBundle.ts
 * parses `cameras`, hand it the whole document and take the cameras from its result instead.
 */
function readConfig(raw: Uint8Array, file: string): DeviceConfig {
  let decoded: Record<string, unknown> | undefined;
  try {
    const value = decodeCbor(raw, 0, raw.length, { maxBytes: 16 * 1024, maxDepth: 4, maxItems: 256, maxStringBytes: 4096 });
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) decoded = value as Record<string, unknown>;
  } catch {
    decoded = undefined; // the device's reader names what is wrong with it
  }
  const cameras = decoded ? readCameras(decoded) : undefined;
  let forReader = raw;
  if (decoded && cameras) {
    const { cameras: _, ...rest } = decoded;
    const out = new Uint8Array(raw.length * 2 + 64);
    forReader = out.slice(0, encodeCbor(rest, out));
  }
  const doc = readDeviceDocument(forReader, file, ANY_BOARD);
  return {
    version: BUNDLE_VERSION,
    thingName: doc.thingName,
    ...(cameras ? { cameras } : { streamName: doc.streamName }),
    region: doc.region,
    roleAlias: doc.roleAlias,
    endpoints: (decodeCbor(raw) as { endpoints: DeviceConfig['endpoints'] }).endpoints,
    ...(doc.retentionHours !== undefined ? { retentionHours: doc.retentionHours } : {}),
  };
}

export function readBundle(dir: string): BundleOnDisk {
  const missing: BundleFile[] = [];
  const text: Partial<Record<BundleFile, string>> = {};
  let raw: Uint8Array | undefined;
  for (const name of Object.keys(BUNDLE_FILES) as BundleFile[]) {
    try {
      const bytes = readFileSync(join(dir, name));
      if (name === 'device.cbor') raw = bytes;
      else text[name] = bytes.toString('utf8');
    } catch {
      missing.push(name);
    }
  }
  let keyMode: number | undefined;
  try {
    keyMode = statSync(join(dir, 'private.key')).mode & 0o777;
  } catch {
    keyMode = undefined;
  }
  let config: DeviceConfig | undefined;
  let configProblem: string | undefined;
  if (raw) {
    try {
      config = readConfig(raw, join(dir, 'device.cbor'));
    } catch (err) {
      configProblem = (err as Error).message;
    }
  } else {
    configProblem = 'device.cbor is missing';
  }
  return { dir, missing, text, keyMode, config, configProblem };
}
