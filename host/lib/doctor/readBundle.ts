// Reads a device bundle (docs/device-bundle.md) for `fieldcam doctor`: which files are there, and device.cbor
// read by the device's own reader (every problem named as the device names it at boot).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { readDeviceDocument, type DocumentBoard } from '../../../firmware/app/DeviceBundle.ts';
import { BUNDLE_FILES, BUNDLE_VERSION, type BundleFile, type CameraEntry, type DeviceDocument } from '../writeBundle.ts';

export interface BundleOnDisk {
  readonly dir: string;
  readonly missing: readonly BundleFile[];
  readonly text: Partial<Record<BundleFile, string>>;
  readonly keyMode: number | undefined;
  /** The decoded configuration, or the problem with it. */
  readonly config: DeviceDocument | undefined;
  readonly configProblem: string | undefined;
}

/**
 * Without a board (`--board`), device.cbor is read for a board that accepts any camera codec the firmware knows
 * and any fragment length: only the board-specific limits are left to the `--board` row.
 */
const ANY_BOARD: DocumentBoard = Object.freeze({ codec: 'h264', fps: () => 1, fragmentMs: 0, maxFragmentMs: Number.MAX_SAFE_INTEGER });

/** device.cbor read by the device's own reader (firmware/app/DeviceBundle.ts), cameras included: what it refuses, doctor fails. */
function readConfig(raw: Uint8Array, file: string): DeviceDocument {
  const doc = readDeviceDocument(raw, file, ANY_BOARD);
  const cameras: CameraEntry[] | undefined = doc.cameras?.map((c) => ({ name: c.name, codec: c.codec, ...(c.fps !== undefined ? { fps: c.fps } : {}) }));
  return {
    version: BUNDLE_VERSION,
    thingName: doc.thingName,
    ...(cameras ? { cameras } : { streamName: doc.streamName }),
    region: doc.region,
    roleAlias: doc.roleAlias,
    endpoints: (decodeCbor(raw) as { endpoints: DeviceDocument['endpoints'] }).endpoints,
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
  let config: DeviceDocument | undefined;
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
