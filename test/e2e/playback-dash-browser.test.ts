// Proof in a real browser for DASH: dash.js (the version package-lock.json pins, served by the cloud from
// node_modules) in Debian's headless Chromium plays the local KVS's GetDASHStreamingSessionURL sessions:
// ON_DEMAND over an hour-old range to its end, and LIVE while a camera streams.
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetDASHStreamingSessionURLCommand, type GetDASHStreamingSessionURLCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { assert, suite } from '../harness/index.ts';
import { FIXTURE, muxFixture } from '../sim/cloud/kvs/media/mediaKit.ts';
import { RawPutMedia } from '../sim/cloud/kvs/media/putMediaClient.ts';
import { launchChromium, type PlayerState, until } from '../sim/cloud/playback/browserKit.ts';
import { h264Body, playbackCloud, workDir } from '../sim/cloud/playback/playbackKit.ts';

const test = suite('e2e: DASH playback in headless Chromium (dash.js)');
const pc = await playbackCloud();
const out = workDir();
const browser = await launchChromium();
const T = Date.now() - 3_600_000;
let live: RawPutMedia | undefined;
test.after(async () => {
  live?.destroy();
  await browser.close();
  await pc.close();
  out.remove();
});

async function sessionUrl(input: Partial<GetDASHStreamingSessionURLCommandInput>): Promise<string> {
  const client = await pc.archived();
  try {
    return (await client.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'porch', ...input }))).DASHStreamingSessionURL!;
  } finally {
    client.destroy();
  }
}

/** Page-side dash.js player on a fresh muted <video>, recording every dash.js ERROR event. */
const PLAYER = `(src) => {
  const video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  const errors = [];
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => errors.push(JSON.stringify(e.error ?? e).slice(0, 300)));
  player.initialize(video, src, true);
  window.probe = () => {
    const q = video.getVideoPlaybackQuality();
    return { currentTime: video.currentTime, frames: q.totalVideoFrames, dropped: q.droppedVideoFrames, ended: video.ended, errors };
  };
}`;

/** dash.js reports no fatal flag: any ERROR event stops the wait. */
const untilPlayer = (page: Page, done: (s: PlayerState) => boolean) => until(page, done, () => true);

async function playerPage(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${pc.cloud.endpoint}/viewer/viewer.css`); // any page of the cloud's origin
  await page.addScriptTag({ url: '/viewer/dash.all.min.js' });
  await page.evaluate(`(${PLAYER})(${JSON.stringify(url)})`);
  return page;
}

test('ON_DEMAND: dash.js plays the range to its end, every frame decoded, no error event', async () => {
  await pc.fill('porch', h264Body(T));
  const page = await playerPage(
    await sessionUrl({
      PlaybackMode: 'ON_DEMAND',
      DASHFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(T), EndTimestamp: new Date(T + 4000) } },
    }),
  );
  const s = await untilPlayer(page, (x) => x.ended);
  await page.close();
  assert.equal(s.errors, []);
  assert.ok(s.ended && s.currentTime > 4.5, `ended ${s.ended} at ${s.currentTime} s`);
  assert.ok(s.frames >= 48, `decoded frames ${s.frames} of 50`);
});

test('LIVE: dash.js follows a streaming camera: currentTime advances 6 s, frames grow, no error event', async () => {
  const raw = join(out.dir, 'long.h264');
  writeFileSync(raw, Buffer.concat(Array.from({ length: 21 }, () => readFileSync(FIXTURE))));
  const body = muxFixture({ startTimecode: Date.now(), file: raw });
  const control = new KinesisVideoClient(pc.config());
  await control.send(new CreateStreamCommand({ StreamName: 'live', DataRetentionInHours: 24 }));
  control.destroy();
  live = await RawPutMedia.open(pc.cloud.endpoint, pc.cloud.caPem, { stream: 'live' });
  const camera = live;
  await camera.waitFor(() => camera.status !== 0, 5000, 'status');
  const perTick = Math.ceil(body.length / 2100);
  let at = 0;
  const pump = setInterval(() => {
    if (at >= body.length) return;
    camera.write(body.subarray(at, at + perTick));
    at += perTick;
  }, 100);
  try {
    await camera.waitFor(() => camera.acks.filter((a) => a.EventType === 'PERSISTED').length >= 4, 15_000, '4 PERSISTED');
    const page = await playerPage(await sessionUrl({ StreamName: 'live', PlaybackMode: 'LIVE' }));
    const first = await untilPlayer(page, (x) => x.currentTime > 0.5);
    const later = await untilPlayer(page, (x) => x.currentTime >= first.currentTime + 6);
    await page.close();
    assert.equal(later.errors, []);
    assert.ok(later.currentTime >= first.currentTime + 6, `currentTime ${first.currentTime} → ${later.currentTime}`);
    assert.ok(later.frames > first.frames + 40, `decoded frames ${first.frames} → ${later.frames}`);
  } finally {
    clearInterval(pump);
  }
});

test.run();
