// GetDASHStreamingSessionURL with the unmodified SDK client: the MPD (static for ON_DEMAND, dynamic for
// LIVE) and its fMP4 segments; ffprobe (ffmpeg's DASH demuxer, a real client) decodes the session's frames.
import { GetDASHStreamingSessionURLCommand, type GetDASHStreamingSessionURLCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { assert, suite } from '../../../harness/index.ts';
import { sdkError } from '../support.ts';
import { decodedFrames, fetchBytes, h264Body, mjpegBody, playbackCloud } from './playbackKit.ts';

const test = suite('sim/cloud playback: DASH sessions (SDK client, MPD, segments, errors)');
const pc = await playbackCloud();
const T = Date.now() - 3_600_000;
test.after(() => pc.close());

async function dash(input: Partial<GetDASHStreamingSessionURLCommandInput>): Promise<string> {
  const client = await pc.archived();
  try {
    return (await client.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'porch', ...input }))).DASHStreamingSessionURL!;
  } finally {
    client.destroy();
  }
}

const onDemand = (from: number, to: number): Partial<GetDASHStreamingSessionURLCommandInput> => ({
  PlaybackMode: 'ON_DEMAND',
  DASHFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(T + from), EndTimestamp: new Date(T + to) } },
});

test('ON_DEMAND: a static MPD with one S per fragment; ffprobe decodes exactly the range', async () => {
  await pc.fill('porch', h264Body(T));
  const url = await dash({ ...onDemand(1000, 4000), DisplayFragmentTimestamp: 'ALWAYS', DisplayFragmentNumber: 'ALWAYS' });
  assert.ok(url.startsWith(`${pc.cloud.endpoint}/dash/v1/getDASHManifest.mpd?SessionToken=`), url);
  const mpd = await fetchBytes(pc.cloud, url);
  assert.is(mpd.type, 'application/dash+xml');
  const xml = mpd.body.toString('utf8');
  assert.ok(xml.includes('type="static"') && xml.includes('codecs="avc1.42c00b"') && xml.includes('width="320" height="240"'), xml);
  assert.is(xml.match(/<S t="/g)!.length, 4);
  assert.ok(xml.includes(`<S t="${T + 1000}" d="1000" kvs:ts="${((T + 1000) / 1000).toFixed(3)}" kvs:fn="`), xml);
  assert.is(await decodedFrames(url), 40);
});

test('LIVE: a dynamic MPD of the newest MaxManifestFragmentResults fragments; errors as KVS', async () => {
  const url = await dash({ PlaybackMode: 'LIVE', MaxManifestFragmentResults: 3 });
  const xml = (await fetchBytes(pc.cloud, url)).body.toString('utf8');
  assert.ok(xml.includes('type="dynamic"') && xml.includes('minimumUpdatePeriod="PT1S"') && xml.includes('startNumber="7"'), xml);
  assert.is(xml.match(/<S t="/g)!.length, 3);
  const client = await pc.archived();
  try {
    await pc.fill('esp32', mjpegBody(T));
    await sdkError(
      client.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'esp32', ...onDemand(0, 2000) })),
      'UnsupportedStreamMediaTypeException',
      400,
    );
    await sdkError(client.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'porch', ...onDemand(60_000, 70_000) })), 'ResourceNotFoundException', 404);
  } finally {
    client.destroy();
  }
});

test.run();
