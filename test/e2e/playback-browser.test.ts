// Proof in a real browser: hls.js (the version package-lock.json pins, served by the cloud from
// node_modules) in Debian's headless Chromium plays the local KVS's HLS sessions — ON_DEMAND over an hour-old
// range as fMP4 and as MPEG-TS, and LIVE while fragments are being PERSISTED — and the viewer page loads
// with no console errors and plays. Debian's Chromium decodes H.264 (checked first: isTypeSupported).
import { GetHLSStreamingSessionURLCommand, type GetHLSStreamingSessionURLCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { assert, suite } from '../harness/index.ts';
import { FIXTURE, muxFixture } from '../sim/cloud/kvs/media/mediaKit.ts';
import { RawPutMedia } from '../sim/cloud/kvs/media/putMediaClient.ts';
import { launchChromium, startPlayer, until } from '../sim/cloud/playback/browserKit.ts';
import { mjpegBody, playbackCloud, workDir } from '../sim/cloud/playback/playbackKit.ts';
import { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';

const test = suite('e2e: HLS playback in headless Chromium (hls.js) and the viewer page');
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

async function sessionUrl(input: Partial<GetHLSStreamingSessionURLCommandInput>): Promise<string> {
  const client = await pc.archived();
  try {
    return (await client.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'porch', ...input }))).HLSStreamingSessionURL!;
  } finally {
    client.destroy();
  }
}

/**
 * Polls a page-side expression until it is true (15 s at most). page.evaluate, not waitForFunction: the
 * viewer's Content-Security-Policy forbids the eval that waitForFunction's string form needs.
 */
async function pageCondition(page: Page, expression: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (await page.evaluate(expression)) return true;
    await page.waitForTimeout(100);
  }
  return false;
}

let page: Page;
const consoleErrors: string[] = [];

test('Debian Chromium decodes H.264 through Media Source Extensions', async () => {
  const metadata = new FragmentMetadata();
  metadata.put('camera', 'porch');
  metadata.put('event', 'motion');
  await pc.fill('porch', muxFixture({ startTimecode: T, metadata }));
  await pc.fill('esp32', mjpegBody(T));
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(`${pc.cloud.endpoint}/viewer`);
  const supported = await page.evaluate(`[
    MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E"'),
    MediaSource.isTypeSupported('video/mp4; codecs="avc1.42c00b"'),
    typeof Hls === 'function' && Hls.isSupported(),
  ]`);
  assert.equal(supported, [true, true, true]);
});

test('the viewer page: both streams listed (MJPEG marked unplayable), the archive replays, no console errors', async () => {
  await page.waitForSelector('#streams tbody tr:nth-child(2)', { timeout: 10_000 });
  const rows = (await page.evaluate(
    `Array.from(document.querySelectorAll('#streams tbody tr'), (tr) => Array.from(tr.children, (td) => td.textContent))`,
  )) as string[][];
  assert.equal(
    rows.map((r) => [r[0], r[1], r[2]]),
    [
      ['esp32', 'V_MJPEG', '3'],
      ['porch', 'V_MPEG4/ISO/AVC', '10'],
    ],
  );
  await page.click('#streams tbody tr[data-stream="porch"]');
  assert.ok(await pageCondition(page, "document.getElementById('video').currentTime > 1.5"), "the viewer's player plays");
  assert.is(await page.locator('#timeline .fragment.tagged').count(), 10, 'every fragment carries the metadata tags');
  assert.ok((await page.locator('#events li').first().textContent())?.endsWith('camera = porch'));
  assert.ok((await page.getAttribute('#clip', 'href'))?.startsWith('/viewer/api/clip?stream=porch&start='));
  if (process.env.FIELDCAM_SCREENSHOT) await page.screenshot({ path: process.env.FIELDCAM_SCREENSHOT, fullPage: true });
  await page.click('#streams tbody tr[data-stream="esp32"]');
  assert.ok(await pageCondition(page, "/cannot be played/.test(document.getElementById('player-status').textContent)"), 'MJPEG explained');
  assert.equal(consoleErrors, []);
});

test('ON_DEMAND fMP4 plays to the end in hls.js: every frame decoded, no hls.js error', async () => {
  const url = await sessionUrl({
    PlaybackMode: 'ON_DEMAND',
    HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(T), EndTimestamp: new Date(T + 5000) } },
  });
  await startPlayer(page, url);
  const s = await until(page, (x) => x.ended);
  assert.equal(s.errors, []);
  assert.ok(s.ended, `ended (at ${s.currentTime} s)`);
  assert.ok(s.currentTime > 5.5, `currentTime ${s.currentTime}`);
  assert.ok(s.frames >= 58, `decoded frames ${s.frames} of 60 (dropped ${s.dropped})`);
});

test('ON_DEMAND MPEG-TS plays in hls.js (transmuxed in the page)', async () => {
  const url = await sessionUrl({
    PlaybackMode: 'ON_DEMAND',
    ContainerFormat: 'MPEG_TS',
    HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(T), EndTimestamp: new Date(T + 4000) } },
  });
  // At normal speed: transmuxing TS in the page at 4x on a CPU-starved 2-core machine skipped frames. Played to
  // the end of the 5 s range: hls.js may reach the last frame a moment before it signals the end of the stream,
  // so the position is what is judged, with the frames decoded.
  await startPlayer(page, url, 1);
  const s = await until(page, (x) => x.ended || x.currentTime >= 4.9);
  assert.equal(s.errors, []);
  assert.ok(s.currentTime > 4.5, `currentTime ${s.currentTime}`);
  assert.ok(s.frames >= 45, `decoded frames ${s.frames}`);
});

test('LIVE plays while a camera streams: currentTime advances 10 s and decoded frames grow, no hls.js error', async () => {
  // The fixture 21 times over, sent at its own pace (≈ 1 fragment a second) as a camera would.
  const raw = join(out.dir, 'long.h264');
  writeFileSync(raw, Buffer.concat(Array.from({ length: 21 }, () => readFileSync(FIXTURE))));
  const body = muxFixture({ startTimecode: Date.now(), file: raw });
  const control = await import('@aws-sdk/client-kinesis-video');
  const kv = new control.KinesisVideoClient(pc.config());
  await kv.send(new control.CreateStreamCommand({ StreamName: 'live', DataRetentionInHours: 24 }));
  kv.destroy();
  live = await RawPutMedia.open(pc.cloud.endpoint, pc.cloud.caPem, { stream: 'live' });
  const connection = live;
  await connection.waitFor(() => connection.status !== 0, 5000, 'status');
  const perTick = Math.ceil(body.length / 2100); // 210 s of video in 100 ms ticks
  let at = 0;
  const pump = setInterval(() => {
    if (at >= body.length) return;
    connection.write(body.subarray(at, at + perTick));
    at += perTick;
  }, 100);
  try {
    await connection.waitFor(() => connection.acks.filter((a) => a.EventType === 'PERSISTED').length >= 3, 15_000, '3 PERSISTED');
    await startPlayer(page, await sessionUrl({ StreamName: 'live', PlaybackMode: 'LIVE' }));
    const first = await until(page, (x) => x.currentTime > 0.5);
    const later = await until(page, (x) => x.currentTime >= first.currentTime + 10);
    assert.equal(later.errors, []);
    assert.ok(later.currentTime >= first.currentTime + 10, `currentTime ${first.currentTime} → ${later.currentTime}`);
    assert.ok(later.frames > first.frames + 80, `decoded frames ${first.frames} → ${later.frames}`);
  } finally {
    clearInterval(pump);
  }
});

test.run();
