// GetClip with the unmodified SDK client and `fieldcam clip` / `fieldcam play` against the local KVS: the
// MP4 holds exactly the frames of the fragments that start in the range (ffprobe counts them), KVS's
// 200-fragment limit truncates, and the errors are KVS's.
import { GetClipCommand, type GetClipCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, suite } from '../../../harness/index.ts';
import { FIXTURE, muxFixture } from '../kvs/media/mediaKit.ts';
import { sdkError } from '../support.ts';
import { cli, decodedFrames, h264Body, mjpegBody, playbackCloud, workDir } from './playbackKit.ts';

const test = suite('sim/cloud playback: GetClip (SDK), fieldcam clip and fieldcam play');
const pc = await playbackCloud();
const out = workDir();
const T = Date.now() - 3_600_000;
test.after(async () => {
  await pc.close();
  out.remove();
});

const range = (fromMs: number, toMs: number): GetClipCommandInput['ClipFragmentSelector'] => ({
  FragmentSelectorType: 'PRODUCER_TIMESTAMP',
  TimestampRange: { StartTimestamp: new Date(T + fromMs), EndTimestamp: new Date(T + toMs) },
});

async function clip(stream: string, selector: GetClipCommandInput['ClipFragmentSelector']): Promise<{ type: string; file: string }> {
  const client = await pc.archived();
  try {
    const answer = await client.send(new GetClipCommand({ StreamName: stream, ClipFragmentSelector: selector }));
    const file = join(out.dir, `clip-${Math.random().toString(36).slice(2)}.mp4`);
    writeFileSync(file, await answer.Payload!.transformToByteArray());
    return { type: answer.ContentType ?? '', file };
  } finally {
    client.destroy();
  }
}

test('GetClip (SDK): an MP4 with exactly the frames of the fragments starting in the range', async () => {
  await pc.fill('porch', h264Body(T));
  const aligned = await clip('porch', range(3000, 5000));
  assert.is(aligned.type, 'video/mp4');
  assert.is(readFileSync(aligned.file).toString('latin1', 4, 8), 'ftyp');
  assert.is(await decodedFrames(aligned.file), 30, 'fragments at 3, 4 and 5 s (end inclusive): 30 frames');
  // A start inside fragment 2 leaves it out ("only fragments that start at or after StartTimestamp").
  assert.is(await decodedFrames((await clip('porch', range(2500, 5999))).file), 30);
  assert.is(await decodedFrames((await clip('porch', range(0, 9000))).file), 100, 'the whole fixture');
});

test('GetClip: at most 200 fragments from the start, as KVS truncates', async () => {
  // The fixture 21 times over in one PutMedia: 210 fragments of 1 s.
  const raw = join(out.dir, 'long.h264');
  writeFileSync(raw, Buffer.concat(Array.from({ length: 21 }, () => readFileSync(FIXTURE))));
  await pc.fill('long', muxFixture({ startTimecode: T, file: raw }));
  const { file } = await clip('long', range(0, 300_000));
  assert.is(await decodedFrames(file), 2000, '200 fragments × 10 frames');
});

test('GetClip errors: empty range, MJPEG stream, unknown stream', async () => {
  const client = await pc.archived();
  try {
    const send = (StreamName: string, selector: GetClipCommandInput['ClipFragmentSelector']) =>
      client.send(new GetClipCommand({ StreamName, ClipFragmentSelector: selector }));
    await sdkError(send('porch', range(60_000, 70_000)), 'ResourceNotFoundException', 404, /No fragments found/);
    await sdkError(send('nope', range(0, 5000)), 'ResourceNotFoundException', 404);
    await pc.fill('esp32', mjpegBody(T));
    await sdkError(send('esp32', range(0, 5000)), 'UnsupportedStreamMediaTypeException', 400, /V_MJPEG/);
  } finally {
    client.destroy();
  }
});

test('fieldcam clip writes the range with progress; fieldcam play prints an HLS URL that ffprobe plays', async () => {
  const file = join(out.dir, 'cli.mp4');
  const iso = (ms: number): string => new Date(T + ms).toISOString();
  const r = await cli(pc.cloud, ['clip', '--stream', 'porch', '--start', iso(1000), '--end', iso(4000), '--producer-timestamps', '-o', file]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(/clip: requesting .* of porch/.test(r.stderr), r.stderr);
  assert.ok(r.stdout.startsWith(`${file}: `) && r.stdout.includes('(video/mp4)'), r.stdout);
  assert.is(await decodedFrames(file), 40);
  const p = await cli(pc.cloud, ['play', '--stream', 'porch', '--start', iso(0), '--end', iso(1000), '--producer-timestamps']);
  assert.is(p.code, 0, p.stderr);
  const url = p.stdout.trim();
  assert.ok(url.startsWith(`${pc.cloud.endpoint}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=`), url);
  assert.is(await decodedFrames(url), 20);
  // --open names the local cloud's viewer for the stream (no desktop here: PATH without xdg-open).
  const open = await cli(pc.cloud, ['play', '--stream', 'porch', '--start', iso(0), '--end', iso(1000), '--producer-timestamps', '--open'], {
    PATH: '/nonexistent',
  });
  assert.is(open.code, 0, open.stderr);
  assert.ok(open.stderr.includes(`play: viewer ${pc.cloud.endpoint}/viewer?stream=porch`), open.stderr);
  const bad = await cli(pc.cloud, ['play', '--stream', 'porch', '--mode', 'ON_DEMAND', '--start=-5m']);
  assert.is(bad.code === 0, false);
  assert.ok(/ON_DEMAND needs --end/.test(bad.stderr), bad.stderr);
});

test.run();
