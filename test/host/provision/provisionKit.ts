// Helpers of the provision / doctor suites: a local cloud in this process (IoT, IAM, KVS, credentials
// provider), the CLI as an asynchronous child process (the cloud must keep serving), and SDK clients.
import { IAMClient } from '@aws-sdk/client-iam';
import { IoTClient } from '@aws-sdk/client-iot';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud, type StartCloudOptions } from '../../../sim/cloud/startCloud.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startLocalCloud(stateDir: string, options: Partial<StartCloudOptions> = {}): Promise<RunningCloud> {
  return startCloud({ stateDir, port: 0, ...options });
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a CLI child process: only the local cloud's CA, the example keys and the region. */
export function cliEnv(cloud: RunningCloud, cwd: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: cwd,
    AWS_CA_BUNDLE: cloud.caFile,
    AWS_ACCESS_KEY_ID: EXAMPLE_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET_ACCESS_KEY,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  };
}

/** `fieldcam <args>` as a child process, with the local cloud's CA and the example keys. */
export function cli(cloud: RunningCloud, cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), ...args], {
      cwd,
      env: cliEnv(cloud, cwd, env),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

function sdkConfig(cloud: RunningCloud) {
  return {
    region: 'us-east-1',
    endpoint: cloud.endpoint,
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: cloud.caPem }) }),
    maxAttempts: 1,
  };
}

export function clients(cloud: RunningCloud): { iot: IoTClient; iam: IAMClient; kvs: KinesisVideoClient; destroy(): void } {
  const iot = new IoTClient(sdkConfig(cloud));
  const iam = new IAMClient(sdkConfig(cloud));
  const kvs = new KinesisVideoClient(sdkConfig(cloud));
  return {
    iot,
    iam,
    kvs,
    destroy: () => {
      for (const c of [iot, iam, kvs]) c.destroy();
    },
  };
}

/** The JSON a `--json` run printed. */
export interface ProvisionJson {
  dryRun: boolean;
  account: string | null;
  shared: { resource: string; name: string; action: string; detail?: string }[];
  things: {
    thingName: string;
    certificateId?: string;
    bundleFiles: string[];
    created: number;
    repaired: number;
    updated: number;
    steps: { resource: string; action: string; detail?: string }[];
  }[];
  totals: { things: number; created: number; repaired: number; updated: number };
}

/** The credentials provider call a device makes with its bundle (mTLS, x-amzn-iot-thingname). */
export function credentialsCall(bundle: string, thing: string): Promise<{ status: number; body: string }> {
  const config = decodeCbor(readFileSync(join(bundle, 'device.cbor'))) as { roleAlias: string; endpoints: { credentialProvider: string } };
  const [host, port] = config.endpoints.credentialProvider.split(':');
  return new Promise((done, fail) => {
    const req = request(
      {
        host,
        port,
        path: `/role-aliases/${config.roleAlias}/credentials`,
        headers: { 'x-amzn-iot-thingname': thing },
        agent: false,
        ca: readFileSync(join(bundle, 'ca.pem')),
        cert: readFileSync(join(bundle, 'certificate.pem')),
        key: readFileSync(join(bundle, 'private.key')),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}
