// The pre-flight checks of `fieldcam doctor` (user-needs.md row 4): each a row with PASS/FAIL, a plain cause
// and a fix, in the order a device meets them at boot — files, configuration, key, certificate, CA, clock,
// endpoint, the credentials call, the stream (each camera's, for a device with several), the fleet's thing names.
import { DescribeEndpointCommand, DescribeRoleAliasCommand, IoTClient } from '@aws-sdk/client-iot';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import type { AwsClientConfig } from '../../aws/awsClientConfig.ts';
import { isNotFound } from '../provision/awsCall.ts';
import { keyMatchesCertificate } from '../provision/deviceCertificate.ts';
import { validateBundle } from '../flash/flashTree.ts';
import { readBundle } from './readBundle.ts';
import { REPROVISION_FIX } from './reprovisionFix.ts';
import { streamRows } from './streamRows.ts';
import { thingNamesRow } from './thingNamesRow.ts';
import { hostHasTool } from './cameraToolsRow.ts';
import { cameraSourceRows } from './cameraSourceRows.ts';
import { spoolDirRow } from './spoolDirRow.ts';
import { loadBoardManifest } from '../../shared/loadBoardManifest.ts';
import { cameraStreamName } from '../../../firmware/core/iot/iotNames.ts';
import type { DeviceDocument } from '../writeBundle.ts';
import { httpsRequest, SERVER_VERIFY_CODES, type HttpsAnswer, type HttpsFailure } from './probeHttps.ts';

/** WARN: the device boots, but something it needs is missing (e.g. its camera tool); exit 0, with a fix. */
export type CheckStatus = 'PASS' | 'FAIL' | 'SKIP' | 'WARN';

export interface CheckRow {
  readonly check: string;
  readonly status: CheckStatus;
  readonly cause: string;
  readonly fix?: string;
}

export interface DoctorOptions {
  readonly dir: string;
  /** Configuration of an IoT client (credentials, --endpoint-url) for DescribeEndpoint; undefined: no AWS access. */
  readonly aws: AwsClientConfig | undefined;
  /** Largest tolerated difference between the local clock and the server's Date, ms. */
  readonly maxSkewMs?: number;
  readonly now?: () => number;
  /** A board manifest (`--board`): the bundle is also read by the device's own reader for that board. */
  readonly board?: { readonly name: string; readonly manifest: string };
  /** The device's spool folder (`--spool DIR`); default `spool` beside the bundle (checked with `board`). */
  readonly spoolDir?: string;
}

function splitPem(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}

function isFailure(a: HttpsAnswer | HttpsFailure): a is HttpsFailure {
  return 'error' in a;
}

/**
 * What an answer says, for a verdict: its `message`, else the names of its fields, else its first 200
 * characters when it is not JSON. Never the JSON itself: an answer from the credentials endpoint can hold a
 * secret key and a session token, which fieldcam never prints (issue 11 item 18).
 */
function messageOf(body: string): string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return body.slice(0, 200);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return `a JSON ${Array.isArray(json) ? 'array' : json === null ? 'null' : typeof json}`;
  const { message, Message } = json as { message?: unknown; Message?: unknown };
  if (typeof message === 'string') return message;
  if (typeof Message === 'string') return Message;
  const fields = Object.keys(json);
  return `a JSON object with ${fields.length === 0 ? 'no fields' : `the fields ${fields.slice(0, 8).join(', ')}`}`;
}

function formatSkew(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s >= 86_400 * 365) return `${(s / (86_400 * 365.25)).toFixed(1)} years`;
  if (s >= 3600) {
    // Whole minutes, rounded: the Date header has one-second resolution, so 2 h of skew reads as 7199.x s.
    const minutes = Math.round(s / 60);
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/** The credentials call's failure as cause and fix, one per refusal AWS gives (kvs-reference.md §9.2). */
function credentialsVerdict(a: HttpsAnswer | HttpsFailure, thing: string, alias: string): CheckRow {
  const check = 'credentials call';
  if (isFailure(a)) {
    const code = a.error.code ?? '';
    if (SERVER_VERIFY_CODES.has(code)) {
      return {
        check,
        status: 'FAIL',
        cause: `ca.pem does not verify the credentials endpoint's certificate (${code})`,
        fix: "put the CA of this endpoint in ca.pem: Amazon Root CA 1 on AWS, the local cloud's ca.pem in the simulator",
      };
    }
    if (/alert|handshake|ECONNRESET|EPIPE/i.test(`${code} ${a.error.message}`)) {
      return {
        check,
        status: 'FAIL',
        cause: `the endpoint refused the device certificate in the TLS handshake (${a.error.message})`,
        fix: "the certificate was not issued by this account's AWS IoT (another account, region or cloud): provision the device again against this one",
      };
    }
    return {
      check,
      status: 'FAIL',
      cause: `the credentials endpoint cannot be reached: ${code || a.error.message}`,
      fix: 'check endpoints.credentialProvider and the network (DNS, firewall, port 443)',
    };
  }
  if (a.status === 200) {
    try {
      const c = (JSON.parse(a.body) as { credentials?: { accessKeyId?: string; expiration?: string } }).credentials;
      if (c?.accessKeyId) return { check, status: 'PASS', cause: `temporary credentials ${c.accessKeyId.slice(0, 8)}… until ${c.expiration ?? '?'}` };
    } catch {
      // fall through: not the provider's answer
    }
  }
  const message = messageOf(a.body);
  if (a.status === 403 && /Certificate is invalid/i.test(message)) {
    return {
      check,
      status: 'FAIL',
      cause: `"${message}": the certificate is revoked, inactive or unknown to this account`,
      fix: "aws iot describe-certificate --certificate-id <id>; if REVOKED or deleted, remove the bundle's certificate.pem and private.key and provision again",
    };
  }
  if (a.status === 403 && /Invalid thing name/i.test(message)) {
    return {
      check,
      status: 'FAIL',
      cause: `"${message}": the certificate is not attached to thing '${thing}' (or thingName is wrong)`,
      fix: `aws iot attach-thing-principal --thing-name ${thing} --principal <certificate ARN>, or ${REPROVISION_FIX}`,
    };
  }
  if (a.status === 403 && /Access Denied/i.test(message)) {
    return {
      check,
      status: 'FAIL',
      cause: `"${message}": no IoT policy on the certificate allows iot:AssumeRoleWithCertificate on role alias '${alias}'`,
      fix: `attach a policy allowing it (aws iot attach-policy), or ${REPROVISION_FIX}`,
    };
  }
  if (a.status === 404 && a.errorType !== 'UnknownOperationException') {
    return {
      check,
      status: 'FAIL',
      cause: `role alias '${alias}' does not exist in this account and region ("${message}")`,
      fix: `fix roleAlias in device.cbor (aws iot list-role-aliases), or ${REPROVISION_FIX}`,
    };
  }
  if (a.status === 400) {
    return {
      check,
      status: 'FAIL',
      cause: `the role alias's role cannot be assumed ("${message}")`,
      fix: 'the role must exist, trust credentials.iot.amazonaws.com, and allow a MaxSessionDuration ≥ the alias duration',
    };
  }
  if (a.status === 429 || a.status >= 500) {
    return {
      check,
      status: 'FAIL',
      cause: `the credentials provider is unavailable (${a.status} "${message}")`,
      fix: 'try again later; the device retries with backoff and buffers frames meanwhile',
    };
  }
  return {
    check,
    status: 'FAIL',
    cause: `endpoints.credentialProvider did not answer as the IoT credentials provider (${a.status} ${a.errorType ?? ''} "${message}")`,
    fix: 'set it to the address of `aws iot describe-endpoint --endpoint-type iot:CredentialProvider`',
  };
}

async function endpointTypeRow(credentialProvider: string, aws: AwsClientConfig | undefined, region: string): Promise<CheckRow> {
  const check = 'endpoint type';
  if (aws) {
    const iot = new IoTClient({ ...aws, region });
    try {
      const [cp, data] = await Promise.all(['iot:CredentialProvider', 'iot:Data-ATS'].map((t) => iot.send(new DescribeEndpointCommand({ endpointType: t }))));
      const expected = cp!.endpointAddress;
      if (credentialProvider === expected) return { check, status: 'PASS', cause: `${credentialProvider} is this account's iot:CredentialProvider endpoint` };
      if (credentialProvider === data!.endpointAddress) {
        return {
          check,
          status: 'FAIL',
          cause: `endpoints.credentialProvider ${credentialProvider} is the iot:Data-ATS (MQTT) endpoint, not iot:CredentialProvider`,
          fix: `set it to ${expected} (aws iot describe-endpoint --endpoint-type iot:CredentialProvider)`,
        };
      }
      return {
        check,
        status: 'FAIL',
        cause: `endpoints.credentialProvider ${credentialProvider} is not this account's credentials endpoint (${expected})`,
        fix: `set it to ${expected}, or check the region and account`,
      };
    } catch {
      // no AWS access from here: judge by the name, then by the credentials call
    } finally {
      iot.destroy();
    }
  }
  if (/\.credentials\.iot\.[a-z0-9-]+\.amazonaws\.com(:\d+)?$/.test(credentialProvider))
    return { check, status: 'PASS', cause: `${credentialProvider} is named like an iot:CredentialProvider endpoint` };
  if (/-ats\.iot\.[a-z0-9-]+\.amazonaws\.com(:\d+)?$/.test(credentialProvider)) {
    return {
      check,
      status: 'FAIL',
      cause: `endpoints.credentialProvider ${credentialProvider} is an iot:Data-ATS (MQTT) endpoint`,
      fix: 'use the address of `aws iot describe-endpoint --endpoint-type iot:CredentialProvider` (<prefix>.credentials.iot.<region>.amazonaws.com)',
    };
  }
  return { check, status: 'SKIP', cause: 'no AWS credentials to ask DescribeEndpoint; the credentials call below tells' };
}

/** Whether the alias exists; true when it cannot be told (no access), so the policy cause stands. */
async function roleAliasExists(aws: AwsClientConfig, region: string, alias: string): Promise<boolean> {
  const iot = new IoTClient({ ...aws, region });
  try {
    await iot.send(new DescribeRoleAliasCommand({ roleAlias: alias }));
    return true;
  } catch (err) {
    return !isNotFound(err);
  } finally {
    iot.destroy();
  }
}

/**
 * The bundle as the device reads it at boot on `board` (firmware/app/DeviceBundle.ts, through flash's
 * validateBundle, which adds the board's camera codec): doctor then cannot pass a bundle the device refuses.
 */
function deviceReaderRow(dir: string, board: { readonly name: string; readonly manifest: string }): CheckRow {
  const check = `device reader (${board.name})`;
  try {
    validateBundle(dir, board.manifest);
    return { check, status: 'PASS', cause: `the ${board.name} firmware reads the bundle` };
  } catch (err) {
    return {
      check,
      status: 'FAIL',
      cause: (err as Error).message,
      fix: `provision the bundle for the ${board.name} board (or name the board it was made for)`,
    };
  }
}

/** `stream X`, or `cameras a → X-a, b → X-b` for a device with several. */
function streamsOf(config: DeviceDocument): string {
  if (!config.cameras) return `stream ${config.streamName ?? config.thingName}`;
  return `cameras ${config.cameras.map((c) => `${c.name} → ${cameraStreamName(config.thingName, c.name)}`).join(', ')}`;
}

export async function runDoctor(o: DoctorOptions): Promise<CheckRow[]> {
  const now = o.now ?? Date.now;
  const rows: CheckRow[] = [];
  const b = readBundle(o.dir);
  rows.push(
    b.missing.length === 0
      ? { check: 'bundle files', status: 'PASS', cause: 'device.cbor, certificate.pem, private.key and ca.pem are present' }
      : { check: 'bundle files', status: 'FAIL', cause: `missing in ${o.dir}: ${b.missing.join(', ')}`, fix: REPROVISION_FIX },
  );
  rows.push(
    b.config
      ? { check: 'device.cbor', status: 'PASS', cause: `version 1: thing ${b.config.thingName}, ${streamsOf(b.config)}, ${b.config.region}` }
      : { check: 'device.cbor', status: 'FAIL', cause: b.configProblem ?? 'unreadable', fix: REPROVISION_FIX },
  );
  if (o.board) {
    const manifest = loadBoardManifest(o.board.name);
    rows.push(
      deviceReaderRow(o.dir, o.board),
      ...cameraSourceRows(manifest, o.dir, hostHasTool, 'this machine'),
      spoolDirRow(o.dir, manifest.spool, o.spoolDir),
    );
  }
  if (b.keyMode !== undefined) {
    rows.push(
      (b.keyMode & 0o077) === 0
        ? { check: 'private key mode', status: 'PASS', cause: `0${b.keyMode.toString(8)}` }
        : {
            check: 'private key mode',
            status: 'FAIL',
            cause: `private.key is 0${b.keyMode.toString(8)}: readable by others`,
            fix: `chmod 600 ${o.dir}/private.key`,
          },
    );
  }
  const { config } = b;
  const certPem = b.text['certificate.pem'];
  const keyPem = b.text['private.key'];
  const caPem = b.text['ca.pem'];
  let cert: X509Certificate | undefined;
  let keyOk = false;
  if (certPem && keyPem) {
    try {
      cert = new X509Certificate(certPem);
      keyOk = keyMatchesCertificate(certPem, keyPem);
      rows.push(
        keyOk
          ? { check: 'certificate/key pair', status: 'PASS', cause: 'private.key is the key of certificate.pem' }
          : {
              check: 'certificate/key pair',
              status: 'FAIL',
              cause: 'private.key is not the key of certificate.pem (their public keys differ)',
              fix: 'copy the key that came with this certificate; if it is lost, remove both files and provision again (a new certificate is made)',
            },
      );
    } catch (err) {
      rows.push({
        check: 'certificate/key pair',
        status: 'FAIL',
        cause: `certificate.pem or private.key is not valid PEM: ${(err as Error).message}`,
        fix: REPROVISION_FIX,
      });
    }
  }
  let cas: X509Certificate[] = [];
  if (caPem) {
    try {
      cas = splitPem(caPem);
    } catch {
      cas = [];
    }
  }
  if (cert && caPem) {
    const issuer = cas.find((ca) => cert!.checkIssued(ca) && cert!.verify(ca.publicKey));
    if (issuer) rows.push({ check: 'certificate issuer', status: 'PASS', cause: `issued by ${issuer.subject.replaceAll('\n', ', ')} (in ca.pem)` });
    else if (/Amazon Web Services/i.test(cert.issuer))
      rows.push({ check: 'certificate issuer', status: 'PASS', cause: 'issued by AWS IoT (ca.pem holds the server roots, as on AWS)' });
    else {
      rows.push({
        check: 'certificate issuer',
        status: 'FAIL',
        cause: `certificate.pem was issued by ${cert.issuer.replaceAll('\n', ', ')}, which no certificate in ca.pem signed${cas.length === 0 ? ' (ca.pem holds no certificate)' : ''}`,
        fix: 'ca.pem belongs to another cloud or account: write the CA of the endpoints this device uses (provision does)',
      });
    }
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    const t = now();
    rows.push(
      t < from
        ? {
            check: 'certificate validity',
            status: 'FAIL',
            cause: `not valid before ${cert.validFrom} (local clock ${new Date(t).toISOString()})`,
            fix: 'set the clock (NTP) or wait',
          }
        : t > to
          ? {
              check: 'certificate validity',
              status: 'FAIL',
              cause: `expired ${cert.validTo}`,
              fix: 'remove certificate.pem and private.key and provision again',
            }
          : { check: 'certificate validity', status: 'PASS', cause: `valid until ${cert.validTo}` },
    );
  }
  if (!config || !certPem || !keyPem || !caPem) return rows;

  // The KVS endpoint with ca.pem: does the CA verify it, and what time does the server say it is?
  const probe = await httpsRequest({ url: config.endpoints.kinesisVideo, ca: caPem, method: 'HEAD' });
  if (isFailure(probe)) {
    const code = probe.error.code ?? '';
    rows.push(
      SERVER_VERIFY_CODES.has(code)
        ? {
            check: 'CA',
            status: 'FAIL',
            cause: `ca.pem does not verify ${config.endpoints.kinesisVideo} (${code})`,
            fix: "put the CA of the endpoints in ca.pem: Amazon Root CA 1 on AWS, the local cloud's ca.pem in the simulator",
          }
        : {
            check: 'CA',
            status: 'FAIL',
            cause: `${config.endpoints.kinesisVideo} cannot be reached: ${code || probe.error.message}`,
            fix: 'check endpoints.kinesisVideo and the network',
          },
    );
  } else {
    rows.push({ check: 'CA', status: 'PASS', cause: `ca.pem verifies ${config.endpoints.kinesisVideo}` });
    const server = probe.date ? Date.parse(probe.date) : NaN;
    if (Number.isNaN(server)) rows.push({ check: 'clock', status: 'SKIP', cause: 'the server sent no Date header' });
    else {
      const skew = now() - server;
      const max = o.maxSkewMs ?? 5 * 60_000;
      rows.push(
        Math.abs(skew) <= max
          ? { check: 'clock', status: 'PASS', cause: `within ${formatSkew(skew)} of the server's Date` }
          : {
              check: 'clock',
              status: 'FAIL',
              cause: `the local clock is ${formatSkew(skew)} ${skew < 0 ? 'behind' : 'ahead of'} the server's Date (${probe.date}); SigV4 allows 5 minutes ("Signature expired")`,
              fix: 'run NTP (timedatectl set-ntp true); the device itself corrects from the Date header',
            },
      );
    }
  }

  rows.push(await endpointTypeRow(config.endpoints.credentialProvider, o.aws, config.region));

  if (!keyOk) return rows;
  const answer = await httpsRequest({
    url: `https://${config.endpoints.credentialProvider}/role-aliases/${encodeURIComponent(config.roleAlias)}/credentials`,
    ca: caPem,
    cert: certPem,
    key: keyPem,
    headers: { 'x-amzn-iot-thingname': config.thingName },
  });
  let verdict = credentialsVerdict(answer, config.thingName, config.roleAlias);
  // The provider checks the IoT policy before the alias, so a misspelt alias reads "Access Denied" (no policy
  // allows an alias that does not exist): ask DescribeRoleAlias when AWS credentials are at hand.
  if (verdict.status === 'FAIL' && / "Access Denied"/.test(` ${verdict.cause}`) && o.aws && !(await roleAliasExists(o.aws, config.region, config.roleAlias))) {
    verdict = {
      check: verdict.check,
      status: 'FAIL',
      cause: `role alias '${config.roleAlias}' does not exist in this account and region (the provider answers "Access Denied": no policy allows a missing alias)`,
      fix: `fix roleAlias in device.cbor (aws iot list-role-aliases), or ${REPROVISION_FIX}`,
    };
  }
  rows.push(verdict);
  if (verdict.status !== 'PASS' || isFailure(answer)) return rows;

  const c = (JSON.parse(answer.body) as { credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } }).credentials;
  const kvs = new KinesisVideoClient({
    region: config.region,
    endpoint: config.endpoints.kinesisVideo,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: caPem }) }),
  });
  try {
    rows.push(...(await streamRows(kvs, config)));
  } finally {
    kvs.destroy();
  }
  rows.push(await thingNamesRow(config.thingName, o.aws, config.region));
  return rows;
}
