// `npm run bench`, device part: the firmware image in fieldcam-runtime, natively and under qemu-arm.
//   media path per frame: XS computrons (identical on x86-64 and ARM) and ARM1176 guest instructions (our TCG
//     plugin), as the difference between playing the fixture twice and once, so boot and parsing cancel;
//   the whole device per board (camera → Matroska → SigV4 PutMedia over mbedTLS → local KVS): computrons and
//     guest instructions per frame (same 2-minus-1 method), peak XS heap against the board's limit, peak RSS,
//     boot to the first PutMedia byte, and CPU while idle;
//   the same boards with the control channel: a provisioned bundle (IoT credentials, MQTT over mTLS to the local
//     broker), the camera looped at real time, a `status` command, then a burst of 30, read from its status lines.
// Usage: node --import tsx test/bench/device.ts [--boards a,b] [--device-only | --media-only]
//   (--device-only skips the media-path table, --media-only runs it alone; --boards limits both device tables).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor-x';
import { build } from 'esbuild';
import { buildImage, imageDir, ROOT, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { instructionsPerFrame as countPerFrame } from '../../sim/profile/instructionsPerFrame.ts';
import { observeDevice } from '../../sim/profile/observeDevice.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { buildInsnPlugin, countInstructions } from '../../toolchain/qemu/build.mjs';
import { Operator, RunningDevice } from '../device/controlKit.ts';
import { cli } from '../host/control/controlKit.ts';
import { clip1080p, clip720p, mjpeg640, referenceClip, type Clip } from './clips.ts';
import { nativeCosts } from './tlsCost.ts';
import type { CodecId } from '../../firmware/core/media/codecs.ts';

const FIXTURES = join(ROOT, 'test', 'fixtures');
const H264 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const MJPEG = join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg');

function tableOf(headers: string[], rows: (string | number)[][]): string {
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

export interface MediaRow {
  readonly clip: Clip;
  readonly scan: 'native' | 'js';
  readonly bytesPerFrame: number;
  readonly computronsPerFrame: number;
  readonly sameOnArm: boolean;
  readonly instructionsPerFrame: number;
}

/**
 * The media path of one clip inside fieldcam-runtime (test/bench/xs/mediaCost.ts): the clip played once and twice as
 * the runtime's stdin (a regular file, read with native.readInput as the camera fd is), natively for computrons and
 * under qemu-arm -cpu arm1176 with the instruction counter; per frame = (twice - once) / the extra frames.
 */
async function mediaRow(dir: string, bundle: string, runtimeX86: string, runtimeArm: string, clip: Clip, scan: 'native' | 'js'): Promise<MediaRow> {
  const once = clip.file;
  const twice = repeated(clip.file, 2, dir);
  const args = [bundle, clip.codec, String(clip.fps), scan];
  const native = (file: string) =>
    new Promise<{ frames: number; computrons: number }>((resolve, reject) => {
      const input = openSync(file, 'r');
      const child = spawn(runtimeX86, args, { cwd: ROOT, stdio: [input, 'pipe', 'pipe'] });
      closeSync(input);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`media-cost exited ${code}`))));
    });
  const arm = async (file: string) => {
    const r = await countInstructions({ cpu: 'arm1176', program: runtimeArm, args, cwd: ROOT, stdinFile: file });
    if (r.code !== 0) throw new Error(`media-cost under qemu exited ${r.code}: ${r.stderr}`);
    return { ...(JSON.parse(r.stdout.trim()) as { frames: number; computrons: number }), instructions: Number(r.instructions) };
  };
  const [x1, x2, a1, a2] = [await native(once), await native(twice), await arm(once), await arm(twice)];
  const frames = x2.frames - x1.frames;
  return {
    clip,
    scan,
    bytesPerFrame: readFileSync(once).length / x1.frames,
    computronsPerFrame: (x2.computrons - x1.computrons) / frames,
    sameOnArm: x1.computrons === a1.computrons && x2.computrons === a2.computrons,
    instructionsPerFrame: (a2.instructions - a1.instructions) / frames,
  };
}

/** Every bench clip through the media path; the reference clip also with the core's JS scan loops, for comparison. */
export async function mediaCost(dir: string, runtimeX86: string, runtimeArm: string): Promise<{ table: string; rows: MediaRow[] }> {
  const bundle = join(dir, 'media-cost.js');
  await build({
    entryPoints: [join(ROOT, 'test', 'bench', 'xs', 'mediaCost.ts')],
    outfile: bundle,
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii',
    logLevel: 'warning',
  });
  const small: Clip = { label: '320x240 10 fps, GOP 10 (fixture)', file: H264, codec: 'h264', fps: 10 };
  const mjpeg320: Clip = { label: 'MJPEG 320x240 10 fps (fixture)', file: MJPEG, codec: 'mjpeg', fps: 10 };
  const rows: MediaRow[] = [];
  const reference = referenceClip();
  for (const [clip, scan] of [
    [reference, 'native'],
    [reference, 'js'],
    [clip720p(), 'native'],
    [clip1080p(), 'native'],
    [small, 'native'],
    [mjpeg320, 'native'],
    [mjpeg640(), 'native'],
  ] as const)
    rows.push(await mediaRow(dir, bundle, runtimeX86, runtimeArm, clip, scan));
  const table = tableOf(
    ['input', 'byte search', 'bytes/frame', 'computrons/frame', 'same on x86-64 and ARM', 'ARM1176 instructions/frame', 'instructions/payload byte'],
    rows.map((r) => [
      r.clip.label,
      r.scan === 'native' ? 'native (scan.c)' : 'JS loops',
      n(r.bytesPerFrame),
      n(r.computronsPerFrame),
      r.sameOnArm ? 'yes' : 'NO',
      n(r.instructionsPerFrame),
      (r.instructionsPerFrame / r.bytesPerFrame).toFixed(2),
    ]),
  );
  return { table, rows };
}

interface DeviceRun {
  frames: number;
  computrons: number;
  peakHeapBytes: number;
  baselineHeapBytes: number;
  peakRssBytes: number;
  firstByteMs: number;
}

function configFor(cloud: RunningCloud, dir: string, board: string, name: string, codec: CodecId): string {
  const url = new URL(cloud.endpoint);
  const path = join(dir, `${name}.json`);
  writeDeviceConfig(path, {
    board: loadBoardManifest(board),
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec,
    live: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    ...(codec === 'mjpeg' ? { fps: { num: 10, den: 1 } } : {}),
  });
  return path;
}

/**
 * One device run with the file as its camera (played once, as fast as the board reads): summary figures, peak RSS
 * (VmHWM) and boot → first PutMedia byte, observed by the profiler's runner (sim/profile/observeDevice.ts).
 */
async function runDevice(cloud: RunningCloud, image: ImageManifest, config: string, video: string, stream: string): Promise<DeviceRun> {
  const { done } = observeDevice({
    cloud,
    image: {
      dir: imageDir(image.board),
      runtimeFlags: image.runtimeFlags,
      ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
      ...(image.qemu ? { qemu: image.qemu } : {}),
    },
    config,
    stream,
    video,
    loop: false,
    bytesPerSecond: 0,
    cwd: ROOT,
  });
  const r = await done;
  const summary = r.summary as Record<string, number> | undefined;
  if (r.exit.code !== 0 || !summary) throw new Error(`${image.board} exited ${r.exit.code}: ${r.exit.stderr}`);
  return {
    frames: summary.framesIn!,
    computrons: summary.computrons!,
    peakHeapBytes: summary.peakHeapBytes!,
    baselineHeapBytes: summary.baselineHeapBytes!,
    peakRssBytes: r.peakRssBytes,
    firstByteMs: r.firstByteMs,
  };
}

interface DeviceFigures {
  readonly board: string;
  readonly bytesPerFrame: number;
  readonly computronsPerFrame: number;
  /** NaN when the board runs natively. */
  readonly instructionsPerFrame: number;
  /** The same by the runtime's stages (scan, JS, TLS, SHA-256, rest; sim/profile/runtimeStages.ts), when known. */
  readonly byStage: Readonly<Record<string, number>> | null;
}

/** `clipFor`: the camera clip per codec (default: the 320x240 fixtures). */
async function deviceCost(dir: string, images: ImageManifest[], clipFor?: (codec: CodecId) => string): Promise<{ table: string; figures: DeviceFigures[] }> {
  const cloud = await startCloud({ stateDir: join(dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  const rows: (string | number)[][] = [];
  const figures: DeviceFigures[] = [];
  try {
    for (const image of images) {
      const codec = loadBoardManifest(image.board).camera.codec;
      const video = clipFor ? clipFor(codec) : codec === 'mjpeg' ? MJPEG : H264;
      const twice = repeated(video, 2, dir);
      const once = await runDevice(cloud, image, configFor(cloud, dir, image.board, `${image.board}-a`, codec), video, `${image.board}-a`);
      const double = await runDevice(cloud, image, configFor(cloud, dir, image.board, `${image.board}-b`, codec), twice, `${image.board}-b`);
      const frames = double.frames - once.frames;
      let instructions = '-';
      let instructionsPerFrame = Number.NaN;
      let byStage: Readonly<Record<string, number>> | null = null;
      if (image.qemuCpu) {
        // The profiler's count (fieldcam profile --count-instructions): the clip twice minus once under the plugin.
        const counted = await countPerFrame({
          image: {
            dir: imageDir(image.board),
            runtimeFlags: image.runtimeFlags,
            qemuCpu: image.qemuCpu,
            ...(image.qemu ? { qemu: image.qemu } : {}),
            target: image.target,
          },
          config: (name) => configFor(cloud, dir, image.board, name, codec),
          clip: readFileSync(video),
          cwd: ROOT,
          names: [`${image.board}-d`, `${image.board}-c`],
        });
        if (!counted) throw new Error(`${image.board}: no frames counted under the plugin`);
        instructionsPerFrame = counted.total;
        byStage = counted.byStage;
        instructions = n(instructionsPerFrame);
      }
      figures.push({
        board: image.board,
        bytesPerFrame: readFileSync(video).length / once.frames,
        computronsPerFrame: (double.computrons - once.computrons) / frames,
        instructionsPerFrame,
        byStage,
      });
      const limit = image.sizes.heapLimitBytes;
      rows.push([
        image.board,
        image.qemuCpu ? `qemu-arm -cpu ${image.qemuCpu}` : 'native x86-64',
        n((double.computrons - once.computrons) / frames),
        instructions,
        `${mib(double.peakHeapBytes)} of ${mib(limit)} (${(100 * (1 - double.peakHeapBytes / limit)).toFixed(0)}% margin)`,
        double.baselineHeapBytes
          ? `${((double.peakHeapBytes - double.baselineHeapBytes) / 1024).toFixed(0)} KiB of ${(loadBoardManifest(image.board).memory.appHeapBudgetBytes! / 1024).toFixed(0)} KiB`
          : '-',
        `${mib(double.peakRssBytes)}${image.qemuCpu ? ' (with QEMU)' : ''}`,
        `${once.firstByteMs.toFixed(0)} ms`,
      ]);
    }
  } finally {
    await cloud.close();
  }
  const table = tableOf(
    [
      'board',
      'run',
      'computrons/frame (whole device)',
      'ARM instructions/frame (whole device)',
      'peak XS heap of limit',
      'app heap after boot (budget)',
      'peak RSS',
      'boot → first PutMedia byte (wall)',
    ],
    rows,
  );
  return { table, figures };
}

/**
 * The whole device on the reference clip (pi-zero-w under the counter), split by the runtime's stages as the counter
 * measured them (sim/profile/runtimeStages.ts: JS = the XS engine's code, scan = the camera readers' C, TLS = mbedTLS
 * and tls.c, SHA-256, the rest), with the TLS stage's cipher share estimated from one record per frame (net.c) of the
 * frame's bytes on the wire at the cost measured for the cipher the local cloud chooses (AES-128-GCM: Node's server
 * prefers it; tlsRecords.test.ts). Without the stages (a runtime built without its map) only the total is given.
 */
async function deviceSplit(dir: string, images: ImageManifest[], media: MediaRow[]): Promise<string> {
  const pi = images.filter((i) => i.board === 'pi-zero-w');
  const reference = media.find((r) => r.clip.file === referenceClip().file && r.scan === 'native');
  if (pi.length === 0 || !reference) return '';
  const costs = await nativeCosts(join(imageDir('pi-zero-w'), 'fieldcam-runtime'), reference.clip.file);
  const { table, figures } = await deviceCost(dir, pi, (codec) => (codec === 'h264' ? reference.clip.file : MJPEG));
  const f = figures[0]!;
  const wire = Math.round(f.bytesPerFrame) + 21; // chunk line (6), block header (9), CRLF (2), AVCC lengths (4) on average
  const crypto = await costs.record('aes-128-gcm', wire);
  const chacha = await costs.record('chacha20-poly1305', wire);
  const share = (v: number) => `${((100 * v) / f.instructionsPerFrame).toFixed(0)}%`;
  const stage = (name: string) => f.byStage?.[name] ?? Number.NaN;
  const js = stage('JS');
  const rows: (string | number)[][] = [['total (2 passes - 1 pass)', n(f.instructionsPerFrame), '100%']];
  if (f.byStage) {
    rows.push(
      [`JS: the XS engine (${n(f.computronsPerFrame)} computrons, ${(js / f.computronsPerFrame).toFixed(1)} instructions each)`, n(js), share(js)],
      ["scan: the camera readers' C (scan.c, accessunits.c, images.c, records.c, cursor.c)", n(stage('scan')), share(stage('scan'))],
      [
        `TLS: mbedTLS and tls.c (one AES-128-GCM record of ${n(wire)} B: ${n(crypto)} in the cipher bench; ChaCha20-Poly1305 ${n(chacha)})`,
        n(stage('TLS')),
        share(stage('TLS')),
      ],
      ['SHA-256 (SigV4, the handshake)', n(stage('SHA-256')), share(stage('SHA-256'))],
      ['rest (libc, the loop, sockets, HTTP/ACK framing in C, block.c, frames.c, release.c, fields.c)', n(stage('rest')), share(stage('rest'))],
    );
  }
  const split = tableOf(['whole device, pi-zero-w, reference clip', 'ARM1176 instructions/frame', 'share'], rows);
  return `### The whole device on the reference clip (pi-zero-w)\n\n${table}\n\n${split}\n\n${costs.table}\n\n`;
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
  const device = new RunningDevice(
    { dir: imageDir(image.board), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) },
    { bundle: join(dir, thing) },
    { video, bytesPerSecond: readFileSync(video).length / seconds },
  );
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
    const accounted = () =>
      operator.all('result', from).filter((v) => String(v.id).startsWith('bench-burst-')).length +
      device.lines.items.slice(lines).filter((r) => r.type === 'control' && r.code === 'CONTROL_BUSY').length;
    await device.next(() => accounted() >= 30, `${thing}: the burst answered or refused`, lines, 60_000);
    const s = await device.next((r) => r.type === 'status' && Number(r.fragmentsPersisted) >= 5, `${thing}: five fragments PERSISTED`, device.mark, 60_000);
    const peak = Number(s.peakHeapBytes);
    const baseline = Number(s.baselineHeapBytes);
    const limit = image.sizes.heapLimitBytes;
    return [
      `${image.board} + control channel`,
      image.qemuCpu ? `qemu-arm -cpu ${image.qemuCpu}` : 'native x86-64',
      '-',
      '-',
      `${mib(peak)} of ${mib(limit)} (${(100 * (1 - peak / limit)).toFixed(0)}% margin)`,
      baseline ? `${((peak - baseline) / 1024).toFixed(0)} KiB of ${(board.memory.appHeapBudgetBytes! / 1024).toFixed(0)} KiB` : '-',
      `${mib(peakRssBytes)}${image.qemuCpu ? ' (with QEMU)' : ''}`,
      '-',
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
  return tableOf(
    [
      'board',
      'run',
      'computrons/frame (whole device)',
      'ARM instructions/frame (whole device)',
      'peak XS heap of limit',
      'app heap after boot (budget)',
      'peak RSS',
      'boot → first PutMedia byte (wall)',
    ],
    rows,
  );
}

export interface DeviceBenchOptions {
  readonly boards?: readonly string[];
  /** Skip the media-path table (the longest part under the instruction-counting plugin). */
  readonly deviceOnly?: boolean;
  /** Only the media-path table. */
  readonly mediaOnly?: boolean;
}

/** The media-path table over the bench clips (test/bench/clips.ts), then the device tables per board. */
export async function deviceBench(o: DeviceBenchOptions = {}): Promise<string> {
  const dir = join(tmpdir(), `fieldcam-bench-device-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const images: ImageManifest[] = [];
    for (const board of o.boards ?? ['sim-x86', 'pi-zero-w', 'esp32-cam']) images.push(await buildImage(loadBoardManifest(board), { typecheck: false }));
    buildInsnPlugin();
    // The media table runs the sim-x86 and pi-zero-w runtimes whichever boards the device tables cover.
    if (!o.deviceOnly)
      for (const board of ['sim-x86', 'pi-zero-w'])
        if (!images.some((i) => i.board === board)) await buildImage(loadBoardManifest(board), { typecheck: false });
    const mediaRows = o.deviceOnly
      ? undefined
      : await mediaCost(dir, join(imageDir('sim-x86'), 'fieldcam-runtime'), join(imageDir('pi-zero-w'), 'fieldcam-runtime'));
    const media = mediaRows ? `### Media path per frame inside XS (no network)\n\n${mediaRows.table}\n\n` : '';
    if (o.mediaOnly) return media;
    const split = mediaRows ? await deviceSplit(dir, images, mediaRows.rows) : '';
    const device = (await deviceCost(dir, images)).table;
    const control = await controlCost(dir, images);
    return `${media}${split}### The device per board (fixture played twice minus once; local KVS)\n\n${device}\n\n### With the control channel (provisioned bundle, local broker; status + a burst of 30)\n\n${control}\n`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--boards');
  const boards = at >= 0 ? args.splice(at, 2)[1]?.split(',') : undefined;
  const deviceOnly = args.includes('--device-only');
  const mediaOnly = args.includes('--media-only');
  process.stdout.write(await deviceBench({ ...(boards ? { boards } : {}), deviceOnly, mediaOnly }));
}
