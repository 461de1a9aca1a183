// Support for the playback suites: a local cloud with the media routes, streams filled with the fixture
// the device firmware really muxes (H.264, 10 fragments of 1 s, 10 frames each) or a hand-built MJPEG
// stream (what an esp32-cam sends), unmodified SDK clients on the data endpoint, and ffprobe as the judge.
import { CreateStreamCommand, GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { awsClientConfig, type AwsClientConfig } from '../../../../host/aws/awsClientConfig.ts';
import { mediaRoutes } from '../../../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../../../sim/cloud/startCloud.ts';
import type { Faults } from '../../../../sim/cloud/types.ts';
import { concat, header, muxFixture, ROOT, second } from '../kvs/media/mediaKit.ts';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, uploadBody } from '../kvs/media/putMediaClient.ts';

export const run = promisify(execFile);

export interface PlaybackCloud {
  readonly cloud: RunningCloud;
  readonly faults: Faults;
  readonly stateDir: string;
  config(): AwsClientConfig;
  archived(): Promise<KinesisVideoArchivedMediaClient>;
  /** Creates `stream` and PutMedia's `body` into it (ACKs awaited). */
  fill(stream: string, body: Uint8Array, retentionHours?: number): Promise<void>;
  /** PutMedia's `body` into an existing stream (ACKs awaited). */
  upload(stream: string, body: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function playbackCloud(): Promise<PlaybackCloud> {
  const stateDir = mkdtempSync(join(tmpdir(), 'fieldcam-playback-'));
  const faults: Faults = {};
  const cloud = await startCloud({ stateDir, routes: mediaRoutes, faults });
  const config = (): AwsClientConfig =>
    awsClientConfig({
      region: REGION,
      endpointUrl: cloud.endpoint,
      caBundle: cloud.caFile,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    });
  let dataEndpoint: string | undefined;
  return {
    cloud,
    faults,
    stateDir,
    config,
    async archived() {
      if (!dataEndpoint) {
        const control = new KinesisVideoClient(config());
        try {
          // GetDataEndpoint for GET_HLS_STREAMING_SESSION_URL: the same data endpoint serves every archived API here.
          dataEndpoint = (await control.send(new GetDataEndpointCommand({ StreamName: 'porch', APIName: 'GET_HLS_STREAMING_SESSION_URL' }))).DataEndpoint!;
        } finally {
          control.destroy();
        }
      }
      return new KinesisVideoArchivedMediaClient({ ...config(), endpoint: dataEndpoint });
    },
    async fill(stream, body, retentionHours = 24) {
      const control = new KinesisVideoClient(config());
      try {
        await control.send(new CreateStreamCommand({ StreamName: stream, DataRetentionInHours: retentionHours }));
      } finally {
        control.destroy();
      }
      const upload = await uploadBody(cloud.endpoint, cloud.caPem, stream, body);
      upload.destroy();
    },
    async upload(stream, body) {
      (await uploadBody(cloud.endpoint, cloud.caPem, stream, body)).destroy();
    },
    async close() {
      await cloud.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The fixture as a device sends it, starting at producer time `t0` (10 fragments of 1 s, 10 frames each). */
export function h264Body(t0: number): Uint8Array {
  return muxFixture({ startTimecode: t0 });
}

/** An esp32-cam style stream: V_MJPEG track 1, `seconds` fragments of 10 frames. */
export function mjpegBody(t0: number, seconds = 3): Uint8Array {
  return concat([header(), ...Array.from({ length: seconds }, (_, i) => second(t0 + i * 1000))]);
}

/** GET `url` from the cloud (trusting its CA): status, headers and body bytes. */
export function fetchBytes(cloud: RunningCloud, url: string): Promise<{ status: number; type: string; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const req = request(url, { ca: cloud.caPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), headers: res.headers }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

/** Frames ffprobe decodes from `input` (a file or an HLS URL): nb_read_frames of the first video stream. */
export async function decodedFrames(input: string): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', input],
    { timeout: 30_000 },
  );
  return Number(stdout.trim().split('\n')[0]);
}

/** `fieldcam <args>` against the cloud, credentials and CA from the environment as the AWS CLI reads them. */
export function cli(cloud: RunningCloud, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), ...args, '--endpoint-url', cloud.endpoint, '--region', REGION], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_CA_BUNDLE: cloud.caFile,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_PROFILE: '',
      ...env,
    },
    timeout: 30_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );
}

/** A temporary directory removed by the returned function. */
export function workDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-playback-out-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
