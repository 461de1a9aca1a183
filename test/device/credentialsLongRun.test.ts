// Issue 5, last proof: a provisioned device (sim-x86 image, native XS) with 15-minute IoT credentials streams
// 40 device-minutes of camera at a time scale (fieldcam-runtime --time-scale, the local cloud's timeScale and
// the camera's rate, all from one origin) while the credentials provider is down for 2 device-minutes across
// a scheduled refresh. Judged from what the cloud stored: every frame fed is there once, with contiguous
// timecodes, and the cloud never refused a request (an expired token would be a 403 ExpiredTokenException).
//
// The test's own actions are placed in device time, relative to credentials the device reported:
//   T2 = when the second credentials were issued (their expiration − 900 s); the device refreshes at T2 + 600 s
//   [T2 + 540 s, T2 + 660 s]  provider down (503): the scheduled refresh fails and is retried with backoff
//   T2 + 600 s                the PutMedia connection dropped: the device reconnects on the still-valid T2 keys
//   T2 + 930 s                dropped again, after the T2 keys expired: it must sign with the fresh ones
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/lib/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud } from '../../sim/cloud/startCloud.ts';
import { decodeErrors, FIXTURES, framePts, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia, storedFragments } from './storedMedia.ts';
import { provisionDevice, provisionFleetRole } from './bundleKit.ts';

const test = suite('provisioned device (sim-x86, native XS): 15-minute credentials over 40 accelerated device-minutes, provider down 2 minutes mid-run');
const tmp = tempDir('fieldcam-long-run-');
const BOARD = 'sim-x86';
const THING = 'long-run-cam';
/** Device seconds per real second: 40 device-minutes in 80 real seconds. */
const SCALE = 30;
const LIFETIME_S = 900;
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
/** The fixture is 100 frames at 10 fps (10 s); the camera plays it this many times: 40 minutes. */
const COPIES = 240;
const FRAMES = 100 * COPIES;
const FRAME_MS = 100;

type Rec = Record<string, unknown>;
type Logged = { readonly at: number; readonly event: string; readonly fields: Rec };

let image: ImageManifest;
let bundle: string;
let video: string;
let ports: { port: number; credentialsPort: number };
/** What the run produced, judged by the later tests. */
let run: {
  code: number; stderr: string; records: Rec[]; logged: Logged[];
  /** Device time (the shared scaled clock) when each record arrived. */
  arrived: Map<Rec, number>;
  outage: { on: number; off: number }; drops: number[]; realMs: number;
  retriesWhileDown: number;
};

const portOf = (url: string) => Number(new URL(url).port);
const cloudAt = (scale: number, origin?: number) => startCloud({
  stateDir: join(tmp.dir, 'cloud'), ...ports, routes: [...mediaRoutes],
  ...(scale > 1 ? { config: { timeScale: scale, timeOrigin: origin! } } : {}),
});

test('build the sim-x86 image; provision the 900 s role alias and the device at real time; the camera file (40 minutes)', async () => {
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  // Provisioning talks to the cloud with the SDK, which signs with the real clock: a cloud at real time.
  const cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  try {
    await provisionFleetRole(cloud, LIFETIME_S);
    bundle = (await provisionDevice(cloud, tmp.dir, THING)).bundle;
    ports = { port: portOf(cloud.endpoint), credentialsPort: portOf(cloud.credentialsEndpoint) };
  } finally {
    await cloud.close();
  }
  // Annex B streams concatenate: each copy starts with its SPS, PPS and an IDR frame.
  const one = readFileSync(GOP10);
  video = join(tmp.dir, 'camera-40min.h264');
  writeFileSync(video, Buffer.concat(Array.from({ length: COPIES }, () => one)));
});

test(`40 device-minutes at ×${SCALE}: the device streams through the outage and a refresh, then ends at the camera's end`, async () => {
  const origin = Date.now();
  const deviceNow = () => origin + (Date.now() - origin) * SCALE;
  const logged: Logged[] = [];
  const cloud = await startCloud({
    stateDir: join(tmp.dir, 'cloud'), ...ports, routes: [...mediaRoutes],
    config: { timeScale: SCALE, timeOrigin: origin },
    log: (event, fields) => logged.push({ at: deviceNow(), event, fields }),
  });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  /** Runs `fn` when the shared scaled clock reaches `deviceMs` (a real wait of the remaining device time / SCALE). */
  const at = (deviceMs: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, Math.max(0, (deviceMs - deviceNow()) / SCALE));
    timers.add(t);
  };
  const outage = { on: 0, off: 0 };
  const drops: number[] = [];
  let retriesWhileDown = 0;
  let credentialsSeen = 0;
  const records: Rec[] = [];
  const arrived = new Map<Rec, number>();
  const started = performance.now();
  try {
    const booted = bootBoard({
      image: { dir: imageDir(BOARD), runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)] },
      config: { bundle }, video, loop: false, bytesPerSecond: one10sBytes() / 10, rate: SCALE, cwd: ROOT,
      onRecord: (r) => {
        if (r.type === 'status') return;
        records.push(r);
        arrived.set(r, deviceNow());
        if (r.event === 'credentials-retry' && cloud.ctx.faults.credentialsDown) retriesWhileDown++;
        if (r.event !== 'credentials' || ++credentialsSeen !== 2) return;
        const t2 = Date.parse(String(r.expiration)) - LIFETIME_S * 1000;
        const refresh = t2 + Number(r.refreshInMs);
        at(refresh - 60_000, () => {
          cloud.ctx.faults.credentialsDown = true;
          outage.on = deviceNow();
        });
        at(refresh, () => {
          cloud.ctx.faults.dropAfterBytes = 0;
          drops.push(deviceNow());
        });
        at(refresh + 60_000, () => {
          cloud.ctx.faults.credentialsDown = undefined;
          outage.off = deviceNow();
        });
        at(t2 + LIFETIME_S * 1000 + 30_000, () => {
          cloud.ctx.faults.dropAfterBytes = 0;
          drops.push(deviceNow());
        });
      },
    });
    const guard = setTimeout(() => booted.child.kill('SIGKILL'), 300_000);
    const { code, stderr } = await booted.exited;
    clearTimeout(guard);
    run = { code, stderr, records, arrived, logged, outage, drops, realMs: performance.now() - started, retriesWhileDown };
  } finally {
    for (const t of timers) clearTimeout(t);
    cloud.ctx.faults.credentialsDown = undefined;
    await cloud.close();
  }
  const events = JSON.stringify(records.filter((r) => r.event !== undefined && r.event !== 'ack').slice(0, 80));
  assert.is(run.code, DEVICE_EXIT.OK, `${run.stderr}\n${events}`);
  const count = (event: string) => records.filter((r) => r.event === event).length;
  process.stdout.write(`\n    accelerated run: ${(run.realMs / 1000).toFixed(1)} s real for ${FRAMES / 600} device-minutes at ×${SCALE}; `
    + `${count('credentials')} credentials, ${count('credentials-retry')} credentials retries, ${count('connected')} connections\n`);
  const s = records.find((r) => r.type === 'summary')!;
  assert.equal([s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped], [FRAMES, FRAMES / 10, FRAMES / 10, 0], events);
});

test('the scheduled refresh fell in the outage: refused (503) and retried with backoff, fresh credentials after it, before the old ones expired', () => {
  const { records, logged, outage } = run;
  assert.ok(outage.on > 0 && outage.off > outage.on, 'the outage happened');
  assert.ok(outage.off - outage.on >= 120_000 && outage.off - outage.on < 130_000, `down for ${outage.off - outage.on} device-ms`);
  const retries = records.filter((r) => r.event === 'credentials-retry');
  assert.ok(retries.length >= 2 && run.retriesWhileDown >= 2, `${retries.length} retries, ${run.retriesWhileDown} while down`);
  for (const r of retries) assert.is(r.code, 'IOT_PROVIDER_UNAVAILABLE', JSON.stringify(r));
  // The provider's own log: every refusal inside the outage, every success outside it.
  const provider = logged.filter((l) => l.event === 'credentials-request');
  const refused = provider.filter((l) => l.fields.status === 503);
  assert.ok(refused.length >= 2, `${refused.length} refusals`);
  for (const l of refused) assert.ok(l.at >= outage.on && l.at <= outage.off + 1000, `503 at ${l.at}, outage ${outage.on}..${outage.off}`);
  for (const l of provider.filter((p) => p.fields.status === 200)) assert.ok(l.at < outage.on || l.at >= outage.off, `200 at ${l.at} inside the outage`);
  // Credentials: one set every 10 device-minutes, and after the outage a fresh set while the old one still held.
  const issued = records.filter((r) => r.event === 'credentials').map((r) => Date.parse(String(r.expiration)));
  assert.ok(issued.length >= 4, `${issued.length} credentials`);
  const before = issued.filter((e) => e - LIFETIME_S * 1000 < outage.on);
  const after = issued.filter((e) => e - LIFETIME_S * 1000 >= outage.off);
  assert.ok(before.length >= 2 && after.length >= 1, `${before.length} before the outage, ${after.length} after`);
  const fresh = after[0]! - LIFETIME_S * 1000;
  assert.ok(fresh < before[before.length - 1]! - 60_000, `fresh credentials at ${fresh}, the old ones expired at ${before[before.length - 1]}`);
  // Once it had its first credentials, the uploader never went without usable ones (at boot it waits for them).
  const first = run.arrived.get(records.find((r) => r.event === 'credentials')!)!;
  const waited = records.filter((r) => r.event === 'retry' && r.code === 'UPLOAD_NO_CREDENTIALS' && run.arrived.get(r)! > first);
  assert.equal(waited, [], 'never waited for credentials after the first ones');
});

test('no request was ever refused: the reconnects during the outage and after the old keys expired were signed with valid credentials', () => {
  const { logged, drops, outage } = run;
  assert.is(drops.length, 2, 'two connections dropped');
  // The cloud logs each PutMedia connection as it ends, with its length in the cloud's (device) time.
  const starts = logged.filter((l) => l.event === 'put-media' && l.fields.stream === THING).map((l) => l.at - Number(l.fields.ms));
  assert.ok(starts.some((t) => t > drops[0]! && t < outage.off), `a PutMedia signed during the outage (connections from ${starts.join(', ')})`);
  assert.ok(starts.some((t) => t > drops[1]!), `a PutMedia signed after the old keys expired (connections from ${starts.join(', ')})`);
  // The one refusal expected: at boot the thing's stream does not exist yet (DescribeStream 404, then CreateStream).
  const refused = logged.filter((l) => l.event === 'request' && Number(l.fields.status) >= 400);
  assert.equal(refused.map((l) => `${String(l.fields.path)} ${String(l.fields.status)} ${String(l.fields.error)}`),
    ['/describeStream 404 ResourceNotFoundException'], 'refused requests');
  assert.ok(refused[0]!.at < drops[0]!, 'the stream was created at boot');
  assert.is(logged.filter((l) => l.event === 'sigv4-mismatch').length, 0, 'no signature mismatch');
});

test('from the stored fragments: every frame fed is stored once, timecodes contiguous (ListFragments, GetMedia, ffprobe)', async () => {
  // A cloud at real time again for the SDK reader; the fragments are in its state directory.
  const cloud = await cloudAt(1);
  try {
    const byTimestamp = new Map<number, number>();
    for (const f of storedFragments(cloud, THING)) byTimestamp.set(f.producerTimestampMs, f.durationMs);
    const starts = [...byTimestamp.keys()].sort((a, b) => a - b);
    assert.is(starts.length, FRAMES / 10, 'one fragment per second of camera');
    const gaps = starts.slice(1).map((t, i) => t - starts[i]! - byTimestamp.get(starts[i]!)!).filter((g) => Math.abs(g) > 1);
    assert.equal(gaps, [], 'each fragment starts where the previous one ends');
    const out = await getMedia(cloud, THING, tmp.dir);
    assert.is(decodeErrors(out), '');
    // A fragment replayed after a dropped connection may be stored twice: frames are counted by timestamp.
    const pts = [...new Set(framePts(out).map((p) => Math.round(p * 1000)))].sort((a, b) => a - b);
    assert.is(pts.length, FRAMES, 'every frame fed');
    const steps = pts.slice(1).map((p, i) => p - pts[i]!).filter((d) => Math.abs(d - FRAME_MS) > 1);
    assert.equal(steps, [], 'frame timestamps 100 ms apart, none missing');
  } finally {
    await cloud.close();
    tmp.remove();
  }
});

/** The fixture's bytes: its 10 s of camera, for the feed's bytes per second. */
function one10sBytes(): number {
  return readFileSync(GOP10).length;
}

test.run();
