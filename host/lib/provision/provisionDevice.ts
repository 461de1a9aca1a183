// One device (kvs-reference.md §13 steps 1, 4, 5, 8, 10): its thing, its IoT policy, its certificate and the
// attachments between them, its KVS stream — or one per camera, `<thing>-<camera>`, for a device with several
// (issue 18) — and its bundle. Idempotent: what exists is left alone, what is missing is created — or repaired,
// when the thing existed (a detached principal, a deleted stream) — and what differs is updated (the IoT
// policy's document, the stream's retention when --retention-hours is given).
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeThingCommand,
  ListAttachedPoliciesCommand,
  ListThingPrincipalsCommand,
} from '@aws-sdk/client-iot';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { cameraStreamName } from '../../../firmware/core/iot/iotNames.ts';
import { cameraUrlFile } from '../../shared/cameraSource.ts';
import {
  bundleFileDiffers,
  BUNDLE_VERSION,
  cameraUrlDiffers,
  encodeDeviceConfig,
  writeBundle,
  writeCameraUrl,
  type BundleFile,
  type CameraEntry,
  type RecordingMap,
} from '../writeBundle.ts';
import type { CameraFlag } from './parseCameraFlags.ts';
import { awsCall, lookup, lookupOrUnsupported } from './awsCall.ts';
import { ensureCertificate, ensureCertificateFromCsr, type Csr } from './deviceCertificate.ts';
import { ensureIotPolicy, findIotPolicy } from './ensureIotPolicy.ts';
import { ensureStream } from './ensureStream.ts';
import type { ProvisionContext } from './ProvisionContext.ts';
import { iotPolicyName, THING_TYPE } from './provisionNames.ts';
import { ProvisionSteps, type Step } from './ProvisionSteps.ts';

/** What to provision for one thing: one stream (`stream`), or one per camera (`cameras`). */
export interface DeviceTarget {
  readonly thing: string;
  /** The one camera's stream; ignored when `cameras` is given. */
  readonly stream: string;
  /**
   * The cameras of a device with several, in fd order (checked by parseCameraList / parseCameraFlags): a camera given
   * by name only keeps what the bundle has for it (source, codec, fps, bitrate), one given with any of them is written as given.
   */
  readonly cameras?: readonly CameraFlag[];
  /** RTSP/HTTP cameras' URLs (provision --camera-url-file), written to the bundle's camera-url-<camera> (0600). */
  readonly cameraUrls?: ReadonlyMap<string, string>;
  /** The bundle directory. */
  readonly dir: string;
  /** device.cbor `recording` (provision --recording); absent: what the bundle already holds, if anything. */
  readonly recording?: RecordingMap;
}

export interface DeviceResult {
  readonly thingName: string;
  /** The one camera's stream; absent for a device with `cameras`. */
  readonly streamName?: string;
  /** The cameras and their streams (cameraStreamName), for a device with several. */
  readonly cameras?: readonly { readonly name: string; readonly streamName: string }[];
  readonly bundleDir: string;
  readonly certificateId: string | undefined;
  readonly steps: readonly Step[];
  /** Bundle files written (or, in a dry run, that would be), camera-url-<camera> files included. */
  readonly bundleFiles: readonly string[];
  readonly created: number;
  readonly repaired: number;
  readonly updated: number;
  /** ACTIVE certificates of the thing without a key in the bundle, left attached (see deviceCertificate.ts). */
  readonly orphanedCertificates: readonly string[];
}

/** The bundle's device.cbor as a previous run wrote it; undefined when there is none or it does not read. */
function bundleDocument(dir: string): { cameras?: unknown; recording?: unknown } | undefined {
  try {
    const bytes = readFileSync(join(dir, 'device.cbor'));
    const doc = decodeCbor(bytes, 0, bytes.length, { maxBytes: 16 * 1024, maxDepth: 4, maxItems: 256, maxStringBytes: 4096 });
    return typeof doc === 'object' && doc !== null ? (doc as { cameras?: unknown; recording?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** The cameras of the bundle's device.cbor as a previous run wrote it, by name; empty when there is none or it does not read. */
function camerasInBundle(dir: string): Map<string, CameraEntry> {
  const doc = bundleDocument(dir);
  const list = Array.isArray(doc?.cameras) ? doc.cameras : [];
  const out = new Map<string, CameraEntry>();
  for (const c of list as (Record<string, unknown> | null)[]) {
    if (typeof c?.name !== 'string') continue;
    // Only the keys provision writes are kept (the writer's CameraEntry); the device's reader judged them when written.
    const keep = ['codec', 'fps', 'bitrateKbps', 'source'].filter((k) => c[k] !== undefined).map((k) => [k, c[k]]);
    out.set(c.name, Object.freeze({ name: c.name, ...Object.fromEntries(keep) }) as CameraEntry);
  }
  return out;
}

/**
 * The recording map a previous run (or a person) wrote, kept as it is when this run gives no --recording: a re-run
 * must not turn an event camera back to continuous. Only a map is kept; the device's reader judges its keys.
 */
function recordingInBundle(dir: string): RecordingMap | undefined {
  const r = bundleDocument(dir)?.recording;
  return typeof r === 'object' && r !== null && !Array.isArray(r) ? (r as RecordingMap) : undefined;
}

/** The cameras to write: each as given, or, named only, as the bundle at `dir` has it (else by name alone). */
export function camerasToWrite(dir: string, flags: readonly CameraFlag[]): CameraEntry[] {
  const inBundle = camerasInBundle(dir);
  return flags.map((c) => (c.given ? c.entry : (inBundle.get(c.entry.name) ?? c.entry)));
}

/** With `csr`, the certificate certifies the CSR's key (CreateCertificateFromCsr) and the bundle gets no private.key. */
export async function provisionDevice(ctx: ProvisionContext, target: DeviceTarget, csr?: Csr): Promise<DeviceResult> {
  const { iot } = ctx.clients;
  const { thing: thingName, dir: bundleDir } = target;
  const cameras = target.cameras?.map(({ entry }) => ({ name: entry.name, streamName: cameraStreamName(thingName, entry.name) }));
  const steps = new ProvisionSteps(ctx.dryRun);

  // First: a policy of another thing under this thing's policy name refuses the thing before anything is made.
  const policy = await findIotPolicy(ctx, thingName);
  const thing = await lookup('DescribeThing', () => iot.send(new DescribeThingCommand({ thingName })));
  const existed = thing !== undefined;
  if (thing) {
    steps.exists('thing', thingName, thing.thingTypeName === THING_TYPE ? undefined : `type ${thing.thingTypeName ?? 'none'}, left as is`);
  } else {
    if (!ctx.dryRun) await awsCall('CreateThing', () => iot.send(new CreateThingCommand({ thingName, thingTypeName: THING_TYPE })));
    steps.changed('thing', thingName, false);
  }

  const policyName = iotPolicyName(thingName);
  await ensureIotPolicy(ctx, thingName, existed, steps, policy);

  const cert = csr ? await ensureCertificateFromCsr(ctx, thingName, bundleDir, csr, steps) : await ensureCertificate(ctx, thingName, bundleDir, steps);
  const certArn = cert.certificateArn;

  // Policy ↔ certificate. ListAttachedPolicies tells whether it is attached; where it is not implemented
  // (the local cloud) AttachPolicy, which is idempotent, is called and reported as `ensured`.
  const attached = certArn
    ? await awsCall('ListAttachedPolicies', () => lookupOrUnsupported(() => iot.send(new ListAttachedPoliciesCommand({ target: certArn, pageSize: 250 }))))
    : undefined;
  const policyAttached = attached !== undefined && attached !== 'unsupported' && (attached.policies ?? []).some((p) => p.policyName === policyName);
  if (policyAttached) {
    steps.exists('policy attachment', `${policyName} → certificate`);
  } else {
    if (!ctx.dryRun) await awsCall('AttachPolicy', () => iot.send(new AttachPolicyCommand({ policyName, target: certArn! })));
    if (attached === 'unsupported' && !cert.created)
      steps.ensured('policy attachment', `${policyName} → certificate`, 'idempotent AttachPolicy; attachments not listable here');
    else steps.changed('policy attachment', `${policyName} → certificate`, !cert.created);
  }

  // Thing ↔ certificate.
  const principals = await lookup('ListThingPrincipals', () => iot.send(new ListThingPrincipalsCommand({ thingName })));
  if (certArn && (principals?.principals ?? []).includes(certArn)) {
    steps.exists('thing principal', `certificate → ${thingName}`);
  } else {
    if (!ctx.dryRun) await awsCall('AttachThingPrincipal', () => iot.send(new AttachThingPrincipalCommand({ thingName, principal: certArn! })));
    steps.changed('thing principal', `certificate → ${thingName}`, !cert.created);
  }

  // One stream per camera; the bundle records the longest retention, which the device gives a stream it creates.
  // A missing camera stream is a repair only if the bundle already listed the camera: a camera added by this
  // run is created.
  const listed = existed && cameras ? camerasInBundle(bundleDir) : new Map<string, CameraEntry>();
  let retentionHours = 0;
  for (const { name, streamName } of cameras ?? [{ name: undefined, streamName: target.stream }]) {
    const repair = name === undefined ? existed : listed.has(name);
    retentionHours = Math.max(retentionHours, await ensureStream(ctx, thingName, streamName, repair, steps, name));
  }

  const recording = target.recording ?? recordingInBundle(bundleDir);
  const files: Partial<Record<BundleFile, string | Uint8Array>> = {
    'device.cbor': encodeDeviceConfig({
      version: BUNDLE_VERSION,
      thingName,
      ...(target.cameras ? { cameras: camerasToWrite(bundleDir, target.cameras) } : { streamName: target.stream }),
      region: ctx.region,
      roleAlias: ctx.roleAlias,
      endpoints: ctx.endpoints,
      retentionHours,
      ...(recording ? { recording } : {}),
    }),
    ...(cert.certificatePem ? { 'certificate.pem': cert.certificatePem } : {}),
    ...(cert.privateKeyPem ? { 'private.key': cert.privateKeyPem } : {}),
    ...(ctx.caPem ? { 'ca.pem': ctx.caPem } : {}),
  };
  const urls = [...(target.cameraUrls ?? [])].map(([camera, url]) => ({ file: cameraUrlFile(camera), url }));
  let bundleFiles: string[];
  if (ctx.dryRun) {
    bundleFiles = (Object.keys(files) as BundleFile[]).filter((name) => bundleFileDiffers(bundleDir, name, files[name]!));
    bundleFiles.push(...urls.filter((u) => cameraUrlDiffers(bundleDir, u.file, u.url)).map((u) => u.file));
  } else {
    bundleFiles = writeBundle(bundleDir, files);
    bundleFiles.push(...urls.filter((u) => writeCameraUrl(bundleDir, u.file, u.url)).map((u) => u.file));
  }
  if (cert.created) bundleFiles.push(...cert.written);
  bundleFiles = [...new Set(bundleFiles)].sort();

  return {
    thingName,
    ...(cameras ? { cameras } : { streamName: target.stream }),
    bundleDir,
    certificateId: cert.certificateId,
    steps: steps.steps,
    bundleFiles,
    created: steps.count('created', 'would create'),
    repaired: steps.count('repaired', 'would repair'),
    updated: steps.count('updated', 'would update'),
    orphanedCertificates: cert.orphaned,
  };
}
