import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCbor } from '../../firmware/core/cbor/encodeCbor.ts';
import type { CodecId } from '../../firmware/core/media/codecs.ts';

/** device.cbor of docs/device-bundle.md (format version 1), as a plain object. */
export interface DeviceBundleDocument {
  readonly version: number;
  readonly thingName: string;
  readonly streamName?: string;
  readonly region: string;
  readonly roleAlias: string;
  readonly endpoints: { readonly credentialProvider: string; readonly iotData?: string; readonly kinesisVideo: string };
  readonly retentionHours?: number;
  readonly camera?: { readonly codec?: CodecId; readonly fps?: number };
  readonly stream?: { readonly fragmentMs?: number; readonly metadata?: Readonly<Record<string, string>> };
  /** Anything else, for tests of the device's refusal of unknown keys. */
  readonly [key: string]: unknown;
}

export interface DeviceBundleFiles {
  readonly device: DeviceBundleDocument;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
}

function atomic(path: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

/**
 * Writes a device bundle for simulated boards and tests (docs/device-bundle.md): device.cbor encoded with the
 * firmware's own CBOR encoder, the certificate, the private key (0600) and the CA. `fieldcam provision`
 * writes the same layout for real devices.
 */
export function writeDeviceBundle(dir: string, files: DeviceBundleFiles): string {
  mkdirSync(dir, { recursive: true });
  const scratch = new Uint8Array(16 * 1024);
  const n = encodeCbor(files.device, scratch);
  atomic(join(dir, 'device.cbor'), scratch.slice(0, n), 0o600);
  atomic(join(dir, 'certificate.pem'), files.certificatePem, 0o644);
  atomic(join(dir, 'private.key'), files.privateKeyPem, 0o600);
  atomic(join(dir, 'ca.pem'), files.caPem, 0o644);
  return dir;
}
