import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { derivePoolSizing } from '../../firmware/core/config/derivePoolSizing.ts';
import { FieldcamError } from '../shared/hostErrors.ts';
import type { ProfileReport } from '../shared/ProfileReport.ts';
import { parseFaultSpec } from '../shared/parseFaultSpec.ts';
import { runProfile, type BudgetOverrides } from '../../sim/index.ts';
import { buildImage, imageDir, ROOT, type ImageManifest } from '../lib/buildImage.ts';
import { EXIT } from '../lib/CliError.ts';
import { listBoards, loadBoardManifest, readBoardManifest, type BoardManifest } from '../shared/loadBoardManifest.ts';
import { muxFile } from '../lib/muxFile.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { mib, renderReport, summaryRows } from '../lib/profile/renderReport.ts';
import { writeProfileCsv } from '../lib/profile/writeProfileCsv.ts';
import { sniffCodecOfFile } from '../lib/sniffCodecOfFile.ts';
import { writeFileAtomic } from '../shared/writeFileAtomic.ts';
import type { Command } from './fieldcam.ts';
import { CODEC_IDS, CODECS, type CodecId } from '../../firmware/core/media/codecs.ts';

/** The clip a board's camera plays when --video is not given, per codec. */
const SAMPLE_CLIPS: Readonly<Record<CodecId, string>> = Object.freeze({
  h264: 'h264-320x240-10fps-gop10.h264',
  h265: 'h265-320x240-10fps-gop10.h265',
  mjpeg: 'mjpeg-320x240-10fps.mjpeg',
});

const FIXTURES = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures');

const spec: CommandSpec = {
  name: 'profile',
  usage:
    'profile [--board NAME | --image DIR] [--video FILE] [--duration S] [--realtime|--as-fast-as-possible] [--time-scale N] [--faults SPEC] [--budget SPEC] [--count-instructions] [-o report.html] [--json FILE] [--csv DIR] [--fail-on budget]\n' +
    '       fieldcam profile --compare a.json b.json [-o diff.html]',
  summary:
    'Memory and latency profile of a board: boots the real firmware image (under `qemu-arm -cpu <model>` for ARM\n' +
    'boards) with your clip as its camera against the local cloud, and records XS heap, app heap, pool fill, RSS,\n' +
    'fragment end → PERSISTED latency, boot → first byte, recovery after faults, computrons per frame and events.\n' +
    'Writes one self-contained HTML report (no network needed to open it); --json and --csv carry the same numbers.',
  options: {
    board: { type: 'string', value: 'name', help: 'board to profile (default: pi-zero-w); its image is built if needed' },
    image: { type: 'string', value: 'dir', help: 'a built image directory (fieldcam build: dist/<board>, with image.json and board.json) instead of --board' },
    video: { type: 'string', value: 'file', help: "raw H.264, H.265 or MJPEG clip for the camera, looped (default: the 320x240 sample of the board's codec)" },
    duration: { type: 'string', value: 'S', help: "device seconds to stream, counted from the device's boot line (default 30, at most 86400)" },
    realtime: { type: 'boolean', help: "feed the camera at the clip's real-time rate (the default)" },
    'as-fast-as-possible': { type: 'boolean', help: 'feed the camera as fast as the board reads (the device waits for ACKs instead of dropping)' },
    'time-scale': { type: 'string', value: 'N', help: "the device's clock, the cloud's and the camera run N times faster (1-1000, default 1)" },
    faults: {
      type: 'string',
      value: 'spec',
      help: 'cloud faults on the device clock: drop@T, outage@T:D, ack-delay@T:D=MS, error@T, comma-separated (T, D in seconds)',
    },
    budget: { type: 'string', value: 'spec', help: 'override budgets: heap=BYTES, app-heap=BYTES, pool=SLOTS, latency-p99=MS, comma-separated' },
    'count-instructions': {
      type: 'boolean',
      help: 'ARM boards: ARM guest instructions per frame with the QEMU plugin (two extra runs: the clip twice minus once)',
    },
    output: { type: 'string', short: 'o', value: 'file', help: 'the HTML report (default: profile-<board>.html)' },
    json: { type: 'string', value: 'file', help: 'write the numbers as JSON' },
    csv: { type: 'string', value: 'dir', help: 'write samples.csv, fragments.csv, events.csv, summary.csv into DIR' },
    'fail-on': { type: 'string', value: 'budget', help: 'exit 1 when a budget is exceeded (so CI can gate on it)' },
    compare: { type: 'boolean', help: 'compare two --json files: overlaid plots and a table of differences' },
    'state-dir': { type: 'string', value: 'dir', help: 'local cloud state for the run (default: a temporary directory, removed afterwards)' },
  },
  details: () =>
    `boards: ${listBoards().join(', ')}\n\nExample: fieldcam profile --board pi-zero-w --duration 120 --faults outage@30s:60s -o pi.html --json pi.json\n` +
    'docs/profiling.md explains each plot.',
};

const BUDGET = /^(heap|app-heap|pool|latency-p99)=(\d+)$/;

function parseBudgets(text: string): BudgetOverrides {
  const out: { heapBytes?: number; appHeapBytes?: number; poolSlots?: number; latencyP99Ms?: number } = {};
  for (const part of text.split(',').filter((p) => p.trim())) {
    const m = BUDGET.exec(part.trim());
    if (!m) throw new FieldcamError('CLI_USAGE', `profile: --budget '${part}' is not heap=BYTES, app-heap=BYTES, pool=SLOTS or latency-p99=MS`);
    const v = Number(m[2]);
    if (m[1] === 'heap') out.heapBytes = v;
    else if (m[1] === 'app-heap') out.appHeapBytes = v;
    else if (m[1] === 'pool') out.poolSlots = v;
    else out.latencyP99Ms = v;
  }
  return out;
}

function readReport(file: string): ProfileReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (err) {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `profile: cannot read ${file} as a profile JSON: ${(err as Error).message}`);
  }
  const r = parsed as Partial<ProfileReport>;
  if (r.version !== 1 || !Array.isArray(r.samples) || !r.totals) throw new FieldcamError('CLI_USAGE', `profile: ${file} is not a fieldcam profile --json file`);
  return r as ProfileReport;
}

/** The clip's frame period and real-time byte rate: its size over its duration (frames / fps, from the core's own reader). */
function pacing(video: string, board: BoardManifest, scratch: string): { frameMs: number; bytesPerSecond: number } {
  // MJPEG carries no frame rate: the board's camera rate, as the device is configured below.
  const result = muxFile({
    input: video,
    output: join(scratch, 'pacing.mkv'),
    board,
    ...(!CODECS[sniffCodecOfFile(video) ?? 'h264'].nalTables ? { fps: { num: board.camera.fps, den: 1 } } : {}),
  });
  const seconds = (result.stats.frames * result.stats.fps.den) / result.stats.fps.num;
  rmSync(join(scratch, 'pacing.mkv'), { force: true });
  return { frameMs: (1000 * result.stats.fps.den) / result.stats.fps.num, bytesPerSecond: seconds > 0 ? statSync(video).size / seconds : 0 };
}

function write(file: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (err) {
    throw new FieldcamError('CLI_OUTPUT_FAILED', `profile: cannot write ${file}: ${(err as Error).message}`);
  }
}

function printSummary(r: ProfileReport): void {
  const rows = summaryRows(r);
  const width = Math.max(...rows.map((x) => x.label.length), ...r.budgets.map((b) => b.name.length));
  process.stdout.write(`\n${r.board} (${r.run}), ${r.durationS} s:\n`);
  for (const x of rows) process.stdout.write(`  ${x.label.padEnd(width)}  ${x.text}\n`);
  for (const b of r.budgets) {
    const show = (v: number) => (b.unit === 'bytes' ? mib(v) : `${v} ${b.unit}`);
    process.stdout.write(
      `  ${b.name.padEnd(width)}  ${show(b.measured)} of ${show(b.budget)}: ${b.ok ? 'within budget' : 'OVER BUDGET'}${b.note ? ` (${b.note})` : ''}\n`,
    );
  }
}

export const profileCommand: Command = {
  summary: 'memory and latency profile of a board (real image, your clip, local cloud): an HTML report, JSON and CSV',
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'any' });
    if (!parsed) return EXIT.OK;
    const { values, positionals } = parsed;
    const output = typeof values.output === 'string' ? resolve(values.output) : undefined;
    if (values.compare === true) {
      if (positionals.length !== 2)
        throw new FieldcamError('CLI_USAGE', 'profile: --compare takes two --json files: fieldcam profile --compare a.json b.json [-o diff.html]');
      const runs = positionals.map(readReport);
      const out = output ?? resolve(`profile-${runs[0]!.board}-vs-${runs[1]!.board}.html`);
      write(out, renderReport(runs));
      process.stdout.write(`profile: comparison written to ${out}\n`);
      return EXIT.OK;
    }
    if (positionals.length) throw new FieldcamError('CLI_USAGE', `profile: unexpected argument '${positionals[0]}' (only --compare takes files)`);
    if (values['fail-on'] !== undefined && values['fail-on'] !== 'budget')
      throw new FieldcamError('CLI_USAGE', `profile: --fail-on takes 'budget', not '${String(values['fail-on'])}'`);
    if (values.realtime === true && values['as-fast-as-possible'] === true)
      throw new FieldcamError('CLI_USAGE', 'profile: --realtime and --as-fast-as-possible exclude each other');
    if (values.board !== undefined && values.image !== undefined) throw new FieldcamError('CLI_USAGE', 'profile: give --board or --image, not both');
    const durationS = numberFlag(spec, 'duration', values.duration, 1, 86400) ?? 30;
    const timeScale = numberFlag(spec, 'time-scale', values['time-scale'], 1, 1000) ?? 1;
    if (!Number.isInteger(timeScale)) throw new FieldcamError('CLI_USAGE', 'profile: --time-scale must be a whole number from 1 to 1000');
    const faults = typeof values.faults === 'string' ? parseFaultSpec(values.faults) : [];
    for (const f of faults)
      if (f.atS >= durationS)
        throw new FieldcamError('CLI_USAGE', `profile: the fault ${f.kind}@${f.atS}s starts after the run ends (--duration ${durationS})`);
    const budgets = typeof values.budget === 'string' ? parseBudgets(values.budget) : {};

    let board: BoardManifest;
    let image: ImageManifest;
    let dir: string;
    if (typeof values.image === 'string') {
      dir = resolve(values.image);
      if (!existsSync(join(dir, 'image.json')) || !existsSync(join(dir, 'board.json')))
        throw new FieldcamError(
          'CLI_INPUT_NOT_FOUND',
          `profile: ${dir} is not a built image (no image.json and board.json; fieldcam build writes dist/<board>)`,
        );
      image = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as ImageManifest;
      board = readBoardManifest(join(dir, 'board.json'));
    } else {
      board = loadBoardManifest(typeof values.board === 'string' ? values.board : 'pi-zero-w');
      image = await buildImage(board, { typecheck: false, log: (l) => process.stderr.write(l) });
      dir = imageDir(board.name);
    }
    const video = resolve(typeof values.video === 'string' ? values.video : join(FIXTURES, SAMPLE_CLIPS[board.camera.codec]));
    if (!existsSync(video)) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `profile: no clip at ${video}`);
    const codec = sniffCodecOfFile(video);
    if (!codec) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `profile: ${video} cannot be read as ${CODEC_IDS.map((id) => CODECS[id].label).join(', ')}`);
    if (codec !== board.camera.codec)
      process.stderr.write(`profile: note: ${board.name}'s camera is ${board.camera.codec}; profiling with ${codec} as given\n`);
    // An ARM board's RSS includes QEMU: the native runtime runs the same idle script to measure what QEMU adds.
    let nativeRuntime: string | undefined;
    if (image.qemuCpu) {
      await buildImage(loadBoardManifest('sim-x86'), { typecheck: false, log: (l) => process.stderr.write(l) });
      nativeRuntime = join(imageDir('sim-x86'), 'fieldcam-runtime');
    }

    const own = typeof values['state-dir'] !== 'string';
    const stateDir = own ? mkdtempSync(join(tmpdir(), 'fieldcam-profile-')) : resolve(String(values['state-dir']));
    mkdirSync(stateDir, { recursive: true });
    const fast = values['as-fast-as-possible'] === true;
    const progress = process.stderr.isTTY;
    let report: ProfileReport;
    try {
      process.stderr.write(
        `profile: ${board.name} ${image.qemuCpu ? `under ${image.qemu ?? 'qemu-arm'} -cpu ${image.qemuCpu}` : 'natively'}, ${durationS} s of device time${timeScale > 1 ? ` at ×${timeScale}` : ''}, clip ${video}\n`,
      );
      let lastLine = 0;
      const clip = pacing(video, board, stateDir);
      // From the board manifest the device reads (an edited --image board.json changes the pool, not image.json).
      const sizing = derivePoolSizing(board.pool);
      const poolBytes = sizing.slotCount * sizing.slotBytes;
      report = await runProfile({
        board,
        image: {
          dir,
          runtimeFlags: image.runtimeFlags,
          ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
          ...(image.qemu ? { qemu: image.qemu } : {}),
          heapLimitBytes: image.sizes.heapLimitBytes,
          poolBytes,
          target: image.target,
        },
        ...(nativeRuntime ? { nativeRuntime } : {}),
        video,
        codec,
        bytesPerSecond: fast ? 0 : clip.bytesPerSecond,
        frameMs: clip.frameMs,
        ...(!CODECS[codec].nalTables ? { fps: { num: board.camera.fps, den: 1 } } : {}),
        durationS,
        timeScale,
        faults,
        stateDir,
        budgets,
        countInstructions: values['count-instructions'] === true,
        cwd: ROOT,
        onProgress: ({ t, sample, fragments }) => {
          const now = performance.now();
          if (now - lastLine < (progress ? 250 : 5000)) return;
          lastLine = now;
          const line = `profile: ${t.toFixed(0).padStart(5)}/${durationS} s  frames ${sample.framesIn}  PERSISTED ${fragments}  heap ${mib(sample.heapBytes)}  pool ${sample.poolSlotsInUse}  RSS ${mib(sample.deviceRssBytes)}`;
          process.stderr.write(progress ? `\r${line}\x1b[K` : `${line}\n`);
        },
      });
      if (progress) process.stderr.write('\n');
    } finally {
      if (own) rmSync(stateDir, { recursive: true, force: true });
    }
    const out = output ?? resolve(`profile-${board.name}.html`);
    write(out, renderReport([report]));
    if (typeof values.json === 'string') write(resolve(values.json), JSON.stringify(report, null, 2) + '\n');
    if (typeof values.csv === 'string') writeProfileCsv(resolve(values.csv), report);
    printSummary(report);
    process.stdout.write(`profile: report written to ${out}\n`);
    const over = report.budgets.filter((b) => !b.ok);
    // A device that did not stop cleanly (OUT_OF_MEMORY, a crash, an upload that failed for good) fails the run.
    if (report.exitCode !== 0) {
      process.stderr.write(`profile: the device exited ${report.exitCode}; the report shows what it did until then\n`);
      return EXIT.FAILED;
    }
    if (values['fail-on'] === 'budget' && over.length) {
      process.stderr.write(`profile: over budget: ${over.map((b) => b.name).join(', ')}\n`);
      return EXIT.FAILED;
    }
    return EXIT.OK;
  },
};
