// Issue 15's power-cut proof at the device level: the sim-x86 image (the same firmware and C host as the Pi images,
// natively, so many boots stay cheap), time-scaled, its spool in one folder across boots. Each boot is killed with
// SIGKILL at a random point, alternately while it spools (no network) and while it drains (network up, a slow
// drain), and the spool folder is read after each cut as the next boot will read it. A last boot ends cleanly.
// Judged from what the local cloud stored: every fragment that was on storage at any cut is stored, the stream
// decodes without an error, at most one fragment per cut is stored twice, and the spool ends empty.
// FIELDCAM_SPOOL_CUTS=50 runs 50 cuts (about 2.5 minutes); the default 12 keeps `npm test` cheap.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeStorage } from '../../firmware/boards/node/nodeStorage.ts';
import { deriveSpoolSizing, type SpoolBudget } from '../../firmware/core/config/spoolBudget.ts';
import { SpoolLog } from '../../firmware/core/spool/SpoolLog.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest, type BoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, ROOT, tempDir, tool } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia, storedFragments } from './storedMedia.ts';

const test = suite('sim-x86 device, time-scaled: SIGKILL at random points while spooling and while draining, then a clean boot');
const tmp = tempDir('fieldcam-spool-cuts-');
const SCALE = 4;
const CUTS = Number(process.env.FIELDCAM_SPOOL_CUTS ?? 12);
const FIXTURE = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'));
const POOL = { bitrateKbps: 64, bufferSeconds: 3, fps: 10, maxFrameBytes: 8192 };
const SPOOL: SpoolBudget = { maxBytes: 64 << 20, minFreeBytes: 16 << 20, drainKbps: 260, maxRecordBytes: 262_144 };
let image: ImageManifest;
let manifest: BoardManifest;

test.after(() => tmp.remove());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function spoolTimecodes(dir: string): { timecodes: number[]; torn: number } {
  const sizing = deriveSpoolSizing(SPOOL, POOL, manifest.stream);
  const log = new SpoolLog({
    storage: nodeStorage,
    dir,
    segmentBytes: sizing.segmentBytes,
    maxRecords: sizing.maxRecords,
    maxRecordBytes: SPOOL.maxRecordBytes,
  });
  const report = log.open();
  const timecodes: number[] = [];
  for (let i = 0; i < log.count; i++) timecodes.push(Math.round(log.timecodeAt(i)));
  log.close();
  return { timecodes, torn: report.cutRecords };
}

test('build the sim-x86 image', async () => {
  manifest = loadBoardManifest('sim-x86');
  image = await buildImage(manifest, { typecheck: false });
});

test(`${CUTS} power cuts at random points, spooling and draining: nothing on storage lost, at most one duplicate per cut`, async () => {
  const name = 'spool-power-cuts';
  const origin = Date.now();
  const cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes], config: { timeScale: SCALE, timeOrigin: origin } });
  const port = Number(new URL(cloud.endpoint).port);
  const spoolDir = join(tmp.dir, 'spool');
  const camera = join(tmp.dir, 'camera.h264');
  writeFileSync(camera, Buffer.concat([FIXTURE, FIXTURE, FIXTURE]));
  const configFor = (file: string, cloudPort: number, drainKbps: number) => {
    const path = join(tmp.dir, `${file}.json`);
    writeDeviceConfig(path, {
      board: { ...manifest, pool: POOL },
      streamName: name,
      region: 'us-east-1',
      endpoint: { host: '127.0.0.1', port: cloudPort, caFile: cloud.caFile },
      credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
      codec: 'h264',
      live: true,
      recorded: true,
      createRetentionHours: 24,
      statusIntervalMs: 500,
      spool: { dir: spoolDir, budget: { ...SPOOL, drainKbps } },
    });
    return path;
  };
  const offline = configFor('offline', 1, SPOOL.drainKbps);
  const draining = configFor('draining', port, 100);
  const online = configFor('online', port, SPOOL.drainKbps);
  const boot = (config: string, video: string, records: Record<string, unknown>[]) =>
    bootBoard({
      image: { dir: imageDir('sim-x86'), runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)] },
      config,
      video,
      loop: false,
      cwd: ROOT,
      bytesPerSecond: FIXTURE.length / 10,
      rate: SCALE,
      onRecord: (r) => records.push(r),
    });
  const mustKeep = new Set<number>();
  let torn = 0;
  const log: string[] = [];
  try {
    for (let k = 0; k < CUTS; k++) {
      const spooling = k % 2 === 0;
      const records: Record<string, unknown>[] = [];
      const board = boot(spooling ? offline : draining, camera, records);
      // Spooling: 3-9 device-seconds after the first status line (the firmware up, the camera flowing). Draining:
      // 0.2-2.5 device-seconds after the connection is up, while the backlog is being sent.
      const ready = (r: Record<string, unknown>) => (spooling ? r.type === 'status' : r.type === 'event' && r.event === 'connected');
      for (let waited = 0; waited < 30_000 && !records.some(ready); waited += 20) await sleep(20);
      const at = spooling ? 3 + Math.random() * 6 : 0.2 + Math.random() * 2.3;
      await sleep((at * 1000) / SCALE);
      board.child.kill('SIGKILL');
      await board.exited;
      const after = spoolTimecodes(spoolDir);
      torn += after.torn;
      for (const tc of after.timecodes) mustKeep.add(tc);
      log.push(`${spooling ? 'S' : 'D'}${at.toFixed(1)}:${after.timecodes.length}${after.torn ? `+${after.torn}torn` : ''}`);
    }
    const records: Record<string, unknown>[] = [];
    const last = boot(online, join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), records);
    const guard = setTimeout(() => last.child.kill('SIGKILL'), 120_000);
    const { code, stderr } = await last.exited;
    clearTimeout(guard);
    process.stdout.write(`\n# cuts (S spooling / D draining, device s: fragments on storage after): ${log.join(' ')}\n`);
    assert.is(code, 0, `${stderr}\n${JSON.stringify(records.find((r) => r.type === 'summary'))}`);
    assert.equal(
      readdirSync(spoolDir).filter((n) => n.endsWith('.seg')),
      [],
      'the spool is empty at the end',
    );
    const copies = new Map<number, number>();
    for (const f of storedFragments(cloud, name)) copies.set(f.producerTimestampMs, (copies.get(f.producerTimestampMs) ?? 0) + 1);
    const missing = [...mustKeep].filter((tc) => !copies.has(tc));
    assert.equal(missing, [], `every fragment on storage at a cut is stored (${mustKeep.size} in all, ${torn} torn records cut)`);
    const twice = [...copies.values()].filter((n) => n > 1).length;
    assert.ok(twice <= CUTS, `at most one duplicate per cut: ${twice} fragments stored more than once after ${CUTS} cuts`);
    const out = await getMedia(cloud, name, tmp.dir);
    const probe = tool('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out]);
    assert.is(probe.stderr.trim(), '', 'the stored stream decodes without an error');
  } finally {
    await cloud.close();
  }
});

test.run();
