import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import {
  bootBoard,
  EXAMPLE_ACCESS_KEY_ID,
  EXAMPLE_SECRET_ACCESS_KEY,
  mediaRoutes,
  startCloud,
  viewerUrl,
  writeDeviceConfig,
  type BootedBoard,
} from '../../sim/index.ts';
import { buildImage, imageDir, type ImageManifest } from '../lib/buildImage.ts';
import { checkStateDirCa, readFlashedTree, type FlashedTree } from '../lib/flash/readFlashedTree.ts';
import { EXIT } from '../lib/CliError.ts';
import { listBoards, loadBoardManifest, type BoardManifest } from '../shared/loadBoardManifest.ts';
import { muxFile } from '../lib/muxFile.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { sniffCodecOfFile } from '../lib/sniffCodecOfFile.ts';
import type { Command } from './fieldcam.ts';
import { CODEC_IDS, CODECS } from '../../firmware/core/media/codecs.ts';
import { cameraStreamName, MAX_CAMERAS } from '../../firmware/core/iot/iotNames.ts';

const SAMPLE = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'h264-320x240-10fps-gop10.h264');

const spec: CommandSpec = {
  name: 'sim',
  usage:
    'sim [--board NAME] [--devices N] [--cameras N] [--image DIR] [--video FILE] [--once] [--realtime|--as-fast-as-possible] [--time-scale N] [--state-dir DIR] [--port N] [--json]',
  summary:
    'The whole system on one machine, with no camera and no AWS account: starts the local Kinesis Video Streams,\n' +
    "builds the board's firmware image if needed, and boots N boards — the real runtime and firmware, under\n" +
    '`qemu-arm|qemu-aarch64 -cpu <model>` for ARM boards — each with a camera fed from a file (a bundled sample by default,\n' +
    'looped), streaming to stream <board>-<n>. With --cameras N each board is one device running N cameras in one\n' +
    'process (the file fed to each on fds 3.., streams <board>-<n>-cam<i>). Live status per camera, a final summary;\n' +
    'Ctrl-C stops cleanly.',
  options: {
    board: { type: 'string', value: 'name', help: 'board to simulate (default: pi-zero-w)' },
    devices: { type: 'string', value: 'N', help: 'number of boards (default 1, at most 32)' },
    cameras: {
      type: 'string',
      value: 'N',
      help: `cameras per board, one process, one memory budget (default 1, at most ${MAX_CAMERAS}; the board's memory.poolBudgetBytes must hold their pools)`,
    },
    image: {
      type: 'string',
      value: 'dir',
      help: "boot one tree fieldcam flash wrote, as its systemd unit starts it (its bundle, its image); the cloud starts on the bundle's ports and --state-dir must be the one provision used",
    },
    video: { type: 'string', value: 'file', help: 'raw H.264, H.265 or MJPEG for the cameras (default: the bundled 320x240 sample)' },
    once: { type: 'boolean', help: 'play the video once; exit 0 when every fragment is PERSISTED' },
    realtime: { type: 'boolean', help: "feed the cameras at the file's real-time rate, as an encoder would (the default)" },
    'as-fast-as-possible': { type: 'boolean', help: 'feed the cameras as fast as the boards read; boards wait for ACKs instead of dropping' },
    'time-scale': {
      type: 'string',
      value: 'N',
      help: "a test and simulation knob: the boards' clocks, the local cloud's clock and the cameras run N times faster (1-1000, default 1 = real time)",
    },
    'state-dir': { type: 'string', value: 'dir', help: 'local cloud state (default: ./.state/sim); read it later with fieldcam cloud --state-dir' },
    port: { type: 'string', value: 'n', help: 'local cloud port (default 4590; 0 = any free port)' },
    json: { type: 'boolean', help: 'print the summary as JSON (no live status)' },
  },
  details: () =>
    `boards: ${listBoards().join(', ')}\n\nAfterwards, with the same state directory:\n` +
    '  fieldcam cloud --state-dir .state/sim &   then   fieldcam get-media --stream pi-zero-w-1 -o cam.mkv --endpoint-url https://127.0.0.1:4590',
};

/** What the firmware's status and summary lines carry (firmware/app/runDevice.ts). */
interface DeviceRecord {
  type?: string;
  /** The camera's stream, on the lines of a device with several cameras. */
  stream?: string;
  framesIn?: number;
  fragmentsIn?: number;
  fragmentsSent?: number;
  fragmentsPersisted?: number;
  framesDropped?: number;
  connections?: number;
  connected?: boolean;
  poolSlotsInUse?: number;
  poolSlots?: number;
  lastPersistedAgeMs?: number;
  heapBytes?: number;
  peakHeapBytes?: number;
  computrons?: number;
  error?: string;
  code?: string;
  message?: string;
}

function age(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '-';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** The file's real-time byte rate: its size over its duration (frames / fps, from the core's own reader). */
function bytesPerSecond(video: string, board: BoardManifest, scratch: string): number {
  const result = muxFile({ input: video, output: join(scratch, 'pacing.mkv'), board });
  const seconds = (result.stats.frames * result.stats.fps.den) / result.stats.fps.num;
  rmSync(join(scratch, 'pacing.mkv'), { force: true });
  return seconds > 0 ? statSync(video).size / seconds : 0;
}

export const simCommand: Command = {
  summary: 'run the local cloud and simulated boards (the ARM firmware under QEMU): the whole system on one machine',
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const devices = numberFlag(spec, 'devices', values.devices, 1, 32) ?? 1;
    if (!Number.isInteger(devices)) throw new FieldcamError('CLI_USAGE', 'sim: --devices must be a whole number');
    const cameraCount = numberFlag(spec, 'cameras', values.cameras, 1, MAX_CAMERAS) ?? 1;
    if (!Number.isInteger(cameraCount)) throw new FieldcamError('CLI_USAGE', 'sim: --cameras must be a whole number');
    const several = values.cameras !== undefined;
    let port = numberFlag(spec, 'port', values.port, 0, 65535) ?? 4590;
    const timeScale = numberFlag(spec, 'time-scale', values['time-scale'], 1, 1000) ?? 1;
    if (!Number.isInteger(timeScale)) throw new FieldcamError('CLI_USAGE', 'sim: --time-scale must be a whole number from 1 to 1000');
    // --image: one flashed tree, started with the unit's arguments rebased under DIR, against the local cloud its
    // bundle names (device.cbor endpoints: the cloud listens on those ports; the state dir holds that cloud's CA).
    const tree: FlashedTree | undefined = typeof values.image === 'string' ? readFlashedTree(resolve(values.image)) : undefined;
    if (tree) {
      if (values.board !== undefined && values.board !== tree.board.name)
        throw new FieldcamError('CLI_USAGE', `sim: --image ${tree.root} holds the ${tree.board.name} image, not ${String(values.board)}`);
      if (devices !== 1) throw new FieldcamError('CLI_USAGE', 'sim: --image boots one board (its bundle is one device); leave out --devices');
      if (several) throw new FieldcamError('CLI_USAGE', 'sim: --image boots the device its bundle describes (device.cbor cameras); leave out --cameras');
      if (values.port !== undefined && port !== tree.port) {
        throw new FieldcamError(
          'CLI_USAGE',
          `sim: --port ${port}, but the bundle's endpoints are https://127.0.0.1:${tree.port} (credentials 127.0.0.1:${tree.credentialsPort}); leave out --port`,
        );
      }
      port = tree.port;
    }
    const board = tree ? tree.board : loadBoardManifest(typeof values.board === 'string' ? values.board : 'pi-zero-w');
    const video = resolve(typeof values.video === 'string' ? values.video : SAMPLE);
    const codec = sniffCodecOfFile(video);
    if (!codec) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `sim: ${video} cannot be read as ${CODEC_IDS.map((id) => CODECS[id].label).join(', ')}`);
    const stateDir = resolve(typeof values['state-dir'] === 'string' ? values['state-dir'] : join('.state', 'sim'));
    const once = values.once === true;
    const fast = values['as-fast-as-possible'] === true;
    if (fast && values.realtime === true) throw new FieldcamError('CLI_USAGE', 'sim: --realtime and --as-fast-as-possible exclude each other');
    const json = values.json === true;
    const note = (line: string) => {
      if (!json) process.stderr.write(line);
    };
    if (tree) checkStateDirCa(tree, stateDir);
    const devicesDir = join(stateDir, 'devices');
    mkdirSync(devicesDir, { recursive: true });

    // Ctrl-C during the build or the boot stops cleanly too: boards not yet started are simply not started.
    let stopping = false;
    let boards: BootedBoard[] = [];
    const onSignal = () => {
      if (!stopping) note('\nsim: stopping: the boards send what they hold and wait for the last PERSISTED…\n');
      stopping = true;
      for (const b of boards) b.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // `fieldcam build` type-checks; the simulator only needs the bundle (npm test type-checks the firmware).
    const image: ImageManifest = tree ? tree.image : await buildImage(board, { log: note, typecheck: false });
    // --time-scale: the runtime (--time-scale, --time-origin) and the cloud (timeScale, timeOrigin) read one scaled clock.
    const origin = Date.now();
    const scaled = timeScale > 1 ? ['--time-scale', String(timeScale), '--time-origin', String(origin)] : [];
    const bootImage = {
      dir: tree ? tree.paths.imageDir : imageDir(board.name),
      runtimeFlags: [...image.runtimeFlags, ...scaled],
      ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
      ...(image.qemu ? { qemu: image.qemu } : {}),
    };
    const rate = fast ? 0 : bytesPerSecond(video, board, devicesDir);
    const cloud = await startCloud({
      stateDir,
      port,
      ...(tree ? { credentialsPort: tree.credentialsPort } : {}),
      ...(tree?.mqttPort !== undefined ? { mqttPort: tree.mqttPort } : {}),
      routes: [...mediaRoutes],
      ...(timeScale > 1 ? { config: { timeScale, timeOrigin: origin } } : {}),
    });
    const url = new URL(cloud.endpoint);
    const names = tree ? [tree.streamName] : Array.from({ length: devices }, (_, i) => `${board.name}-${i + 1}`);
    // With --cameras, each device's cameras: `cam1`…; their streams `<device>-cam<i>` (cameraStreamName), one row each.
    const cameraNames = several ? Array.from({ length: cameraCount }, (_, i) => `cam${i + 1}`) : [];
    const rowsOf = (name: string) => (several ? cameraNames.map((c) => cameraStreamName(name, c)) : [name]);
    const where = image.qemuCpu ? `under ${image.qemu ?? 'qemu-arm'} -cpu ${image.qemuCpu}` : 'natively';
    if (!json) {
      process.stdout.write(
        tree
          ? `sim: local cloud on ${cloud.endpoint}, credentials ${cloud.credentialsEndpoint}, MQTT ${cloud.mqtt.endpoint} (state ${stateDir}); the ${board.name} tree ${tree.root} ${where} as its unit starts it (thing ${tree.thingName}), camera ${video}\n`
          : `sim: local Kinesis Video Streams on ${cloud.endpoint} (state ${stateDir}); ${devices} × ${board.name} ${where}, ${several ? `${cameraCount} cameras each` : 'camera'} ${video}\n`,
      );
      process.stdout.write(`sim: watch it at ${viewerUrl(cloud.endpoint)}\n`);
    }

    const status = new Map<string, DeviceRecord>();
    const summaries = new Map<string, DeviceRecord>();
    const errors = new Map<string, DeviceRecord>();
    if (stopping) names.length = 0;
    boards = names.map((name) => {
      // A device's lines name their camera's stream (`stream`) when it has several; errors are the device's.
      const onRecord = (r: DeviceRecord) => {
        const row = several && typeof r.stream === 'string' ? r.stream : name;
        if (r.type === 'status') status.set(row, r);
        else if (r.type === 'summary') summaries.set(row, r);
        else if (r.type === 'error') errors.set(name, r);
      };
      // The bundle's device is live (a camera): with --as-fast-as-possible the feed follows the board's reads.
      if (tree)
        return bootBoard({
          image: bootImage,
          config: { bundle: tree.paths.bundle, board: tree.paths.board, state: tree.paths.state },
          video,
          loop: !once,
          bytesPerSecond: rate,
          rate: timeScale,
          onRecord,
        });
      const config = join(devicesDir, `${name}.json`);
      writeDeviceConfig(config, {
        board,
        streamName: name,
        region: 'us-east-1',
        endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
        credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
        codec,
        live: !fast,
        createRetentionHours: 24,
        statusIntervalMs: 1000,
        ...(several ? { cameras: cameraNames.map((c) => ({ name: c })) } : {}),
      });
      return bootBoard({
        image: bootImage,
        config,
        video,
        loop: !once,
        bytesPerSecond: rate,
        rate: timeScale,
        onRecord,
        ...(several ? { cameras: cameraNames.map(() => ({ video, bytesPerSecond: rate })) } : {}),
      });
    });

    const started = performance.now();
    const intervalMs = process.stdout.isTTY ? 1000 : 5000;
    const framesAtLastDraw = new Map<string, number>();
    let drawn = 0;
    const draw = () => {
      if (json) return;
      const rows = names.flatMap(rowsOf).map((name) => {
        const s = status.get(name);
        const frames = s?.framesIn ?? 0;
        const fps = Math.round(((frames - (framesAtLastDraw.get(name) ?? 0)) * 1000) / intervalMs);
        framesAtLastDraw.set(name, frames);
        const pool = s?.poolSlots ? `${Math.round((100 * (s.poolSlotsInUse ?? 0)) / s.poolSlots)}%` : '-';
        const heap = s?.heapBytes ? `${(s.heapBytes / 1048576).toFixed(1)} MiB` : '-';
        return (
          `  ${name.padEnd(16)} ${(s?.connected ? 'streaming' : s ? 'connecting' : 'booting').padEnd(11)} ${String(fps).padStart(4)} fps  ` +
          `${String(s?.fragmentsPersisted ?? 0).padStart(5)}/${String(s?.fragmentsSent ?? 0).padEnd(5)} PERSISTED/sent  ` +
          `pool ${pool.padStart(4)}  last ACK ${age(s?.lastPersistedAgeMs).padEnd(6)} heap ${heap}`
        );
      });
      const footer = `  up ${age(performance.now() - started)}; Ctrl-C stops`;
      const block = [...rows, footer].join('\n') + '\n';
      if (process.stdout.isTTY && drawn) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
      process.stdout.write(block);
      drawn = rows.length + 1;
    };
    const timer = setInterval(draw, intervalMs);

    let exits: { code: number; stderr: string }[];
    try {
      exits = await Promise.all(boards.map((b) => b.exited));
    } finally {
      clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await cloud.close();
    }
    draw();
    const summary = names
      .flatMap((device, i) => rowsOf(device).map((name) => ({ device, name, exit: exits[i]! })))
      .map(({ device, name, exit }) => {
        const s = summaries.get(name) ?? status.get(name) ?? {};
        const err = errors.get(device);
        const ok = exit.code === 0 && (s.fragmentsIn ?? 0) > 0 && (s.fragmentsPersisted ?? 0) >= (s.fragmentsIn ?? 0);
        return {
          stream: name,
          exitCode: exit.code,
          framesIn: s.framesIn ?? 0,
          fragmentsIn: s.fragmentsIn ?? 0,
          fragmentsPersisted: s.fragmentsPersisted ?? 0,
          framesDropped: s.framesDropped ?? 0,
          connections: s.connections ?? 0,
          peakHeapBytes: s.peakHeapBytes ?? 0,
          computrons: s.computrons ?? 0,
          ok,
          ...(err
            ? { error: { code: err.code, message: err.message } }
            : !ok && exit.stderr
              ? { error: { code: 'RUNTIME', message: exit.stderr.trim().split('\n').slice(-3).join(' | ') } }
              : {}),
        };
      });
    const ok = summary.every((d) => d.ok);
    if (json) process.stdout.write(JSON.stringify({ endpoint: cloud.endpoint, stateDir, board: board.name, devices: summary, ok }, null, 2) + '\n');
    else {
      for (const d of summary) {
        process.stdout.write(
          `${d.stream}: ${d.framesIn} frames in ${d.fragmentsIn} fragments, ${d.fragmentsPersisted} PERSISTED over ` +
            `${d.connections} connection(s), peak heap ${(d.peakHeapBytes / 1048576).toFixed(1)} MiB, exit ${d.exitCode}` +
            `${d.error ? `; error ${d.error.code}: ${d.error.message}` : ''}\n`,
        );
      }
      process.stdout.write(
        ok ? `sim: every fragment PERSISTED. Read them back: fieldcam cloud --state-dir ${stateDir}\n` : 'sim: some fragments were not PERSISTED (see above)\n',
      );
    }
    return ok ? EXIT.OK : EXIT.FAILED;
  },
};
