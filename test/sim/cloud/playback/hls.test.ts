// GetHLSStreamingSessionURL against the local KVS with the unmodified SDK client, and the session's
// playlists and segments read the way players read them; ffprobe (a real HLS client) decodes the frames.
import { GetHLSStreamingSessionURLCommand, type GetHLSStreamingSessionURLCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, suite } from '../../../harness/index.ts';
import { sdkError } from '../support.ts';
import { decodedFrames, fetchBytes, h264Body, mjpegBody, playbackCloud, workDir } from './playbackKit.ts';

function match(text: string, re: RegExp, message?: string): void {
  assert.ok(re.test(text), `${message ?? 'should match'} ${String(re)}:\n${text}`);
}
function noMatch(text: string, re: RegExp, message?: string): void {
  assert.ok(!re.test(text), `${message ?? 'should not match'} ${String(re)}:\n${text}`);
}

const test = suite('sim/cloud playback: HLS sessions (SDK client, playlists, fMP4 and TS segments, errors)');
const pc = await playbackCloud();
const out = workDir();
const T = Date.now() - 3_600_000; // an hour ago: the archive
test.after(async () => {
  await pc.close();
  out.remove();
});

async function sessionUrl(input: Partial<GetHLSStreamingSessionURLCommandInput>): Promise<string> {
  const client = await pc.archived();
  try {
    return (await client.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'porch', ...input }))).HLSStreamingSessionURL!;
  } finally {
    client.destroy();
  }
}

const onDemand = (fromS: number, toS: number, extra: Partial<GetHLSStreamingSessionURLCommandInput> = {}): Partial<GetHLSStreamingSessionURLCommandInput> => ({
  PlaybackMode: 'ON_DEMAND',
  HLSFragmentSelector: {
    FragmentSelectorType: 'PRODUCER_TIMESTAMP',
    TimestampRange: { StartTimestamp: new Date(T + fromS * 1000), EndTimestamp: new Date(T + toS * 1000) },
  },
  ...extra,
});

async function text(url: string): Promise<string> {
  const r = await fetchBytes(pc.cloud, url);
  assert.is(r.status, 200, `GET ${url}: ${r.body.toString('utf8')}`);
  return r.body.toString('utf8');
}

async function mediaPlaylistOf(master: string): Promise<{ url: string; body: string }> {
  const line = (await text(master)).split('\n').find((l) => l.startsWith('getHLSMediaPlaylist.m3u8'))!;
  const url = new URL(line, master).toString();
  return { url, body: await text(url) };
}

test('ON_DEMAND fMP4: master playlist names avc1 and 320x240; media playlist lists the range; ffprobe decodes exactly its frames', async () => {
  await pc.fill('porch', h264Body(T));
  const url = await sessionUrl(onDemand(2, 6));
  match(url, new RegExp(`^${pc.cloud.endpoint}/hls/v1/getHLSMasterPlaylist\\.m3u8\\?SessionToken=[A-Za-z0-9_-]{40,}$`));
  const master = await text(url);
  match(master, /#EXT-X-STREAM-INF:BANDWIDTH=\d+,CODECS="avc1\.42c00b",RESOLUTION=320x240/);
  const media = await mediaPlaylistOf(url);
  const segments = media.body.split('\n').filter((l) => l.startsWith('getMP4MediaFragment.mp4?FragmentNumber='));
  assert.is(segments.length, 5, 'fragments starting at 2 s … 6 s (end inclusive)');
  match(media.body, /#EXT-X-PLAYLIST-TYPE:VOD/);
  match(media.body, /#EXT-X-MAP:URI="getMP4InitFragment\.mp4\?SessionToken=/);
  match(media.body, /#EXT-X-ENDLIST\n$/);
  noMatch(media.body, /#EXT-X-DISCONTINUITY/, 'PRODUCER_TIMESTAMP defaults to NEVER');
  assert.is(media.body.split('\n').filter((l) => l === '#EXTINF:1.000,').length, 5);
  assert.is(await decodedFrames(url), 50, 'ffprobe plays the HLS URL: 5 fragments × 10 frames');
});

test('ON_DEMAND MPEG_TS: .ts segments that ffprobe decodes to the same frames', async () => {
  const url = await sessionUrl(onDemand(0, 2, { ContainerFormat: 'MPEG_TS' }));
  const media = await mediaPlaylistOf(url);
  assert.is(media.body.split('\n').filter((l) => l.startsWith('getTSFragment.ts?FragmentNumber=')).length, 3);
  noMatch(media.body, /EXT-X-MAP/);
  match(media.body, /#EXT-X-VERSION:3/);
  const first = new URL(media.body.split('\n').find((l) => l.startsWith('getTSFragment.ts'))!, url).toString();
  const seg = await fetchBytes(pc.cloud, first);
  assert.is(seg.type, 'video/mp2t');
  assert.is(seg.body[0], 0x47, 'an MPEG-TS packet sync byte');
  assert.is(await decodedFrames(url), 30);
});

test('LIVE: the newest MaxMediaPlaylistFragmentResults fragments, no ENDLIST; init + segments decode as one fMP4', async () => {
  await pc.fill('live', h264Body(Date.now() - 10_000));
  const client = await pc.archived();
  let url: string;
  try {
    url = (await client.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'live', PlaybackMode: 'LIVE', MaxMediaPlaylistFragmentResults: 4 })))
      .HLSStreamingSessionURL!;
  } finally {
    client.destroy();
  }
  const media = await mediaPlaylistOf(url);
  noMatch(media.body, /ENDLIST|PLAYLIST-TYPE/);
  match(media.body, /#EXT-X-MEDIA-SEQUENCE:6\n/, 'fragments 6-9 of the stream');
  const lines = media.body.split('\n');
  const init = lines.find((l) => l.startsWith('#EXT-X-MAP'))!.match(/URI="([^"]+)"/)![1]!;
  const parts = [(await fetchBytes(pc.cloud, new URL(init, url).toString())).body];
  for (const l of lines.filter((x) => x.startsWith('getMP4MediaFragment'))) parts.push((await fetchBytes(pc.cloud, new URL(l, url).toString())).body);
  assert.is(parts.length, 5);
  assert.is(parts[0]!.toString('latin1', 4, 8), 'ftyp');
  assert.is(parts[1]!.toString('latin1', 4, 8), 'moof');
  const file = join(out.dir, 'live.mp4');
  writeFileSync(file, Buffer.concat(parts));
  assert.is(await decodedFrames(file), 40);
});

test('LIVE_REPLAY: starts with the first fragment and adds one as each fragment duration elapses', async () => {
  const url = await sessionUrl({
    PlaybackMode: 'LIVE_REPLAY',
    HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(T) } },
  });
  const count = async (): Promise<number> => (await mediaPlaylistOf(url)).body.split('\n').filter((l) => l.startsWith('getMP4MediaFragment')).length;
  assert.is(await count(), 1);
  pc.faults.clockSkewMs = 3_500; // the server clock 3.5 s on: fragments 2-4 have "elapsed"
  try {
    assert.is(await count(), 4);
  } finally {
    delete pc.faults.clockSkewMs;
  }
});

test('DiscontinuityMode, DisplayFragmentTimestamp and MaxMediaPlaylistFragmentResults shape the media playlist', async () => {
  const always = (
    await mediaPlaylistOf(
      await sessionUrl(onDemand(0, 9, { DiscontinuityMode: 'ALWAYS', DisplayFragmentTimestamp: 'ALWAYS', MaxMediaPlaylistFragmentResults: 3 })),
    )
  ).body;
  assert.is(always.split('\n').filter((l) => l.startsWith('getMP4MediaFragment')).length, 3, 'the oldest 3');
  assert.is(always.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY').length, 2, 'between every fragment');
  const dates = always
    .split('\n')
    .filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))
    .map((l) => Date.parse(l.slice(25)));
  assert.equal(dates, [T, T + 1000, T + 2000], 'producer start timestamps');
  const gaps = (await mediaPlaylistOf(await sessionUrl(onDemand(0, 9, { DiscontinuityMode: 'ON_DISCONTINUITY' })))).body;
  noMatch(gaps, /#EXT-X-DISCONTINUITY/, 'back-to-back fragments have no gap over 50 ms');
});

test('errors in KVS shapes: empty range, unknown stream, MJPEG stream, LIVE without recent fragments, bad arguments', async () => {
  const client = await pc.archived();
  try {
    const send = (input: Partial<GetHLSStreamingSessionURLCommandInput>) =>
      client.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'porch', ...input }));
    await sdkError(send(onDemand(100, 200)), 'ResourceNotFoundException', 404, /No fragments found/);
    await sdkError(send({ ...onDemand(0, 5), StreamName: 'nope' }), 'ResourceNotFoundException', 404, /not found/);
    pc.faults.clockSkewMs = 31_000; // the last fragment arrived over 30 s ago (within SigV4's 5 min)
    try {
      await sdkError(send({ PlaybackMode: 'LIVE' }), 'ResourceNotFoundException', 404, /No fragments found/);
    } finally {
      delete pc.faults.clockSkewMs;
    }
    await sdkError(send({ PlaybackMode: 'ON_DEMAND' }), 'InvalidArgumentException', 400, /StartTimestamp is required/);
    await sdkError(send(onDemand(5, 1)), 'InvalidArgumentException', 400, /later than StartTimestamp/);
    await sdkError(send({ ...onDemand(0, 5), Expires: 299 }), 'InvalidArgumentException', 400, /expires/);
    await pc.fill('esp32', mjpegBody(T));
    await sdkError(send({ ...onDemand(0, 5), StreamName: 'esp32' }), 'UnsupportedStreamMediaTypeException', 400, /V_MJPEG/);
  } finally {
    client.destroy();
  }
});

test('a session expires after Expires seconds: its playlists and fragments answer 403 NotAuthorizedException', async () => {
  const url = await sessionUrl(onDemand(0, 3, { Expires: 300 }));
  assert.is((await fetchBytes(pc.cloud, url)).status, 200);
  pc.faults.clockSkewMs = 301_000;
  try {
    const r = await fetchBytes(pc.cloud, url);
    assert.is(r.status, 403);
    assert.is(r.headers['x-amzn-errortype'], 'NotAuthorizedException:');
    match(r.body.toString('utf8'), /expired/);
  } finally {
    delete pc.faults.clockSkewMs;
  }
  const bad = await fetchBytes(pc.cloud, url.replace(/SessionToken=.*/, 'SessionToken=forged'));
  assert.is(bad.status, 400);
  assert.is(bad.headers['x-amzn-errortype'], 'InvalidArgumentException:');
});

test.run();
