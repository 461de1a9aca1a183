// The unmodified AWS CLI (botocore's own service model and signer) against the local KVS's playback APIs:
// get-hls-streaming-session-url and get-dash-streaming-session-url (then ffprobe plays the URL), get-clip (an
// MP4 file), get-images.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assert, suite } from '../../../harness/index.ts';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY } from '../kvs/media/putMediaClient.ts';
import { decodedFrames, h264Body, playbackCloud, workDir } from './playbackKit.ts';

const test = suite('sim/cloud playback with the unmodified AWS CLI');
const pc = await playbackCloud();
const out = workDir();
// Whole seconds: botocore sends timestamps of this protocol as whole epoch seconds.
// Debian's AWS CLI v2.9 carries an older model whose GetImages SamplingInterval minimum is 3000 ms (AWS lowered it later).
const T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const exec = promisify(execFile);
/** Debian's AWS CLI, installed by toolchain/setup: by path, so a different `aws` earlier on PATH is not used. */
const AWS_CLI = '/usr/bin/aws';
test.after(async () => {
  await pc.close();
  out.remove();
});

async function aws(args: readonly string[]): Promise<string> {
  const { stdout } = await exec(AWS_CLI, ['kinesis-video-archived-media', ...args, '--endpoint-url', pc.cloud.endpoint, '--output', 'json'], {
    env: {
      ...withoutProfile(process.env),
      AWS_CA_BUNDLE: pc.cloud.caFile,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
    timeout: 30_000,
  });
  return stdout;
}

function withoutProfile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AWS_PROFILE: _p, AWS_DEFAULT_PROFILE: _d, AWS_SESSION_TOKEN: _t, ...rest } = env;
  return rest;
}

const seconds = (ms: number): string => String((T + ms) / 1000);
const range = (from: number, to: number): string =>
  `FragmentSelectorType=PRODUCER_TIMESTAMP,TimestampRange={StartTimestamp=${seconds(from)},EndTimestamp=${seconds(to)}}`;

test('get-hls-streaming-session-url, get-dash-streaming-session-url, get-clip and get-images', async () => {
  await pc.fill('porch', h264Body(T));
  const hls = JSON.parse(
    await aws(['get-hls-streaming-session-url', '--stream-name', 'porch', '--playback-mode', 'ON_DEMAND', '--hls-fragment-selector', range(0, 2000)]),
  ) as { HLSStreamingSessionURL: string };
  assert.ok(hls.HLSStreamingSessionURL.startsWith(`${pc.cloud.endpoint}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=`));
  assert.is(await decodedFrames(hls.HLSStreamingSessionURL), 30);

  const dash = JSON.parse(
    await aws(['get-dash-streaming-session-url', '--stream-name', 'porch', '--playback-mode', 'ON_DEMAND', '--dash-fragment-selector', range(3000, 4000)]),
  ) as { DASHStreamingSessionURL: string };
  assert.ok(dash.DASHStreamingSessionURL.startsWith(`${pc.cloud.endpoint}/dash/v1/getDASHManifest.mpd?SessionToken=`));
  assert.is(await decodedFrames(dash.DASHStreamingSessionURL), 20);

  const file = join(out.dir, 'cli.mp4');
  const clip = JSON.parse(await aws(['get-clip', '--stream-name', 'porch', '--clip-fragment-selector', range(5000, 6000), file])) as { ContentType: string };
  assert.is(clip.ContentType, 'video/mp4');
  assert.is(readFileSync(file).toString('latin1', 4, 8), 'ftyp');
  assert.is(await decodedFrames(file), 20);

  const images = JSON.parse(
    await aws([
      'get-images',
      '--stream-name',
      'porch',
      '--image-selector-type',
      'PRODUCER_TIMESTAMP',
      '--start-timestamp',
      seconds(0),
      '--end-timestamp',
      seconds(6000),
      '--sampling-interval',
      '3000',
      '--format',
      'PNG',
    ]),
  ) as { Images: { ImageContent?: string }[] };
  assert.is(images.Images.length, 3);
  assert.ok(images.Images.every((i) => Buffer.from(i.ImageContent!, 'base64').subarray(1, 4).toString('latin1') === 'PNG'));
});

test.run();
