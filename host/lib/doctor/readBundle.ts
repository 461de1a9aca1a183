// Reads a device bundle (docs/device-bundle.md) for `fieldcam doctor`: which files are there, and device.cbor
// decoded and checked against format version 1 (every problem named, as the device names it at boot).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { THING_NAME } from '../../../firmware/core/iot/iotNames.ts';
import { BUNDLE_FILES, BUNDLE_VERSION, type BundleFile, type DeviceConfig } from '../writeBundle.ts';

export interface BundleOnDisk {
  readonly dir: string;
  readonly missing: readonly BundleFile[];
  readonly text: Partial<Record<BundleFile, string>>;
  readonly keyMode: number | undefined;
  /** The decoded configuration, or the problem with it. */
  readonly config: DeviceConfig | undefined;
  readonly configProblem: string | undefined;
}

const KEYS = new Set(['version', 'thingName', 'streamName', 'region', 'roleAlias', 'endpoints', 'retentionHours', 'camera', 'stream']);
const ENDPOINT_KEYS = ['credentialProvider', 'iotData', 'kinesisVideo'] as const;

function checkConfig(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return 'device.cbor is not a CBOR map';
  const c = value as Record<string, unknown>;
  const unknown = Object.keys(c).find((k) => !KEYS.has(k));
  if (unknown !== undefined) return `device.cbor has an unknown key '${unknown}'`;
  if (c.version !== BUNDLE_VERSION) return `device.cbor version is ${JSON.stringify(c.version)}, not ${BUNDLE_VERSION}`;
  for (const key of ['thingName', 'streamName', 'region', 'roleAlias'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') return `device.cbor ${key} is missing or not a string`;
  }
  if (!THING_NAME.test(c.thingName as string)) return `device.cbor thingName '${String(c.thingName)}' is not a thing name`;
  const e = c.endpoints as Record<string, unknown> | undefined;
  if (typeof e !== 'object' || e === null) return 'device.cbor endpoints is missing';
  for (const key of ENDPOINT_KEYS) if (typeof e[key] !== 'string' || e[key] === '') return `device.cbor endpoints.${key} is missing`;
  if (c.retentionHours !== undefined && (!Number.isInteger(c.retentionHours) || (c.retentionHours as number) < 0)) return 'device.cbor retentionHours is not a whole number';
  return undefined;
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
      const value = decodeCbor(raw);
      configProblem = checkConfig(value);
      if (!configProblem) config = value as DeviceConfig;
    } catch (err) {
      configProblem = `device.cbor is not valid CBOR: ${(err as Error).message}`;
    }
  } else {
    configProblem = 'device.cbor is missing';
  }
  return { dir, missing, text, keyMode, config, configProblem };
}
