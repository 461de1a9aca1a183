import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import { awsClientConfig } from '../aws/awsClientConfig.ts';
import { EXIT } from '../lib/CliError.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { provisionClients } from '../lib/provision/ProvisionContext.ts';
import { parseCsr, type Csr } from '../lib/provision/deviceCertificate.ts';
import { awsCall } from '../lib/provision/awsCall.ts';
import { parseCameraList } from '../lib/provision/parseCameraList.ts';
import { parseCameraFlags, readCameraUrls, type CameraFlag } from '../lib/provision/parseCameraFlags.ts';
import { cameraUrlFile } from '../shared/cameraSource.ts';
import { recordingFromFlags } from '../lib/provision/recordingFlags.ts';
import { camerasToWrite, provisionDevice, type DeviceResult, type DeviceTarget } from '../lib/provision/provisionDevice.ts';
import {
  CREDENTIAL_DURATION_SECONDS,
  DEFAULT_RETENTION_HOURS,
  DEFAULT_ROLE_ALIAS,
  roleAllowsStream,
  ROLE_POLICY_NAME,
  STREAM_NAME,
} from '../lib/provision/provisionNames.ts';
import { cameraStreamName, MAX_CAMERAS, ROLE_ALIAS, THING_NAME } from '../../firmware/core/iot/iotNames.ts';
import { provisionShared } from '../lib/provision/provisionShared.ts';
import { ProvisionSteps, type Step } from '../lib/provision/ProvisionSteps.ts';
import { describePrefixOverlap, listFieldcamThings, PREFIX_OVERLAP_FIX, prefixOverlaps } from '../lib/provision/thingPrefixOverlap.ts';
import type { Command } from './fieldcam.ts';

const spec: CommandSpec = {
  name: 'provision',
  usage:
    'provision (--thing <name> [--csr FILE] | --count N --prefix P) [--stream <name> | --cameras N|a,b,… | --camera NAME[=SOURCE][,codec=C][,fps=N][,bitrate=KBPS] … [--camera-url-file NAME=FILE …]] [--recording continuous|event [--pre T] [--post T] [--trigger PATH]] [--out DIR] [--region R] [--retention-hours N] [--credential-duration S] [--ca-file PEM] [--dry-run] [--json]',
  summary:
    'Creates what a camera needs in AWS IoT, IAM and Kinesis Video Streams — thing type, thing, IAM role and\n' +
    'policy, role alias, IoT policy, certificate and key, attachments, stream — and writes its device bundle\n' +
    '(docs/device-bundle.md). Idempotent: a re-run creates nothing twice, repairs what is missing and updates\n' +
    'what differs (policy documents; retention and credential duration when their flags are given).\n' +
    'Credentials, region and AWS_CA_BUNDLE are read as the AWS CLI reads them.',
  options: {
    thing: { type: 'string', value: 'name', help: 'the IoT thing (1-128 of a-z A-Z 0-9 : _ -)' },
    stream: { type: 'string', value: 'name', help: 'the KVS stream of a one-camera device (default: the thing name; the role policy allows it and <thing>-*)' },
    cameras: {
      type: 'string',
      value: 'N|a,b,…',
      help: `a device with several cameras: N (cam1…camN) or their names (1-32 of a-z 0-9 _ -), at most ${MAX_CAMERAS}; one stream <thing>-<camera> each`,
    },
    camera: {
      type: 'string',
      value: 'NAME[=SOURCE][,codec=C][,fps=N][,bitrate=KBPS]',
      multiple: true,
      help:
        'one camera of a device with several, in fd order, with what flash needs to start it: SOURCE as flash --camera-source takes it ' +
        '(rpicam[:software][:N], v4l2[:/dev/videoN[:mjpeg|h264|yuyv422]], rtsp, mjpeg-http), codec, fps, and bitrate (kbit/s; sizes its pool); ' +
        "absent ones: the board's. A camera given by name only keeps what the bundle has for it",
    },
    'camera-url-file': {
      type: 'string',
      value: 'NAME=FILE',
      multiple: true,
      help: "an rtsp or mjpeg-http camera's URL (one line; never on the command line: it may hold a password), kept in the bundle as camera-url-NAME (0600)",
    },
    recording: {
      type: 'string',
      value: 'mode',
      help: "the bundle's recording mode: continuous (every fragment) or event (clips around events, docs/events.md); default: what the bundle has, else continuous",
    },
    pre: {
      type: 'string',
      value: 'T',
      help: "with --recording event: pre-roll kept, e.g. 10s (default 10s; the board's pool limits it, checked by flash and at boot)",
    },
    post: { type: 'string', value: 'T', help: 'with --recording event: video after an event that names none, e.g. 20s, at most 10m (default 20s)' },
    trigger: { type: 'string', value: 'PATH', help: 'with --recording event: the local trigger FIFO on the device (absolute path, e.g. /run/fieldcam/events)' },
    count: { type: 'string', value: 'N', help: 'provision a fleet of N things named <prefix>001…; bundles in <out>/<thing>/' },
    prefix: { type: 'string', value: 'P', help: 'thing name prefix of a fleet (e.g. cam-)' },
    out: { type: 'string', value: 'DIR', help: 'bundle directory (default ./<thing>); with --count, the parent of one per thing (default .)' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION / profile)' },
    'retention-hours': {
      type: 'string',
      value: 'N',
      help: `stream retention (default ${DEFAULT_RETENTION_HOURS} for a stream it creates; given, existing streams are updated to it; 0 disables PERSISTED acks)`,
    },
    'credential-duration': {
      type: 'string',
      value: 'S',
      help: `role alias credential duration, 900-43200 s (default ${CREDENTIAL_DURATION_SECONDS} for an alias it creates; given, an existing alias is updated to it)`,
    },
    'role-alias': { type: 'string', value: 'name', help: `IoT role alias (default ${DEFAULT_ROLE_ALIAS})` },
    csr: {
      type: 'string',
      value: 'FILE',
      help: 'a PEM CSR made on the device: its key is certified (CreateCertificateFromCsr) and never leaves it; no private.key in the bundle',
    },
    'ca-file': { type: 'string', value: 'PEM', help: "root CA for the bundle's ca.pem (AWS: AmazonRootCA1.pem; default: AWS_CA_BUNDLE)" },
    'endpoint-url': { type: 'string', value: 'URL', help: "IoT, IAM and KVS endpoint (e.g. the local cloud); also the bundle's KVS endpoint" },
    profile: { type: 'string', value: 'name', help: 'AWS profile (default: AWS_PROFILE)' },
    'dry-run': { type: 'boolean', help: 'print the plan (would create / exists / would repair / would update) and change nothing' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  details:
    'Real AWS cannot hand out its root CA here: download https://www.amazontrust.com/repository/AmazonRootCA1.pem\n' +
    'and pass --ca-file; no bundle is written without a CA.\n\n' +
    'With --csr (one thing only) the bundle gets certificate.pem and ca.pem but no private.key: whoever holds the\n' +
    'key places it in the bundle as private.key (0600); until then fieldcam doctor reports it missing.\n\n' +
    'With --cameras the device runs several cameras under one certificate: each streams to <thing>-<camera>, which\n' +
    'the role policy allows beside <thing> (stream/${credentials-iot:ThingName}-*), and device.cbor lists them.\n' +
    "So thing 'a' also reaches the streams of a thing 'a-b': provision warns when one thing name is another's\n" +
    'followed by \'-\' (docs/cli.md, "Several cameras per device").\n\n' +
    'With --camera (repeated, in the order of their descriptors) each camera is written with its source, codec, frame\n' +
    "rate and bitrate into device.cbor's cameras, checked by the rules flash and the device apply (one parser of the\n" +
    'source text; two cameras on one source refused), so `fieldcam flash` needs no hand edits. An rtsp/mjpeg-http\n' +
    "camera's URL comes from --camera-url-file NAME=FILE into the bundle's camera-url-NAME (0600).\n\n" +
    'examples (local cloud, AWS_CA_BUNDLE=<state>/ca.pem):\n' +
    '  fieldcam provision --thing cam-1 --endpoint-url https://127.0.0.1:4590\n' +
    '  fieldcam provision --thing gate --cameras front,back --endpoint-url https://127.0.0.1:4590\n' +
    '  fieldcam provision --thing gate --camera front=rpicam:0 --camera yard=v4l2:/dev/video1,bitrate=1500 \\\n' +
    '      --camera door=rtsp,codec=h265 --camera-url-file door=door.url\n' +
    '  fieldcam provision --thing yard --recording event --pre 10s --post 20s --trigger /run/fieldcam/events\n' +
    '  fieldcam provision --count 25 --prefix cam- --out fleet --endpoint-url https://127.0.0.1:4590',
};

/** Fleet steps run this many things at once: fast, and well inside the IoT and KVS control-plane quotas. */
const CONCURRENCY = 4;

/** --cameras or --camera, checked before any AWS call: PROVISION_CAMERA_INVALID names a bad name, source, codec or number. */
function cameraList(values: Record<string, unknown>): readonly CameraFlag[] | undefined {
  const raw = values.cameras;
  const each = (values.camera as string[] | undefined) ?? [];
  if (raw === undefined && each.length === 0) {
    if (values['camera-url-file'] !== undefined)
      throw new FieldcamError('CLI_USAGE', 'provision: --camera-url-file goes with --camera NAME=rtsp (or mjpeg-http)');
    return undefined;
  }
  if (raw !== undefined && each.length > 0)
    throw new FieldcamError('CLI_USAGE', 'provision: give --cameras (names) or --camera (one per camera, with its source), not both');
  if (raw !== undefined && typeof raw !== 'string') throw new FieldcamError('CLI_USAGE', 'provision: --cameras needs N or a list of names');
  if (values.stream !== undefined)
    throw new FieldcamError(
      'CLI_USAGE',
      'provision: --stream names the one stream of a one-camera device; with --cameras each camera streams to <thing>-<camera>',
    );
  if (raw !== undefined) return parseCameraList(raw).map((name) => Object.freeze({ entry: Object.freeze({ name }), given: false }));
  return parseCameraFlags(each);
}

/** Every camera's stream of `thing` must be a KVS stream name (a ':' in the thing name is not). */
function withCameras(target: Omit<DeviceTarget, 'cameras'>, cameras: readonly CameraFlag[] | undefined): DeviceTarget {
  if (cameras === undefined) return target;
  const bad = cameras.map((c) => cameraStreamName(target.thing, c.entry.name)).find((name) => !STREAM_NAME.test(name));
  if (bad !== undefined)
    throw new FieldcamError(
      'CLI_USAGE',
      `provision: '${bad}' is not a stream name (1-256 of a-z A-Z 0-9 _ . -): a thing with cameras needs a name without ':'`,
    );
  return { ...target, cameras };
}

function targets(values: Record<string, unknown>): DeviceTarget[] {
  const thing = values.thing;
  const countRaw = values.count;
  if (thing !== undefined && countRaw !== undefined) throw new FieldcamError('CLI_USAGE', 'provision: give --thing or --count, not both');
  const cameras = cameraList(values);
  if (countRaw !== undefined) {
    const count = numberFlag(spec, 'count', countRaw, 1, 10_000)!;
    if (!Number.isInteger(count)) throw new FieldcamError('CLI_USAGE', 'provision: --count must be a whole number');
    const prefix = values.prefix;
    if (typeof prefix !== 'string' || prefix === '') throw new FieldcamError('CLI_USAGE', 'provision: --count needs --prefix (e.g. --prefix cam-)');
    if (values.stream !== undefined) throw new FieldcamError('CLI_USAGE', 'provision: --stream names one stream; a fleet streams to its thing names');
    // Each device's IP camera has its own address: a fleet's URLs go into each bundle's camera-url-<camera> before flashing.
    if (values['camera-url-file'] !== undefined)
      throw new FieldcamError(
        'CLI_USAGE',
        "provision: --camera-url-file is one device's camera address; with --count, put each URL in <thing>/camera-url-<camera>",
      );
    const width = Math.max(3, String(count).length);
    const out = resolve(typeof values.out === 'string' ? values.out : '.');
    return Array.from({ length: count }, (_, i) => {
      const name = `${prefix}${String(i + 1).padStart(width, '0')}`;
      if (!THING_NAME.test(name)) throw new FieldcamError('CLI_USAGE', `provision: '${name}' is not a thing name (1-128 of a-z A-Z 0-9 : _ -)`);
      return withCameras({ thing: name, stream: name, dir: join(out, name) }, cameras);
    });
  }
  if (typeof thing !== 'string' || !THING_NAME.test(thing)) {
    throw new FieldcamError('CLI_USAGE', 'provision: --thing <name> (1-128 of a-z A-Z 0-9 : _ -) or --count N --prefix P is required');
  }
  if (values.prefix !== undefined) throw new FieldcamError('CLI_USAGE', 'provision: --prefix goes with --count');
  const stream = typeof values.stream === 'string' ? values.stream : thing;
  if (!STREAM_NAME.test(stream)) throw new FieldcamError('CLI_USAGE', `provision: --stream '${stream}' is not a stream name (1-256 of a-z A-Z 0-9 _ . -)`);
  const dir = resolve(typeof values.out === 'string' ? values.out : thing);
  const target = withCameras({ thing, stream, dir }, cameras);
  if (!cameras) return [target];
  const urls = readCameraUrls((values['camera-url-file'] as string[] | undefined) ?? [], camerasToWrite(dir, cameras), (name) =>
    existsSync(join(dir, cameraUrlFile(name))),
  );
  return [urls.size > 0 ? { ...target, cameraUrls: urls } : target];
}

function readCsr(values: Record<string, unknown>): Csr | undefined {
  const file = values.csr;
  if (file === undefined) return undefined;
  if (typeof file !== 'string') throw new FieldcamError('CLI_USAGE', 'provision: --csr needs a file');
  if (values.count !== undefined)
    throw new FieldcamError('CLI_USAGE', "provision: --csr is for one thing (--thing); a CSR holds one device's key, not a fleet's");
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `provision: the CSR file ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    return parseCsr(pem);
  } catch (err) {
    throw new FieldcamError('CLI_USAGE', `provision: ${file} is not a PEM certificate signing request (PKCS#10): ${(err as Error).message}`);
  }
}

function readCa(values: Record<string, unknown>, dryRun: boolean): string | undefined {
  const file = typeof values['ca-file'] === 'string' ? values['ca-file'] : process.env.AWS_CA_BUNDLE?.trim() || undefined;
  if (file === undefined) {
    if (dryRun) return undefined;
    throw new FieldcamError('PROVISION_NO_CA', "no CA for the bundle's ca.pem: pass --ca-file (AWS_CA_BUNDLE is unset); nothing was created");
  }
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FieldcamError('PROVISION_NO_CA', `the CA file ${file} cannot be read: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new FieldcamError('PROVISION_NO_CA', `the CA file ${file} holds no PEM certificate`);
  return pem;
}

/** Runs `work` over `items`, `limit` at a time, in order of completion. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, done: (result: R) => void): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
      done(results[i]!);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A warning of the run about one thing: what is wrong and how to end it (`warnings` in --json). */
interface Warning {
  readonly thing: string;
  readonly message: string;
  readonly fix: string;
}

/**
 * What the run warns of: a `--stream` the role policy does not allow (the device would be refused), and the
 * things whose names overlap another fieldcam thing's as `<name>-` (the caveat of the role policy's `-*`
 * pattern, thingPrefixOverlap.ts), among the account's things and this run's (a dry run has not created them).
 */
async function runWarnings(iot: Parameters<typeof listFieldcamThings>[0], run: readonly DeviceTarget[]): Promise<Warning[]> {
  const out: Warning[] = [];
  for (const t of run) {
    if (t.cameras || roleAllowsStream(t.thing, t.stream)) continue;
    out.push({
      thing: t.thing,
      message: `stream '${t.stream}' is neither '${t.thing}' nor '${t.thing}-…', which is all the role policy allows: KVS will refuse the device (AccessDeniedException)`,
      fix: `leave out --stream (the stream is then '${t.thing}'), use --cameras for a device with several, or allow the stream in the role policy ${ROLE_POLICY_NAME} yourself`,
    });
  }
  const overlapOf = prefixOverlaps([...(await awsCall('ListThings', () => listFieldcamThings(iot))), ...run.map((t) => t.thing)]);
  for (const { thing } of run) {
    const message = describePrefixOverlap(thing, overlapOf(thing));
    if (message !== undefined) out.push({ thing, message, fix: PREFIX_OVERLAP_FIX });
  }
  return out;
}

function stepLines(steps: readonly Step[]): string[] {
  const w0 = Math.max(...steps.map((s) => s.resource.length));
  const w1 = Math.max(...steps.map((s) => s.name.length));
  return steps.map((s) => `  ${s.resource.padEnd(w0)}  ${s.name.padEnd(w1)}  ${s.action}${s.detail ? ` (${s.detail})` : ''}`);
}

function bundleLine(r: DeviceResult, dryRun: boolean): string {
  if (r.bundleFiles.length === 0) return `  bundle ${r.bundleDir}: up to date`;
  return `  bundle ${r.bundleDir}: ${dryRun ? 'would write' : 'wrote'} ${r.bundleFiles.join(', ')}`;
}

export const provisionCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const csr = readCsr(values);
    const recording = recordingFromFlags(values);
    const list = targets(values).map((t) => (recording ? { ...t, recording } : t));
    const dryRun = values['dry-run'] === true;
    const retentionGiven = values['retention-hours'] !== undefined;
    const retentionHours = numberFlag(spec, 'retention-hours', values['retention-hours'], 0, 87_600) ?? DEFAULT_RETENTION_HOURS;
    if (!Number.isInteger(retentionHours)) throw new FieldcamError('CLI_USAGE', 'provision: --retention-hours must be a whole number');
    // CreateRoleAlias / UpdateRoleAlias: credentialDurationSeconds 900-43200.
    const credentialDurationGiven = values['credential-duration'] !== undefined;
    const credentialDurationSeconds = numberFlag(spec, 'credential-duration', values['credential-duration'], 900, 43_200) ?? CREDENTIAL_DURATION_SECONDS;
    if (!Number.isInteger(credentialDurationSeconds))
      throw new FieldcamError('CLI_USAGE', 'provision: --credential-duration must be a whole number of seconds (900-43200)');
    const roleAlias = typeof values['role-alias'] === 'string' ? values['role-alias'] : DEFAULT_ROLE_ALIAS;
    if (!ROLE_ALIAS.test(roleAlias))
      throw new FieldcamError('CLI_USAGE', `provision: --role-alias '${roleAlias}' is not a role alias name (1-128 of \\w = , @ -)`);
    const caPem = readCa(values, dryRun);
    const endpointUrl = typeof values['endpoint-url'] === 'string' ? values['endpoint-url'] : undefined;
    const config = awsClientConfig({
      ...(typeof values.region === 'string' ? { region: values.region } : {}),
      ...(endpointUrl !== undefined ? { endpointUrl } : {}),
      ...(typeof values.profile === 'string' ? { profile: values.profile } : {}),
    });
    if (!config.region) throw new FieldcamError('CLI_USAGE', 'provision: no region: pass --region or set AWS_REGION');
    const clients = provisionClients(config);
    const fleet = values.count !== undefined;
    try {
      const shared = new ProvisionSteps(dryRun);
      const ctx = await provisionShared(
        {
          clients,
          region: config.region,
          roleAlias,
          endpointUrl,
          caPem,
          retentionHours,
          retentionGiven,
          credentialDurationSeconds,
          credentialDurationGiven,
          dryRun,
        },
        shared,
      );
      let finished = 0;
      const results = await pool(
        list,
        CONCURRENCY,
        (t) => provisionDevice(ctx, t, csr),
        (r) => {
          finished++;
          if (fleet && !values.json)
            process.stderr.write(`[${finished}/${list.length}] ${r.thingName}: ${r.created} created, ${r.repaired} repaired, ${r.updated} updated\n`);
        },
      );
      const created = shared.count('created', 'would create') + results.reduce((n, r) => n + r.created, 0);
      const repaired = shared.count('repaired', 'would repair') + results.reduce((n, r) => n + r.repaired, 0);
      const updated = shared.count('updated', 'would update') + results.reduce((n, r) => n + r.updated, 0);
      const orphaned = results.flatMap((r) => r.orphanedCertificates.map((id) => ({ thing: r.thingName, id })));
      const warnings = await runWarnings(clients.iot, list);
      if (values.json) {
        process.stdout.write(
          JSON.stringify(
            {
              dryRun,
              region: ctx.region,
              account: ctx.account ?? null,
              roleAlias,
              endpoints: ctx.endpoints,
              shared: shared.steps,
              things: results,
              totals: { things: results.length, created, repaired, updated },
              warnings,
            },
            null,
            2,
          ) + '\n',
        );
        return EXIT.OK;
      }
      const out: string[] = [`${dryRun ? 'plan (dry run, nothing changed)' : 'provisioned'}: region ${ctx.region}, account ${ctx.account ?? '(new)'}`];
      out.push(...stepLines(shared.steps));
      out.push(`  endpoints: credentials ${ctx.endpoints.credentialProvider}, MQTT ${ctx.endpoints.iotData}, KVS ${ctx.endpoints.kinesisVideo}`);
      if (!fleet) {
        const r = results[0]!;
        const streams = r.cameras ? `cameras ${r.cameras.map((c) => `${c.name} → ${c.streamName}`).join(', ')}` : `stream ${r.streamName}`;
        out.push(`${r.thingName} (${streams}${recording ? `, recording ${recording.mode}` : ''})`, ...stepLines(r.steps), bundleLine(r, dryRun));
      } else {
        const rows = [
          ['thing', 'created', 'repaired', 'updated', 'certificate', 'bundle'],
          ...results.map((r) => [
            r.thingName,
            String(r.created),
            String(r.repaired),
            String(r.updated),
            r.certificateId?.slice(0, 12) ?? '(new)',
            r.bundleFiles.length === 0 ? 'up to date' : `${dryRun ? 'would write' : 'wrote'} ${r.bundleFiles.length} file(s)`,
          ]),
        ];
        const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
        for (const row of rows)
          out.push(
            row
              .map((cell, c) => cell.padEnd(widths[c]!))
              .join('  ')
              .trimEnd(),
          );
      }
      for (const o of orphaned) {
        out.push(
          `warning: ${o.thing} keeps ACTIVE certificate ${o.id} whose private key is not in its bundle (lost); once no device uses it:`,
          `  aws iot update-certificate --certificate-id ${o.id} --new-status INACTIVE`,
        );
      }
      if (csr && !dryRun) {
        out.push(
          `note: no private.key was written (--csr): place the device's key in ${results[0]!.bundleDir}/private.key (0600); until then fieldcam doctor reports it missing`,
        );
      }
      for (const w of warnings) out.push(`warning: ${w.thing}: ${w.message}`, `  fix: ${w.fix}`);
      if (!caPem) out.push('warning: no CA (--ca-file / AWS_CA_BUNDLE): a real run refuses to write bundles without one');
      out.push(
        `${results.length} thing(s): ${created} ${dryRun ? 'to create' : 'created'}, ${repaired} ${dryRun ? 'to repair' : 'repaired'}, ${updated} ${dryRun ? 'to update' : 'updated'}`,
      );
      process.stdout.write(out.join('\n') + '\n');
      return EXIT.OK;
    } finally {
      clients.destroy();
    }
  },
};
