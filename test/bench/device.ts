// `npm run bench`, device part: the firmware image in fieldcam-runtime, natively and under qemu-arm.
//   media path per frame: XS computrons (identical on x86-64 and ARM) and ARM1176 guest instructions (our TCG
//     plugin), as the difference between playing the fixture twice and once, so boot and parsing cancel;
//   the whole device per board (camera → Matroska → SigV4 PutMedia over mbedTLS → local KVS): computrons and
//     guest instructions per frame (same 2-minus-1 method), peak XS heap against the board's limit, peak RSS,
//     boot to the first PutMedia byte, and CPU while idle;
//   the same boards with the control channel: a provisioned bundle (IoT credentials, MQTT over mTLS to the local
//     broker), the camera looped at real time, a `status` command, then a burst of 30, read from its status lines.
// Usage: node --import tsx test/bench/device.ts [1080p.h264] [--boards a,b] [--device-only]
//   (--device-only skips the media-path table; --boards limits both device tables).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor-x';
import { build } from 'esbuild';
import { buildImage, imageDir, ROOT, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/lib/loadBoardManifest.ts';
import { bootCommand } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { putMediaConnections } from '../../sim/cloud/kvs/media/putMediaRoute.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { buildInsnPlugin, countInstructions } from '../../toolchain/qemu/build.mjs';
import { Operator, RunningDevice } from '../device/controlKit.ts';
import { cli } from '../host/control/controlKit.ts';

const FIXTURES = join(ROOT, 'test', 'fixtures');
const H264 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const MJPEG = join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg');

function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}
const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mib = (v: number) => `${(v / 1048576).toFixed(2)} MiB`;

/** The fixture played `times` times back to back (each copy starts with its parameter sets and a key frame). */
function repeated(file: string, times: number, dir: string): string {
  const bytes = readFileSync(file);
  const out = join(dir, `${times}x-${file.split('/').pop()}`);
  writeFileSync(out, Buffer.concat(Array.from({ length: times }, () => bytes)));
  return out;
}

async function mediaCost(dir: string, runtimeX86: string, runtimeArm: string, big1080p: string): Promise<string> {
  const bundle = join(dir, 'media-cost.js');
  await build({ entryPoints: [join(ROOT, 'test', 'bench', 'xs', 'mediaCost.ts')], outfile: bundle, bundle: true, format: 'iife', platform: 'neutral', target: 'es2022', charset: 'ascii', logLevel: 'warning' });
  const rows: (string | number)[][] = [];
  for (const [label, file, codec, fps, scan] of [
    ['320x240 H.264, GOP 10', H264, 'h264', '10', 'js'], ['320x240 H.264, GOP 10', H264, 'h264', '10', 'native'],
    ['320x240 MJPEG', MJPEG, 'mjpeg', '10', 'js'], ['320x240 MJPEG', MJPEG, 'mjpeg', '10', 'native'],
    ['1080p H.264, 4 Mbit/s', big1080p, 'h264', '30', 'native'],
  ] as const) {
    const native = (passes: number) => new Promise<{ frames: number; computrons: number }>((resolve, reject) => {
      const child = spawn(runtimeX86, [bundle, file, codec, fps, String(passes), scan], { cwd: ROOT });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`media-cost exited ${code}`))));
    });
    const arm = async (passes: number) => {
      const r = await countInstructions({ cpu: 'arm1176', program: runtimeArm, args: [bundle, file, codec, fps, String(passes), scan], cwd: ROOT });
      if (r.code !== 0) throw new Error(`media-cost under qemu exited ${r.code}: ${r.stderr}`);
      return { ...(JSON.parse(r.stdout.trim()) as { frames: number; computrons: number }), instructions: Number(r.instructions) };
    };
    const [x1, x2, a1, a2] = [await native(1), await native(2), await arm(1), await arm(2)];
    const frames = x2.frames - x1.frames;
    const bytesPerFrame = readFileSync(file).length / x1.frames;
    const instructions = (a2.instructions - a1.instructions) / frames;
    rows.push([label, scan === 'native' ? 'native memchr (device)' : 'JS loop', n(bytesPerFrame), n((x2.computrons - x1.computrons) / frames),
      x1.computrons === a1.computrons && x2.computrons === a2.computrons ? 'yes' : `NO (${a1.computrons})`,
      n(instructions), (instructions / bytesPerFrame).toFixed(1)]);
  }
  return table(['input', 'byte search', 'bytes/frame', 'computrons/frame', 'same on x86-64 and ARM', 'ARM1176 instructions/frame', 'instructions/payload byte'], rows);
}

interface DeviceRun {
  frames: number;
  computrons: number;
  peakHeapBytes: number;
  baselineHeapBytes: number;
  peakRssBytes: number;
  firstByteMs: number;
}

function configFor(cloud: RunningCloud, dir: string, board: string, name: string, codec: 'h264' | 'mjpeg'): string {
  const url = new URL(cloud.endpoint);
  const path = join(dir, `${name}.json`);
  writeDeviceConfig(path, {
    board: loadBoardManifest(board), streamName: name, region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec, live: false, createRetentionHours: 24, statusIntervalMs: 0, ...(codec === 'mjpeg' ? { fps: { num: 10, den: 1 } } : {}),
  });
  return path;
}

/** One device run with the file as its camera: summary figures, peak RSS (VmHWM) and boot → first PutMedia byte. */
function runDevice(cloud: RunningCloud, image: ImageManifest, config: string, video: string, stream: string): Promise<DeviceRun> {
  const { command, args } = bootCommand({ dir: imageDir(image.board), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) }, config);
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(readFileSync(video));
  let out = '';
  let firstByteMs = -1;
  let peakRssBytes = 0;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakRssBytes = Math.max(peakRssBytes, Number(hwm[1]) * 1024);
    } catch {
      // exited between two polls
    }
    if (firstByteMs < 0 && [...putMediaConnections(cloud.ctx).active, ...putMediaConnections(cloud.ctx).recent].some((c) => c.stream === stream && c.stats.bytes > 0)) {
      firstByteMs = performance.now() - started;
    }
  }, 2);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearInterval(poll);
      const summary = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, number>).find((r) => (r.type as unknown) === 'summary');
      if (code !== 0 || !summary) return reject(new Error(`${image.board} exited ${code}: ${out}`));
      resolve({ frames: summary.framesIn!, computrons: summary.computrons!, peakHeapBytes: summary.peakHeapBytes!, baselineHeapBytes: summary.baselineHeapBytes!, peakRssBytes, firstByteMs });
    });
  });
}

async function deviceCost(dir: string, images: ImageManifest[]): Promise<string> {
  const cloud = await startCloud({ stateDir: join(dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  const rows: (string | number)[][] = [];
  try {
    for (const image of images) {
      const codec = loadBoardManifest(image.board).camera.codec;
      const video = codec === 'mjpeg' ? MJPEG : H264;
      const twice = repeated(video, 2, dir);
      const once = await runDevice(cloud, image, configFor(cloud, dir, image.board, `${image.board}-a`, codec), video, `${image.board}-a`);
      const double = await runDevice(cloud, image, configFor(cloud, dir, image.board, `${image.board}-b`, codec), twice, `${image.board}-b`);
      const frames = double.frames - once.frames;
      let instructions = '-';
      if (image.qemuCpu) {
        const count = async (name: string, file: string) => {
          const { command: _q, args } = bootCommand({ dir: imageDir(image.board), runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu! }, configFor(cloud, dir, image.board, name, codec));
          const r = await countInstructions({ cpu: image.qemuCpu!, program: args[2]!, args: args.slice(3), cwd: ROOT, stdin: readFileSync(file) });
          if (r.code !== 0) throw new Error(`${image.board} under the plugin exited ${r.code}: ${r.stderr}`);
          return Number(r.instructions);
        };
        instructions = n(((await count(`${image.board}-c`, twice)) - (await count(`${image.board}-d`, video))) / frames);
      }
      const limit = image.sizes.heapLimitBytes;
      rows.push([
        image.board, image.qemuCpu ? `qemu-arm -cpu ${image.qemuCpu}` : 'native x86-64',
        n((double.computrons - once.computrons) / frames), instructions,
        `${mib(double.peakHeapBytes)} of ${mib(limit)} (${(100 * (1 - double.peakHeapBytes / limit)).toFixed(0)}% margin)`,
        double.baselineHeapBytes ? `${((double.peakHeapBytes - double.baselineHeapBytes) / 1024).toFixed(0)} KiB of ${(loadBoardManifest(image.board).memory.appHeapBudgetBytes! / 1024).toFixed(0)} KiB` : '-',
        `${mib(double.peakRssBytes)}${image.qemuCpu ? ' (with QEMU)' : ''}`,
        `${once.firstByteMs.toFixed(0)} ms`,
      ]);
    }
  } finally {
    await cloud.close();
  }
  return table(['board', 'run', 'computrons/frame (whole device)', 'ARM instructions/frame (whole device)', 'peak XS heap of limit', 'app heap after boot (budget)', 'peak RSS', 'boot → first PutMedia byte (wall)'], rows);
}

/**
 * One board with its control channel, as a provisioned camera runs: `fieldcam provision` against the local cloud,
 * the bundle booted with the camera looped at real time, one `status` command, then a burst of 30 sent at once;
 * read from the status line after five fragments PERSISTED.
 */
async function controlRow(cloud: RunningCloud, dir: string, image: ImageManifest): Promise<(string | number)[]> {
  const board = loadBoardManifest(image.board);
  const thing = `bench-${image.board}`;
  const provisioned = await cli(cloud, dir, ['provision', '--thing', thing, '--out', join(dir, thing), '--endpoint-url', cloud.endpoint]);
  if (provisioned.status !== 0) throw new Error(`provision ${thing}: ${provisioned.stderr}`);
  const video = board.camera.codec === 'mjpeg' ? MJPEG : H264;
  const seconds = board.camera.codec === 'mjpeg' ? 3 : 10; // the fixtures: 30 and 100 frames at 10 fps
  const device = new RunningDevice({ dir: imageDir(image.board), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) },
    { bundle: join(dir, thing) }, { video, bytesPerSecond: readFileSync(video).length / seconds });
  const operator = await Operator.connect(cloud, thing);
  let peakRssBytes = 0;
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${device.board.child.pid}/status`, 'utf8'));
      if (hwm) peakRssBytes = Math.max(peakRssBytes, Number(hwm[1]) * 1024);
    } catch {
      // exited between two polls
    }
  }, 20);
  try {
    await device.next((r) => r.type === 'control' && r.event === 'connected', `${thing}: control channel connected`, 0, 90_000);
    const first = await operator.command('bench-status', 'status');
    if (first.ok !== true) throw new Error(`${thing}: status refused: ${JSON.stringify(first)}`);
    const from = operator.mark;
    const lines = device.mark;
    await Promise.all(Array.from({ length: 30 }, (_, i) => operator.publishCommand(encode({ id: `bench-burst-${i}`, name: 'status' }))));
    // Each one answered or, past the board's control.pendingResults, refused as CONTROL_BUSY (docs/control-channel.md).
    const accounted = () => operator.all('result', from).filter((v) => String(v.id).startsWith('bench-burst-')).length
      + device.lines.items.slice(lines).filter((r) => r.type === 'control' && r.code === 'CONTROL_BUSY').length;
    await device.next(() => accounted() >= 30, `${thing}: the burst answered or refused`, lines, 60_000);
    const s = await device.next((r) => r.type === 'status' && Number(r.fragmentsPersisted) >= 5, `${thing}: five fragments PERSISTED`, device.mark, 60_000);
    const peak = Number(s.peakHeapBytes);
    const baseline = Number(s.baselineHeapBytes);
    const limit = image.sizes.heapLimitBytes;
    return [
      `${image.board} + control channel`, image.qemuCpu ? `qemu-arm -cpu ${image.qemuCpu}` : 'native x86-64', '-', '-',
      `${mib(peak)} of ${mib(limit)} (${(100 * (1 - peak / limit)).toFixed(0)}% margin)`,
      baseline ? `${((peak - baseline) / 1024).toFixed(0)} KiB of ${(board.memory.appHeapBudgetBytes! / 1024).toFixed(0)} KiB` : '-',
      `${mib(peakRssBytes)}${image.qemuCpu ? ' (with QEMU)' : ''}`, '-',
    ];
  } finally {
    clearInterval(poll);
    device.kill();
    await device.exited;
    await operator.close();
  }
}

async function controlCost(dir: string, images: ImageManifest[]): Promise<string> {
  const cloud = await startCloud({ stateDir: join(dir, 'control-cloud'), port: 0, mqttPort: 0, routes: [...mediaRoutes] });
  const rows: (string | number)[][] = [];
  try {
    for (const image of images) rows.push(await controlRow(cloud, dir, image));
  } finally {
    await cloud.close();
  }
  return table(['board', 'run', 'computrons/frame (whole device)', 'ARM instructions/frame (whole device)', 'peak XS heap of limit', 'app heap after boot (budget)', 'peak RSS', 'boot → first PutMedia byte (wall)'], rows);
}

export interface DeviceBenchOptions {
  readonly boards?: readonly string[];
  /** Skip the media-path table (the longest part under the instruction-counting plugin). */
  readonly deviceOnly?: boolean;
}

/** `realistic1080p`: a 4 Mbit/s 1080p stream (run.ts makes it with ffmpeg). */
export async function deviceBench(realistic1080p: string, o: DeviceBenchOptions = {}): Promise<string> {
  const dir = join(tmpdir(), `fieldcam-bench-device-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const images: ImageManifest[] = [];
    for (const board of o.boards ?? ['sim-x86', 'pi-zero-w', 'esp32-cam']) images.push(await buildImage(loadBoardManifest(board), { typecheck: false }));
    buildInsnPlugin();
    // The media table runs the sim-x86 and pi-zero-w runtimes whichever boards the device tables cover.
    if (!o.deviceOnly) for (const board of ['sim-x86', 'pi-zero-w']) if (!images.some((i) => i.board === board)) await buildImage(loadBoardManifest(board), { typecheck: false });
    const media = o.deviceOnly ? '' : `### Media path per frame inside XS (no network)\n\n${await mediaCost(dir, join(imageDir('sim-x86'), 'fieldcam-runtime'), join(imageDir('pi-zero-w'), 'fieldcam-runtime'), realistic1080p)}\n\n`;
    const device = await deviceCost(dir, images);
    const control = await controlCost(dir, images);
    return `${media}### The device per board (fixture played twice minus once; local KVS)\n\n${device}\n\n### With the control channel (provisioned bundle, local broker; status + a burst of 30)\n\n${control}\n`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--boards');
  const boards = at >= 0 ? args.splice(at, 2)[1]?.split(',') : undefined;
  const deviceOnly = args.includes('--device-only');
  const video = args.find((a) => !a.startsWith('--')) ?? H264;
  process.stdout.write(await deviceBench(video, { ...(boards ? { boards } : {}), deviceOnly }));
}
