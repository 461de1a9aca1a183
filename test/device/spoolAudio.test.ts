// Issue 15 with an audio camera: spool records carry whatever the fragment holds — video frames and audio packets,
// interleaved as the live path sends them. The pi-zero-w image under `qemu-arm -cpu arm1176`, time-scaled (4
// device-seconds per real second), its RAM pool cut to ~3 s, H.264 on stdin and AAC (ADTS) on fd 3, both paced as
// a live camera and microphone. The device boots with no network for 15 device-seconds (5x the pool), then the
// cloud starts. Judged from what the local KVS stored: every video frame and every audio packet fed, once, in order
// (GetMedia, ffprobe's frame and packet counts, mkvinfo's blocks per Cluster), both tracks in every fragment; and
// from the spool folder (empty, no files left).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdtsHeader } from '../../firmware/core/audio/AdtsHeader.ts';
import type { SpoolBudget } from '../../firmware/core/config/spoolBudget.ts';
import { buildImage, imageDir } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { clusterBlocks, decodedFrameCount, FIXTURES, ROOT, tempDir, tool } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia, storedFragments } from './storedMedia.ts';
import { offlineFromBoot } from './offlineFromBoot.ts';

const test = suite('pi-zero-w under QEMU, time-scaled: an audio camera through a 15-s outage from boot and the spool');
const tmp = tempDir('fieldcam-spool-audio-');
const SCALE = 4;
const LOOPS = 3;
const VIDEO = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264')); // 10 s, 10 fps, 1-s fragments
/** ~3 s of this camera: any outage longer than that spills to the spool; audio shares the pool (withAudio). */
const POOL = { bitrateKbps: 64, bufferSeconds: 3, fps: 10, maxFrameBytes: 8192 };
const SPOOL: Partial<SpoolBudget> = { maxBytes: 64 << 20, minFreeBytes: 16 << 20, drainKbps: 400, maxRecordBytes: 262_144 };
const OUTAGE_S = 15;
/** AAC frames of the fixture (64 ms each, 16 kHz mono) that end inside its 10 s of video. */
const AAC_FRAMES = 156;

test.after(() => tmp.remove());

test('every video frame and audio packet fed is stored once, in order, both tracks in each fragment; the spool empties', async () => {
  const manifest = loadBoardManifest('pi-zero-w');
  const image = await buildImage(manifest, { typecheck: false });
  const aac = readFileSync(join(FIXTURES, 'aac-16khz-mono-10s.aac'));
  const h = new AdtsHeader();
  let end = 0;
  for (let i = 0; i < AAC_FRAMES; i++) {
    h.parse(aac, end, aac.length - end, end, true);
    end += h.frameLength;
  }
  const mic = join(tmp.dir, 'mic.aac');
  writeFileSync(mic, Buffer.concat(Array.from({ length: LOOPS }, () => aac.subarray(0, end))));
  const camera = join(tmp.dir, 'camera.h264');
  writeFileSync(camera, Buffer.concat(Array.from({ length: LOOPS }, () => VIDEO)));

  const name = 'spool-audio';
  const stateDir = join(tmp.dir, 'cloud');
  const origin = Date.now();
  const cloudConfig = { timeScale: SCALE, timeOrigin: origin };
  let cloud: RunningCloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes], config: cloudConfig });
  const port = Number(new URL(cloud.endpoint).port);
  const caFile = cloud.caFile;
  await cloud.close(); // the device boots with nothing to talk to
  const spoolDir = join(tmp.dir, 'spool');
  const configPath = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(configPath, {
    board: { ...manifest, pool: POOL },
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: '127.0.0.1', port, caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    recorded: true,
    createRetentionHours: 24,
    statusIntervalMs: 500,
    audio: { codec: 'aac', fd: 3, sampleRate: 16000, channels: 1 },
    spool: { dir: spoolDir, budget: SPOOL },
  });
  const records: Record<string, unknown>[] = [];
  const board = bootBoard({
    image: {
      dir: imageDir('pi-zero-w'),
      qemuCpu: image.qemuCpu!,
      runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)],
    },
    config: configPath,
    video: camera,
    // A touch faster than real time, so the microphone's last packets are in before the camera's end (the device
    // reads the two in step and never runs ahead on audio).
    audio: [{ file: mic, bytesPerSecond: end / 9.5 }],
    loop: false,
    cwd: ROOT,
    bytesPerSecond: VIDEO.length / 10,
    rate: SCALE,
    onRecord: (r) => records.push(r),
  });
  const guard = setTimeout(() => board.child.kill('SIGKILL'), 180_000);
  try {
    const held = await offlineFromBoot(records, OUTAGE_S, SCALE);
    cloud = await startCloud({ stateDir, port, routes: [...mediaRoutes], config: cloudConfig });
    const { code, stderr } = await board.exited;
    clearTimeout(guard);
    type Summary = Record<string, unknown> & { audio: { packetsIn: number; packetsQueued: number; silencePackets: number; packetsSent: number } };
    const s = (records.find((r) => r.type === 'summary') ?? {}) as Summary;
    assert.is(code, 0, `${stderr}\n${JSON.stringify(s)}`);
    process.stdout.write(
      `\n# during the outage: ${JSON.stringify({ spoolFragments: held.spoolFragments, spoolBytes: held.spoolBytes, poolSlotsInUse: held.poolSlotsInUse })}\n# summary: ${JSON.stringify(s)}\n`,
    );
    assert.ok(Number(held.spoolFragments) >= 10, `the outage went to the spool: ${JSON.stringify(held)}`);
    assert.equal([s.framesIn, s.framesDropped], [LOOPS * 100, 0], `frames fed, none dropped: ${JSON.stringify(s.drops)}`);
    assert.equal(
      [s.audio.packetsIn, s.audio.packetsQueued, s.audio.silencePackets],
      [LOOPS * AAC_FRAMES, LOOPS * AAC_FRAMES, 0],
      `every packet read and queued: ${JSON.stringify(s.audio)}`,
    );
    assert.ok(Number(s.spoolFragmentsSpooled) >= 10, `spooled ${String(s.spoolFragmentsSpooled)}`);
    assert.is(s.spoolFragmentsRefused, 0, 'no fragment refused by the spool');
    assert.is(s.spoolFragments, 0, 'the spool is empty');
    assert.equal(
      readdirSync(spoolDir).filter((n) => n.endsWith('.seg')),
      [],
      'its segment files are gone',
    );
    const stamps = storedFragments(cloud, name).map((f) => f.producerTimestampMs);
    assert.is(new Set(stamps).size, stamps.length, 'no fragment stored twice');
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, `in order: ${stamps[i - 1]} then ${stamps[i]}`);
    assert.is(stamps.length, LOOPS * 10, 'one-second fragments');

    const file = await getMedia(cloud, name, tmp.dir);
    assert.is(decodedFrameCount(file), LOOPS * 100, 'every video frame, decoded');
    const packets = tool('ffprobe', [
      '-v',
      'error',
      '-count_packets',
      '-select_streams',
      'a:0',
      '-show_entries',
      'stream=nb_read_packets',
      '-of',
      'csv=p=0',
      file,
    ]);
    assert.is(Number(packets.stdout.trim()), LOOPS * AAC_FRAMES, 'every audio packet');
    const clusters = clusterBlocks(file);
    assert.is(clusters.length, LOOPS * 10);
    const last = new Map<number, number>();
    for (const [i, blocks] of clusters.entries()) {
      assert.ok(blocks.some((b) => b.track === 1) && blocks.some((b) => b.track === 2), `fragment ${i} carries both tracks`);
      for (const b of blocks) {
        assert.ok(b.t > (last.get(b.track) ?? -1), `track ${b.track}: block at ${b.t} s after ${last.get(b.track)} s (fragment ${i})`);
        last.set(b.track, b.t);
      }
    }
  } finally {
    clearTimeout(guard);
    await cloud.close();
  }
});

test.run();
