// Device connections behind a bad link (issue 11 items 1, 7, 8): the pi-zero-w image under `qemu-arm -cpu
// arm1176`, in its own network namespace where the cloud's address leads through a FaultProxy
// (sim/faults/faultNetns.ts) that stalls, throttles or resets the path on command. Everything runs at a time
// scale (fieldcam-runtime --time-scale, the cloud's timeScale and the camera's rate, from one origin), and each
// outcome is judged from what the cloud stored: every frame fed is stored or counted as dropped, decodable, in
// order, and no fragment (producer timecode) is stored twice.
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { startFaultNetns, type FaultNetns } from '../../sim/faults/faultNetns.ts';
import type { FaultMode } from '../../sim/faults/FaultProxy.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, framePts, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia, storedFragments } from './storedMedia.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('device connections behind a fault proxy (pi-zero-w under qemu-arm, time-scaled)');
const tmp = tempDir('fieldcam-connections-');
const BOARD = 'pi-zero-w';
/** Device seconds per real second. */
const SCALE = 4;
let image: ImageManifest;

type Rec = Record<string, unknown>;

/**
 * A camera file of `seconds` (a multiple of 10): copies of the 10-second 320x240 fixture, 10 fps, a key frame
 * every 10 frames (1-second fragments). Annex B streams concatenate: each copy starts with SPS, PPS and an IDR.
 */
function makeVideo(seconds: number): string {
  const path = join(tmp.dir, `camera-${seconds}s.h264`);
  const one = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'));
  writeFileSync(path, Buffer.concat(Array.from({ length: seconds / 10 }, () => one)));
  return path;
}

interface Scenario {
  readonly name: string;
  readonly seconds: number;
  /** Fault changes at device seconds after boot. */
  readonly faults: readonly { readonly at: number; readonly mode: FaultMode }[];
  readonly live?: boolean;
}

interface Outcome {
  readonly code: number;
  readonly stderr: string;
  readonly records: Rec[];
  /** Device seconds after boot when each record arrived. */
  readonly when: Map<Rec, number>;
  readonly applied: { readonly at: number; readonly mode: FaultMode }[];
  readonly cloud: RunningCloud;
  readonly video: string;
  readonly net: FaultNetns;
}

async function run(s: Scenario): Promise<Outcome> {
  const dir = join(tmp.dir, s.name);
  mkdirSync(dir, { recursive: true });
  const video = makeVideo(s.seconds);
  const origin = Date.now();
  const deviceSeconds = () => ((Date.now() - origin) * SCALE) / 1000;
  const cloud = await startCloud({ stateDir: join(dir, 'cloud'), port: 0, routes: [...mediaRoutes], config: { timeScale: SCALE, timeOrigin: origin } });
  const port = Number(new URL(cloud.endpoint).port);
  const net = await startFaultNetns({ cloudPort: port, dir, root: ROOT });
  const config = join(dir, 'device.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest(BOARD),
    streamName: s.name,
    ...localCloudTarget(cloud, { host: '127.0.0.1', port }),
    codec: 'h264',
    live: s.live ?? false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
  });
  const records: Rec[] = [];
  const when = new Map<Rec, number>();
  const applied: { at: number; mode: FaultMode }[] = [];
  const timers: NodeJS.Timeout[] = [];
  const booted = bootBoard({
    image: {
      dir: imageDir(BOARD),
      runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)],
      ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
    },
    config,
    video,
    loop: false,
    cwd: ROOT,
    wrap: net.wrap,
    // The camera keeps real time in the device's time: the file's bitrate, times the scale.
    bytesPerSecond: statSync(video).size / s.seconds,
    rate: SCALE,
    onRecord: (r) => {
      records.push(r);
      when.set(r, deviceSeconds());
    },
  });
  for (const f of s.faults) {
    timers.push(
      setTimeout(
        () => {
          applied.push({ at: deviceSeconds(), mode: f.mode });
          void net.setMode(f.mode);
        },
        (f.at * 1000) / SCALE,
      ),
    );
  }
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 150_000);
  const { code, stderr } = await booted.exited;
  clearTimeout(guard);
  for (const t of timers) clearTimeout(t);
  return { code, stderr, records, when, applied, cloud, video, net };
}

function summaryOf(records: Rec[]): Rec {
  const s = records.find((r) => r.type === 'summary');
  assert.ok(s, `a summary line among ${JSON.stringify(records.slice(-20))}`);
  return s!;
}

/** Every frame fed is stored or dropped by reason; stored fragments are distinct, in order, and decode. */
async function judgeStored(o: Outcome, name: string): Promise<{ stored: number; duplicates: number }> {
  const s = summaryOf(o.records);
  const fed = framePts(o.video).length;
  assert.is(s.framesIn, fed, 'every frame of the camera was read');
  const fragments = storedFragments(o.cloud, name);
  const stamps = fragments.map((f) => f.producerTimestampMs);
  const distinct = new Set(stamps);
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! >= stamps[i - 1]!, `stored in order at ${i}: ${stamps[i - 1]} then ${stamps[i]}`);
  const media = await getMedia(o.cloud, name, tmp.dir);
  if (process.env.FIELDCAM_DEBUG_MEDIA) copyFileSync(media, join(process.env.FIELDCAM_DEBUG_MEDIA, `${name}.mkv`));
  const t0 = stamps[0] ?? 0;
  const listing = JSON.stringify(fragments.map((f) => [f.producerTimestampMs - t0, f.size, f.header.slice(0, 8)]));
  assert.is(decodeErrors(media), '', `stored ${stamps.length} fragments (${distinct.size} distinct): ${listing}`);
  const stored = decodedFrameCount(media);
  assert.is(stored + Number(s.framesDropped), fed, `fed ${fed} = stored ${stored} + dropped ${String(s.framesDropped)}`);
  return { stored, duplicates: stamps.length - distinct.size };
}

test.before(async () => {
  // build the pi-zero-w image
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  assert.is(image.qemuCpu, 'arm1176');
});

test('item 1: a path that accepts and forwards nothing costs one deadline per attempt; the device reconnects when the path returns', async () => {
  const name = 'stall';
  const o = await run({
    name,
    seconds: 80,
    faults: [
      { at: 15, mode: { kind: 'stall' } },
      { at: 75, mode: { kind: 'pass' } },
    ],
  });
  try {
    assert.is(o.code, DEVICE_EXIT.OK, `${o.stderr}\n${JSON.stringify(o.records.slice(-10))}`);
    const stallAt = o.applied[0]!.at;
    const passAt = o.applied[1]!.at;
    const during = o.records.filter((r) => o.when.get(r)! > stallAt && o.when.get(r)! < passAt);
    const timeouts = during.filter((r) => r.event === 'retry' && (r.code === 'NET_CONNECT_TIMEOUT' || r.code === 'NET_TLS_TIMEOUT'));
    // 60 device-seconds of stall: staleness (30 s), then attempts bounded by connect + TLS (20 s) plus backoff.
    assert.ok(timeouts.length >= 1, `attempts torn down at their deadline while stalled: ${JSON.stringify(during)}`);
    for (const t of timeouts) {
      const next = o.records.slice(o.records.indexOf(t) + 1).find((r) => r.event === 'connecting' || r.event === 'resolving');
      assert.ok(next, "a torn-down attempt is followed by a new one (the supervisor's backoff took over)");
    }
    const after = o.records.find((r) => r.event === 'connected' && o.when.get(r)! > passAt);
    assert.ok(after, 'connected again after the path returned');
    assert.ok(
      o.when.get(after!)! - passAt < 30,
      `reconnected within one deadline and backoff of the path's return (${(o.when.get(after!)! - passAt).toFixed(1)} device-s)`,
    );
    const { duplicates } = await judgeStored(o, name);
    process.stdout.write(
      `\n    stall: ${timeouts.length} attempts torn down while stalled; reconnected ${(o.when.get(after!)! - passAt).toFixed(1)} device-s after the path returned; ${duplicates} duplicate fragments\n`,
    );
  } finally {
    await o.net.close();
    await o.cloud.close();
  }
});

test('item 7: a link at an eighth of the camera rate: no stale reset, whole oldest fragments dropped, the newest arrive', async () => {
  const name = 'throttle';
  // The camera sends ~8 kB per device-second: 1 kB per device-second is SCALE kB per real second.
  const o = await run({
    name,
    seconds: 60,
    live: true,
    faults: [
      { at: 5, mode: { kind: 'throttle', bytesPerSecond: 1000 * SCALE } },
      { at: 50, mode: { kind: 'pass' } },
    ],
  });
  try {
    assert.is(o.code, DEVICE_EXIT.OK, `${o.stderr}\n${JSON.stringify(o.records.slice(-10))}`);
    const stale = o.records.filter((r) => r.event === 'retry' && r.code === 'UPLOAD_STALE').length;
    const latency = o.records.filter((r) => r.event === 'dropped' && r.code === 'UPLOAD_LATENCY_PRESSURE').length;
    const s = summaryOf(o.records);
    const { stored, duplicates } = await judgeStored(o, name);
    process.stdout.write(
      `\n    throttle: stale ${stale}, latency-drop events ${latency}, frames dropped ${String(s.framesDropped)}, replayed ${String(s.fragmentsReplayed)}, stored ${stored} frames, ${duplicates} duplicates\n`,
    );
    assert.is(stale, 0, 'a slow link that moves is never stale');
    assert.is(s.fragmentsReplayed, 0, 'nothing replayed');
    assert.is(duplicates, 0);
    const stamps = storedFragments(o.cloud, name).map((f) => f.producerTimestampMs);
    assert.is(stamps[stamps.length - 1]! - stamps[0]!, 59_000, "the camera's last second arrived");
  } finally {
    await o.net.close();
    await o.cloud.close();
  }
});

test('item 8: connections reset every few seconds: every frame stored or counted; only fragments resent whole without RECEIVED can be stored twice', async () => {
  const name = 'resets';
  const faults: { at: number; mode: FaultMode }[] = [];
  for (let at = 6; at < 50; at += 7) faults.push({ at, mode: { kind: 'reset' } }, { at: at + 0.5, mode: { kind: 'pass' } });
  const o = await run({ name, seconds: 60, faults });
  try {
    assert.is(o.code, DEVICE_EXIT.OK, `${o.stderr}\n${JSON.stringify(o.records.slice(-10))}`);
    const s = summaryOf(o.records);
    const { duplicates } = await judgeStored(o, name);
    process.stdout.write(
      `\n    resets: ${faults.length / 2} resets, ${String(s.connections)} connections, replayed ${String(s.fragmentsReplayed)} ` +
        `(${String(s.fragmentsResentWhole)} sent whole without RECEIVED), ${String(s.fragmentsReceivedUnconfirmed)} RECEIVED not resent, ${duplicates} duplicates\n`,
    );
    assert.ok(Number(s.connections) > faults.length / 4, 'reconnected after the resets');
    const all = storedFragments(o.cloud, name);
    const twice = all
      .filter((f) => all.filter((g) => g.producerTimestampMs === f.producerTimestampMs).length > 1)
      .map((f) => ({ at: f.producerTimestampMs - all[0]!.producerTimestampMs, size: f.size, number: f.fragmentNumber, server: f.serverTimestampMs }));
    // Only a fragment sent whole whose RECEIVED was lost with the connection may be stored twice (the one window
    // the device cannot see into: docs/reliability.md); everything the service acknowledged is never resent.
    assert.ok(
      duplicates <= Number(s.fragmentsResentWhole),
      `duplicates ${duplicates} <= fragments resent whole ${String(s.fragmentsResentWhole)}: ${JSON.stringify(twice)}`,
    );
  } finally {
    await o.net.close();
    await o.cloud.close();
  }
});

test.after(() => {
  tmp.remove();
});

test.run();
