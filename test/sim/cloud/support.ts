// Helpers for the local-cloud suites (Node only): a cloud in a temporary state directory, unmodified SDK
// clients pointed at it, raw signed requests, and an assertion on the errors the SDK raises.
import { Sha256 } from '@aws-crypto/sha256-js';
import { KinesisVideoClient, type KinesisVideoClientConfig } from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud, type StartCloudOptions } from '../../../sim/cloud/startCloud.ts';
import { assert } from '../../harness/index.ts';

export const CREDENTIALS = Object.freeze({ accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY });

export function tempStateDir(prefix = 'fieldcam-cloud-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Events the cloud logged, for assertions on the log. */
export interface LoggedEvent {
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

export async function startTestCloud(stateDir: string, options: Partial<StartCloudOptions> = {}): Promise<RunningCloud & { events: LoggedEvent[] }> {
  const events: LoggedEvent[] = [];
  const cloud = await startCloud({ stateDir, log: (event, fields) => events.push({ event, fields }), ...options });
  return Object.assign(cloud, { events });
}

/** An unmodified SDK v3 client with an endpoint override and the cloud's CA; one attempt unless told. */
export function kvsClient(cloud: RunningCloud, config: Partial<KinesisVideoClientConfig> = {}): KinesisVideoClient {
  return new KinesisVideoClient({
    region: cloud.ctx.config.region,
    endpoint: cloud.endpoint,
    credentials: { ...CREDENTIALS }, // the SDK writes into its credentials object
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: cloud.caPem }) }),
    maxAttempts: 1,
    ...config,
  });
}

interface SdkError {
  name: string;
  message: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

/** Awaits a rejection from the SDK and checks its name, HTTP status and (optionally) message. */
export async function sdkError(promise: Promise<unknown>, name: string, status: number, message?: RegExp): Promise<SdkError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected ${name}, but the call succeeded`);
  const err = caught as SdkError;
  assert.is(err.name, name, `error name (message: ${err.message})`);
  assert.is(err.$metadata?.httpStatusCode, status, `HTTP status of ${name}`);
  if (message) assert.ok(message.test(err.message), `message of ${name} should match ${String(message)}: ${err.message}`);
  return err;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A raw HTTPS request to the cloud, for what the SDK cannot show (headers, bodies, hand-made signatures). */
export function rawRequest(cloud: RunningCloud, method: string, path: string, headers: Record<string, string>, body = ''): Promise<RawResponse> {
  const url = new URL(cloud.endpoint);
  return new Promise((done, fail) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, ca: cloud.caPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * Signs a POST of `body` with @smithy/signature-v4 as a device would, then sends it raw. `unsignable` keeps
 * headers out of SignedHeaders (producer-c leaves x-amz-security-token out); `signable` forces headers in
 * (embedded-C signs user-agent).
 */
export async function signedPost(
  cloud: RunningCloud,
  path: string,
  body: string,
  options: {
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    headers?: Record<string, string>;
    unsignable?: string[];
    signable?: string[];
    signingDate?: Date;
    region?: string;
    service?: string;
    /** Send this body instead of the one signed (a tampered request). */
    sendBody?: string;
    query?: Record<string, string | string[]>;
    /** Send this query string instead of the signed one. */
    sendQuery?: string;
  } = {},
): Promise<RawResponse & { signedHeaders: string[] }> {
  const url = new URL(cloud.endpoint);
  const signer = new SignatureV4({
    service: options.service ?? 'kinesisvideo',
    region: options.region ?? cloud.ctx.config.region,
    credentials: options.credentials ?? CREDENTIALS,
    sha256: Sha256,
    // Devices send no x-amz-content-sha256 header (kvs-reference.md §10.2); the server hashes the body.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: options.query ?? {},
      headers: { host: url.host, 'content-type': 'application/json', ...options.headers },
      body,
    },
    {
      signingDate: options.signingDate ?? new Date(),
      ...(options.unsignable ? { unsignableHeaders: new Set(options.unsignable) } : {}),
      ...(options.signable ? { signableHeaders: new Set(options.signable) } : {}),
    },
  );
  const search =
    options.sendQuery ??
    Object.entries(options.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
      .join('&');
  const response = await rawRequest(cloud, 'POST', search ? `${path}?${search}` : path, signed.headers as Record<string, string>, options.sendBody ?? body);
  const signedHeaders = (/SignedHeaders=([^,]*)/.exec(String(signed.headers.authorization))?.[1] ?? '').split(';');
  return { ...response, signedHeaders };
}
