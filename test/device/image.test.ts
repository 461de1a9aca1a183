// The firmware image — our C host running XS with the bundled app — streaming to the local KVS: natively
// (sim-x86), as the Raspberry Pi Zero would run it, under `qemu-arm -cpu arm1176` (pi-zero-w), and as a Pi 4 on
// 64-bit Raspberry Pi OS would, under `qemu-aarch64 -cpu cortex-a72` (pi-4). Judged from
// what the cloud stored and from GetMedia decoded by ffprobe; the ARM upload is compared byte for byte with
// the Node board's for the same input and pinned clock.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard, bootCommand } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig, type DeviceConfigInput } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { ensureCertificates } from '../../sim/cloud/tls/ensureCertificates.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { distinctTimestamps, getMedia, storedFragments } from './storedMedia.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('firmware image on XS (native, qemu-arm arm1176, qemu-aarch64 cortex-a72) against the local KVS');
const tmp = tempDir('fieldcam-image-');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const images: Record<string, ImageManifest> = {};
let cloud: RunningCloud;

type Record_ = Record<string, unknown>;

function config(board: string, name: string, extra: Partial<DeviceConfigInput> = {}): string {
  const path = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(path, {
    board: loadBoardManifest(board),
    streamName: name,
    ...localCloudTarget(cloud),
    codec: 'h264',
    live: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    ...extra,
  });
  return path;
}

/** Boots the board's image once with the file as its camera (as fast as it reads) and waits for its exit. */
function boot(board: string, configPath: string, video = GOP10): Promise<{ code: number; stderr: string; records: Record_[] }> {
  return bootWith(images[board]!, board, configPath, video);
}

async function bootWith(image: ImageManifest, board: string, configPath: string, video = GOP10): Promise<{ code: number; stderr: string; records: Record_[] }> {
  const records: Record_[] = [];
  const booted = bootBoard({
    image: {
      dir: imageDir(board),
      runtimeFlags: image.runtimeFlags,
      ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
      ...(image.qemu ? { qemu: image.qemu } : {}),
    },
    config: configPath,
    video,
    loop: false,
    bytesPerSecond: 0,
    onRecord: (r) => records.push(r),
    cwd: ROOT,
  });
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 240_000);
  const { code, stderr } = await booted.exited;
  clearTimeout(guard);
  return { code, stderr, records };
}

function summaryOf(records: Record_[]): Record_ {
  const s = records.find((r) => r.type === 'summary');
  assert.ok(s, `a summary line among ${JSON.stringify(records)}`);
  return s!;
}

test.before(async () => {
  // build the sim-x86, pi-zero-w and pi-4 images
  for (const board of ['sim-x86', 'pi-zero-w', 'pi-4']) images[board] = await buildImage(loadBoardManifest(board), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

test('the images name their runtime target and QEMU CPU', () => {
  assert.is(images['pi-zero-w']!.qemuCpu, 'arm1176');
  assert.equal([images['pi-4']!.target, images['pi-4']!.qemu, images['pi-4']!.qemuCpu], ['aarch64', 'qemu-aarch64', 'cortex-a72']);
});

for (const board of ['sim-x86', 'pi-zero-w', 'pi-4']) {
  test(`${board}: the image streams the fixture; every fragment PERSISTED; GetMedia decodes all 100 frames`, async () => {
    const name = `image-${board}`;
    const { code, stderr, records } = await boot(board, config(board, name));
    assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${JSON.stringify(records)}`);
    const s = summaryOf(records);
    assert.equal([s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped], [100, 10, 10, 0]);
    assert.ok(Number(s.peakHeapBytes) > 0 && Number(s.peakHeapBytes) <= images[board]!.sizes.heapLimitBytes, 'peak heap within the limit');
    const ts = distinctTimestamps(cloud, name);
    assert.is(ts.length, 10);
    for (let i = 1; i < ts.length; i++) assert.is(ts[i]! - ts[i - 1]!, 1000);
    const out = await getMedia(cloud, name, tmp.dir);
    assert.is(decodeErrors(out), '');
    assert.is(decodedFrameCount(out), 100);
  });
}

test('pi-zero-w under QEMU uploads exactly the bytes the Node board uploads (same input, pinned clock)', async () => {
  const pin = { startTimeMs: Math.floor(Date.now() / 1000) * 1000 - 3_600_000, segmentUid: '00112233445566778899aabbccddeeff' };
  const fd = openSync(GOP10, 'r');
  const nodeRecords: Record_[] = [];
  const nodeCode = await runDevice(
    nodeBoard({ print: (l) => nodeRecords.push(JSON.parse(l) as Record_), onStop: () => {} }),
    config('pi-zero-w', 'pinned-node', { pin, cameraFd: fd }),
  );
  assert.is(nodeCode, DEVICE_EXIT.OK, JSON.stringify(nodeRecords));
  const arm = await boot('pi-zero-w', config('pi-zero-w', 'pinned-arm', { pin }));
  assert.is(arm.code, DEVICE_EXIT.OK, arm.stderr);
  const a = storedFragments(cloud, 'pinned-node');
  const b = storedFragments(cloud, 'pinned-arm');
  assert.is(a.length, 10);
  assert.is(b.length, 10);
  const store = (name: string) => fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(name)!);
  for (let i = 0; i < a.length; i++) {
    const x = store('pinned-node').readFragment(a[i]!);
    const y = store('pinned-arm').readFragment(b[i]!);
    assert.is(a[i]!.producerTimestampMs, b[i]!.producerTimestampMs);
    assert.ok(Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0, `fragment ${i}: ${x.length} B (Node) vs ${y.length} B (ARM) identical`);
  }
});

test('pi-zero-w: connection reset mid-fragment → reconnect, replay, nothing missing', async () => {
  cloud.ctx.faults.dropAfterBytes = 30_000;
  try {
    const { code, stderr, records } = await boot('pi-zero-w', config('pi-zero-w', 'image-reset'));
    assert.is(code, DEVICE_EXIT.OK, stderr);
    const s = summaryOf(records);
    assert.ok(Number(s.connections) >= 2, `reconnected: ${JSON.stringify(s)}`);
    assert.ok(Number(s.fragmentsReplayed) >= 1);
  } finally {
    delete cloud.ctx.faults.dropAfterBytes;
  }
  assert.is(distinctTimestamps(cloud, 'image-reset').length, 10);
});

test('pi-zero-w: a wrong CA → UPLOAD_TLS_VERIFY from mbedTLS, exit UPLOAD, no stream created', async () => {
  mkdirSync(join(tmp.dir, 'other-ca'), { recursive: true });
  const other = await ensureCertificates(join(tmp.dir, 'other-ca'));
  const port = Number(new URL(cloud.endpoint).port);
  const { code, records } = await boot('pi-zero-w', config('pi-zero-w', 'image-wrong-ca', { endpoint: { host: '127.0.0.1', port, caFile: other.caFile } }));
  assert.is(code, DEVICE_EXIT.UPLOAD);
  const error = records.find((r) => r.type === 'error');
  assert.is(error?.code, 'UPLOAD_TLS_VERIFY', JSON.stringify(records));
  assert.is(cloud.ctx.streams.get('image-wrong-ca'), undefined);
});

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Times the process's threads have gone to sleep and woken again (voluntary context switches, summed over
 * /proc/<pid>/task/*): one per blocking poll() that returned. Counted by the kernel, so the same on an idle and on
 * a loaded machine, unlike CPU time, which a loaded machine inflates.
 */
function wakeups(pid: number): number {
  let n = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'));
    n += Number(m?.[1] ?? 0);
  }
  return n;
}

/** The idle window, and what may happen in it: the session's one-second tick (and a spare wake-up for each). */
const IDLE_WINDOW_MS = 3000;
const MAX_IDLE_WAKEUPS = 2 * (IDLE_WINDOW_MS / 1000 + 1);

test('idle: a connected board waiting for its camera sleeps in poll() (wake-ups and CPU over 3 s, natively and under QEMU)', async () => {
  for (const board of ['sim-x86', 'pi-zero-w']) {
    const image = images[board]!;
    const { command, args } = bootCommand(
      { dir: imageDir(board), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) },
      config(board, `idle-${board}`),
    );
    const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }); // the camera pipe stays open and empty
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // The start's work (stream resolved, TLS handshake, PutMedia answered 200) is done once the session reports
      // `connected`: from there on nothing is due but the session's tick. A fixed pause instead would, on a loaded
      // machine, still be inside the emulated handshake.
      const connected = '"event":"connected"';
      const deadline = Date.now() + 120_000;
      while (!out.includes(connected) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes(connected), `${board} connected: ${out}`);
      const cpu0 = cpuSeconds(child.pid!);
      const woken0 = wakeups(child.pid!);
      await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
      const woken = wakeups(child.pid!) - woken0;
      const used = cpuSeconds(child.pid!) - cpu0;
      // A loop that polls on a short timer wakes hundreds of times; one that spins (poll timeout 0) never sleeps
      // and burns CPU: at most 2% of the window (a spinner gets far more than that of a core even on a loaded machine).
      assert.ok(woken <= MAX_IDLE_WAKEUPS, `${board}: woke ${woken} times in ${IDLE_WINDOW_MS} ms idle (at most ${MAX_IDLE_WAKEUPS})`);
      assert.ok(used <= (0.02 * IDLE_WINDOW_MS) / 1000, `${board}: ${used.toFixed(2)} s of CPU in ${IDLE_WINDOW_MS} ms idle (at most 2%)`);
    } finally {
      child.kill('SIGKILL');
    }
  }
});

test('memory: a heap limit below what the board needs → OUT_OF_MEMORY message, exit 6, no core dump', async () => {
  const image = images['pi-zero-w']!;
  const flags = [...image.runtimeFlags];
  flags[flags.indexOf('--heap-limit') + 1] = String(256 * 1024); // a quarter of what the firmware needs at boot
  const { code, stderr } = await bootWith({ ...image, runtimeFlags: flags }, 'pi-zero-w', config('pi-zero-w', 'image-oom'));
  assert.is(code, 6, stderr);
  assert.ok(/OUT_OF_MEMORY: the JS heap reached its limit of \d+ bytes/.test(stderr), stderr);
});

test('an unreadable camera fd → INPUT_READ_FAILED, exit 10 (XS board)', async () => {
  const { code, records } = await boot('sim-x86', config('sim-x86', 'image-badfd', { cameraFd: 9 }));
  assert.is(code, DEVICE_EXIT.CAMERA, JSON.stringify(records));
  assert.is(records.find((r) => r.type === 'error')?.code, 'INPUT_READ_FAILED');
});

test('esp32-cam profile (MJPEG, 32-bit ARM build, its memory limit): every fragment PERSISTED, 30 frames decoded', async () => {
  images['esp32-cam'] = await buildImage(loadBoardManifest('esp32-cam'), { typecheck: false });
  const name = 'image-esp32-cam';
  const { code, stderr, records } = await boot(
    'esp32-cam',
    config('esp32-cam', name, { codec: 'mjpeg', fps: { num: 10, den: 1 } }),
    join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg'),
  );
  assert.is(code, DEVICE_EXIT.OK, stderr);
  const s = summaryOf(records);
  assert.equal([s.framesIn, s.fragmentsPersisted], [30, s.fragmentsIn]);
  assert.ok(Number(s.peakHeapBytes) <= images['esp32-cam']!.sizes.heapLimitBytes);
  // The app after boot within the ESP32's budget (the runtime enforces it; here the figure is also checked).
  const app = Number(s.peakHeapBytes) - Number(s.baselineHeapBytes);
  assert.ok(
    Number(s.baselineHeapBytes) > 0 && app > 0 && app <= loadBoardManifest('esp32-cam').memory.appHeapBudgetBytes!,
    `app heap ${app} B: ${JSON.stringify(s)}`,
  );
  assert.is(decodedFrameCount(await getMedia(cloud, name, tmp.dir)), 30);
});

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test.run();
