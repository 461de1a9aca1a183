import { relative } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import { buildImage, ROOT, type ImageManifest } from '../lib/buildImage.ts';
import { EXIT } from '../lib/CliError.ts';
import { listBoards, loadBoardManifest } from '../shared/loadBoardManifest.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';

const spec: CommandSpec = {
  name: 'build',
  usage: 'build --board <name> [--json]',
  summary:
    "Builds the firmware image for a board into dist/<board>/: the XS runtime for the board's target\n" +
    '(fieldcam-runtime, built from the pinned engine sources by our toolchain), the type-checked firmware bundle\n' +
    '(firmware.js), the board manifest (board.json) and image.json (start flags and sizes), then prints a size report.\n' +
    'The first build compiles the engine (about a minute per target on 2 cores); later builds take seconds.',
  options: {
    board: { type: 'string', value: 'name', help: 'board manifest (manifests/boards/<name>.json)' },
    json: { type: 'boolean', help: 'print image.json instead of the report' },
  },
  details: () =>
    `boards: ${listBoards().join(', ')}\n\nrun the image on this machine (x86_64 boards), or with <qemu> -cpu <qemuCpu> from image.json for ARM boards (qemu-arm, qemu-aarch64):\n` +
    '  dist/<board>/fieldcam-runtime <runtimeFlags from image.json> dist/<board>/firmware.js --config device.json',
};

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

function report(image: ImageManifest, dir: string): string {
  const s = image.sizes;
  const rows: [string, string, string][] = [
    [
      'runtime binary',
      kib(s.runtimeBytes),
      `fieldcam-runtime (${image.target}${image.target === 'x86_64' ? '' : ', static'}${image.qemuCpu ? `, qemu cpu ${image.qemuCpu}` : ''})`,
    ],
    ['firmware bundle', kib(s.bundleBytes), 'firmware.js'],
    ['frame pool', mib(s.poolBytes), 'bitrate × buffer seconds × 1.2, whole slots; allocated once at boot, outside the JS heap'],
    ['JS heap limit', mib(s.heapLimitBytes), "the JS machine's hard limit (--heap-limit, memory.jsBudgetBytes)"],
    ['total', mib(s.poolBytes + s.heapLimitBytes), `${((100 * (s.poolBytes + s.heapLimitBytes)) / s.ramBytes).toFixed(1)}% of the board's ${mib(s.ramBytes)}`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return `build: ${image.board} → ${dir}\n` + rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`).join('\n') + '\n';
}

export const buildCommand: Command = {
  summary: 'build the firmware image for a board (runtime, bundle, manifest, size report) into dist/<board>/',
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    if (typeof values.board !== 'string') throw new FieldcamError('CLI_USAGE', `build: --board <name> is required (boards: ${listBoards().join(', ')})`);
    const board = loadBoardManifest(values.board);
    const json = values.json === true;
    const image = await buildImage(board, { log: json ? () => {} : (line) => process.stderr.write(line) });
    process.stdout.write(json ? JSON.stringify(image, null, 2) + '\n' : report(image, relative(process.cwd(), `${ROOT}/dist/${board.name}`) || '.'));
    return EXIT.OK;
  },
};
