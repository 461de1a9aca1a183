// The device bundle of docs/device-bundle.md (format version 1): device.cbor, certificate.pem, private.key and
// ca.pem in one directory. Each file is written atomically (temporary file in the same folder created with
// its final mode, fsync, rename), and a file whose content and mode are already right is not touched, so a
// re-run that changes nothing rewrites nothing.
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCbor } from '../../firmware/core/cbor/encodeCbor.ts';
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

/** device.cbor: the keys of docs/device-bundle.md, in the order they are encoded. */
export interface DeviceDocument {
  readonly version: 1;
  readonly thingName: string;
  readonly streamName: string;
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
}

/** The CBOR of a device configuration, with a fixed key order so equal configurations give equal bytes. */
export function encodeDeviceDocument(config: DeviceDocument): Uint8Array {
  const ordered = {
    version: config.version,
    thingName: config.thingName,
    streamName: config.streamName,
    region: config.region,
    roleAlias: config.roleAlias,
    endpoints: {
      credentialProvider: config.endpoints.credentialProvider,
      iotData: config.endpoints.iotData,
      kinesisVideo: config.endpoints.kinesisVideo,
    },
    ...(config.retentionHours !== undefined ? { retentionHours: config.retentionHours } : {}),
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
  const path = join(dir, name);
  const bytes = bytesOf(content);
  const mode = BUNDLE_FILES[name];
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
