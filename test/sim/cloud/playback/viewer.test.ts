// The viewer's server side (the browser side is test/e2e/playback-browser.test.ts): the page and hls.js
// come from this origin (hls.js byte for byte from node_modules, pinned by package-lock.json), the stream
// summary reports the last PERSISTED age and playability, the clip download is GetClip's MP4, and
// `fieldcam cloud` names the viewer in its first lines.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { assert, suite } from '../../../harness/index.ts';
import { ROOT } from '../kvs/media/mediaKit.ts';
import { decodedFrames, fetchBytes, h264Body, mjpegBody, playbackCloud, workDir } from './playbackKit.ts';

const test = suite('sim/cloud viewer: page, hls.js from node_modules, stream health, clip download, banner');
const pc = await playbackCloud();
const out = workDir();
const T = Date.now() - 3_600_000;
test.after(async () => {
  await pc.close();
  out.remove();
});

test('GET /viewer is a same-origin page; / redirects to it; hls.js is the pinned node_modules file', async () => {
  const page = await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/viewer`);
  assert.is(page.status, 200);
  assert.ok(page.type.startsWith('text/html'));
  assert.ok(String(page.headers['content-security-policy']).startsWith("default-src 'self'"));
  assert.ok(page.body.toString('utf8').includes('<script src="/viewer/hls.min.js"'));
  const root = await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/`);
  assert.is(root.status, 302);
  assert.is(root.headers.location, '/viewer');
  const hls = await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/viewer/hls.min.js`);
  const pinned = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  assert.ok(hls.body.equals(pinned), 'hls.min.js served from node_modules');
  assert.is((await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/viewer/../package.json`)).status, 404);
});

test('api/streams: fragments, codec, playability and last PERSISTED age per stream', async () => {
  await pc.fill('porch', h264Body(T));
  await pc.fill('esp32', mjpegBody(T));
  const { streams, now } = JSON.parse((await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/viewer/api/streams`)).body.toString('utf8')) as {
    now: number;
    streams: { name: string; fragments: number; codec: string; playable: true | string; lastPersistedAgeMs: number }[];
  };
  assert.ok(Number.isFinite(now));
  assert.equal(
    streams.map((s) => [s.name, s.fragments, s.codec]),
    [
      ['esp32', 3, 'V_MJPEG'],
      ['porch', 10, 'V_MPEG4/ISO/AVC'],
    ],
  );
  assert.is(streams[1]!.playable, true);
  assert.ok(typeof streams[0]!.playable === 'string' && streams[0]!.playable.startsWith('UnsupportedStreamMediaTypeException'));
  assert.ok(
    streams.every((s) => s.lastPersistedAgeMs >= 0 && s.lastPersistedAgeMs < 60_000),
    'just PERSISTED',
  );
});

test('api/clip downloads the MP4 of a range; api/hls refuses what KVS refuses', async () => {
  const clip = await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/viewer/api/clip?stream=porch&start=${T + 1000}&end=${T + 3000}`);
  assert.is(clip.status, 200);
  assert.ok(String(clip.headers['content-disposition']).startsWith('attachment; filename="porch-'));
  const file = join(out.dir, 'viewer.mp4');
  writeFileSync(file, clip.body);
  assert.is(await decodedFrames(file), 30);
  const mjpeg = await fetchBytes(pc.cloud, `${pc.cloud.endpoint}/viewer/api/hls?stream=esp32&start=${T}&end=${T + 5000}`);
  assert.is(mjpeg.status, 400);
  assert.is(mjpeg.headers['x-amzn-errortype'], 'UnsupportedStreamMediaTypeException:');
});

test('fieldcam cloud names the viewer URL in its first lines', async () => {
  const state = workDir();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'host', 'cli', 'bin.mjs'), 'cloud', '--port', '0', '--credentials-port', '0', '--mqtt-port', '0', '--state-dir', state.dir],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  try {
    for (let i = 0; i < 300 && !stdout.includes('Ctrl-C stops it.') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    const lines = stdout.split('\n');
    const endpoint = /on (https:\/\/127\.0\.0\.1:\d+) /.exec(lines[0] ?? '')?.[1];
    assert.ok(endpoint, stdout);
    assert.ok(lines[1]!.startsWith(`viewer: ${endpoint}/viewer `), stdout);
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    state.remove();
  }
});

test.run();
