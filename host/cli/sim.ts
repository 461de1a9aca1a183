import { join, resolve } from 'node:path';
import { FieldcamError } from '../../firmware/core/errors.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud } from '../../sim/cloud/startCloud.ts';
import { EXIT } from '../lib/CliError.ts';
import { listBoards, loadBoardManifest } from '../lib/loadBoardManifest.ts';
import { formatHelp, numberFlag, parseCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { sniffCodecOfFile } from '../lib/sniffCodecOfFile.ts';
import { streamFile, type StreamFileResult, type StreamStatus } from '../lib/streamFile.ts';
import type { Command } from './fieldcam.ts';

const SAMPLE = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'h264-320x240-10fps-gop10.h264');

const spec: CommandSpec = {
  name: 'sim',
  usage: 'sim [--devices N] [--board NAME] [--video FILE] [--once] [--as-fast-as-possible] [--state-dir DIR] [--port N]',
  summary:
    'The whole system on one machine, with no camera and no AWS account: starts the local Kinesis Video Streams and\n' +
    'N simulated cameras that stream a looped sample into it (stream names <board>-<n>), with a live status and a\n' +
    'final summary. The devices run the firmware pipeline on the Node board; booting the ARM image under QEMU is\n' +
    'the next step of the simulator. Ctrl-C stops cleanly.',
  options: {
    devices: { type: 'string', value: 'N', help: 'number of cameras (default 1, at most 32)' },
    board: { type: 'string', value: 'name', help: 'board manifest for pool sizing and stream defaults (default: sim-x86)' },
    video: { type: 'string', value: 'file', help: 'raw H.264 or MJPEG to play (default: the bundled 320x240 sample)' },
    once: { type: 'boolean', help: 'play the video once and exit 0 when every fragment is PERSISTED' },
    'as-fast-as-possible': { type: 'boolean', help: 'do not pace frames at their timestamps' },
    'state-dir': { type: 'string', value: 'dir', help: 'local cloud state (default: ./.state/sim); read it later with fieldcam cloud --state-dir' },
    port: { type: 'string', value: 'n', help: 'local cloud port (default 4590; 0 = any free port)' },
    json: { type: 'boolean', help: 'print the summary as JSON (no live status)' },
  },
  details: () => `boards: ${listBoards().join(', ')}\n\nAfterwards, with the same state directory:\n` +
    '  fieldcam cloud --state-dir .state/sim &   then   fieldcam get-media --stream sim-x86-1 -o cam.mkv --endpoint-url https://127.0.0.1:4590',
};

function age(ms: number): string {
  if (ms < 0) return '-';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export const simCommand: Command = {
  summary: 'run the local cloud and simulated cameras: the whole system on one machine',
  async run(argv) {
    const { values, positionals } = parseCommandLine(spec, argv);
    if (values.help) {
      process.stdout.write(formatHelp(spec));
      return EXIT.OK;
    }
    if (positionals.length) throw new FieldcamError('CLI_USAGE', `sim: unexpected argument '${positionals[0]}'`);
    const devices = numberFlag(spec, 'devices', values.devices, 1, 32) ?? 1;
    if (!Number.isInteger(devices)) throw new FieldcamError('CLI_USAGE', 'sim: --devices must be a whole number');
    const port = numberFlag(spec, 'port', values.port, 0, 65535) ?? 4590;
    const board = loadBoardManifest(typeof values.board === 'string' ? values.board : 'sim-x86');
    const video = typeof values.video === 'string' ? values.video : SAMPLE;
    const codec = sniffCodecOfFile(video);
    if (!codec) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `sim: ${video} cannot be read as H.264 or MJPEG`);
    const stateDir = resolve(typeof values['state-dir'] === 'string' ? values['state-dir'] : join('.state', 'sim'));
    const once = values.once === true;
    const json = values.json === true;

    const cloud = await startCloud({ stateDir, port, routes: [...mediaRoutes] });
    const url = new URL(cloud.endpoint);
    const aws = { region: 'us-east-1', endpointUrl: cloud.endpoint, ca: cloud.caPem, control: { host: url.hostname, port: Number(url.port), tls: { ca: cloud.caPem } } };
    const credentials = { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY };
    let stopping = false;
    const onSignal = () => {
      if (!stopping && !json) process.stderr.write('\nsim: stopping: sending what is buffered and waiting for the last PERSISTED…\n');
      stopping = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (!json) process.stdout.write(`sim: local Kinesis Video Streams on ${cloud.endpoint} (state ${stateDir}); ${devices} × ${board.name} streaming ${video}\n`);

    const names = Array.from({ length: devices }, (_, i) => `${board.name}-${i + 1}`);
    const status = new Map<string, StreamStatus>();
    const framesAtLastDraw = new Map<string, number>();
    const started = performance.now();
    const intervalMs = process.stdout.isTTY ? 1000 : 5000;
    let drawn = 0;
    const draw = () => {
      if (json) return;
      const rows = names.map((name) => {
        const s = status.get(name);
        const frames = s?.framesIn ?? 0;
        const fps = Math.round(((frames - (framesAtLastDraw.get(name) ?? 0)) * 1000) / intervalMs);
        framesAtLastDraw.set(name, frames);
        const pool = s ? `${Math.round((100 * s.poolSlotsInUse) / s.poolSlots)}%` : '-';
        const ack = s && s.lastPersistedAt >= 0 ? age(performance.now() - s.lastPersistedAt) : '-';
        return `  ${name.padEnd(16)} ${(s?.connected ? 'streaming' : 'connecting').padEnd(11)} ${String(fps).padStart(4)} fps  ` +
          `${String(s?.stats.fragmentsPersisted ?? 0).padStart(5)}/${String(s?.stats.fragmentsSent ?? 0).padEnd(5)} fragments PERSISTED/sent  ` +
          `pool ${pool.padStart(4)}  last ACK ${ack}`;
      });
      const heap = `  node heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB, up ${age(performance.now() - started)}`;
      const block = [...rows, heap].join('\n') + '\n';
      if (process.stdout.isTTY && drawn) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
      process.stdout.write(block);
      drawn = rows.length + 1;
    };
    const timer = setInterval(draw, intervalMs);

    let results: StreamFileResult[];
    try {
      results = await Promise.all(names.map((name) => streamFile({
        video, codec, streamName: name, board, aws, credentials: () => credentials,
        realtime: values['as-fast-as-possible'] !== true, loop: !once, shouldStop: () => stopping, strict: false,
        createRetentionHours: 24,
        onStatus: (s) => status.set(name, s),
      })));
    } finally {
      clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await cloud.close();
    }
    draw();
    const summary = names.map((name, i) => {
      const r = results[i]!;
      const s = r.stats;
      return {
        stream: name, framesIn: r.framesIn, fragmentsIn: r.fragmentsIn, fragmentsPersisted: s.fragmentsPersisted,
        connections: s.connections, errors: s.errors, ok: !r.error && s.fragmentsPersisted >= r.fragmentsIn && r.fragmentsIn > 0,
        ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
      };
    });
    const ok = summary.every((d) => d.ok);
    if (json) process.stdout.write(JSON.stringify({ endpoint: cloud.endpoint, stateDir, board: board.name, devices: summary, ok }, null, 2) + '\n');
    else {
      for (const d of summary) {
        process.stdout.write(`${d.stream}: ${d.framesIn} frames in ${d.fragmentsIn} fragments, ${d.fragmentsPersisted} PERSISTED over ` +
          `${d.connections} connection(s)${d.error ? `; error ${d.error.code}: ${d.error.message}` : ''}\n`);
      }
      process.stdout.write(ok ? `sim: every fragment PERSISTED. Read them back: fieldcam cloud --state-dir ${stateDir}\n`
        : 'sim: some fragments were not PERSISTED (see above)\n');
    }
    return ok ? EXIT.OK : EXIT.FAILED;
  },
};
