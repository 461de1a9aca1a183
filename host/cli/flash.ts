import { resolve } from 'node:path';
import { FieldcamError } from '../../firmware/core/errors.ts';
import { buildImage } from '../lib/buildImage.ts';
import { EXIT } from '../lib/CliError.ts';
import { flashTree, type FlashResult } from '../lib/flash/flashTree.ts';
import { listBoards, loadBoardManifest } from '../lib/loadBoardManifest.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';

const spec: CommandSpec = {
  name: 'flash',
  usage: 'flash --bundle DIR --board <name> --target DIR [--force] [--json]',
  summary:
    'Writes a deployable tree for a board into --target (an SD card\'s root file system, or a directory that\n' +
    'stands for one): the image under /opt/fieldcam (runtime, firmware, board.json, image.json, VERSION, run,\n' +
    'install.sh), the device bundle under /etc/fieldcam/bundle and the systemd unit fieldcam.service. Builds\n' +
    'the board\'s image first (dist/<board>/) and checks the bundle with the device\'s own reader before\n' +
    'writing anything. Files whose bytes and mode are already right are left alone.',
  options: {
    bundle: { type: 'string', value: 'DIR', help: 'the device bundle fieldcam provision wrote (docs/device-bundle.md)' },
    board: { type: 'string', value: 'name', help: 'board manifest (manifests/boards/<name>.json)' },
    target: { type: 'string', value: 'DIR', help: 'the board\'s root: a mounted SD card root file system, or a directory' },
    force: { type: 'boolean', help: 'replace a tree written for another board' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  details: () => `boards: ${listBoards().filter((b) => b !== 'esp32-cam').join(', ')}\n\n` +
    'On the board (Raspberry Pi OS): sudo sh /opt/fieldcam/install.sh   (creates the user, enables the service)\n' +
    'Here, under QEMU, exactly as the board runs it: fieldcam sim --image <target> --state-dir <provision\'s local cloud state>',
};

const size = (n: number) => (n >= 1024 * 1024 ? `${(n / 1048576).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

function report(r: FlashResult): string {
  const w0 = Math.max(...r.files.map((f) => f.path.length));
  const w1 = Math.max(...r.files.map((f) => size(f.bytes).length));
  const lines = r.files.map((f) => `  ${f.path.padEnd(w0)}  ${size(f.bytes).padStart(w1)}  ${f.mode}  ${f.action}`);
  const changed = r.files.filter((f) => f.action !== 'unchanged').length;
  return `flash: ${r.board} (fieldcam ${r.version}), thing ${r.thingName} (stream ${r.streamName}) → ${r.target}\n` + lines.join('\n') + '\n' +
    (r.unchanged ? 'unchanged: the target already holds this tree\n' : `${changed} of ${r.files.length} file(s) written\n`) +
    `next: on the board, sudo sh /opt/fieldcam/install.sh; here (a local-cloud bundle), fieldcam sim --image ${r.target} --state-dir <the cloud's state>\n`;
}

export const flashCommand: Command = {
  summary: 'write a board\'s deployable tree (image, device bundle, systemd unit, install script) into a root directory',
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    for (const name of ['bundle', 'board', 'target'] as const) {
      if (typeof values[name] !== 'string') throw new FieldcamError('CLI_USAGE', `flash: --${name} is required (${spec.usage})`);
    }
    const board = loadBoardManifest(values.board as string);
    if (board.arch === 'esp32-profile') {
      throw new FieldcamError('CLI_USAGE', `flash: ${board.name} is a memory profile run under QEMU, not a Linux board: there is no root file system to write`);
    }
    const json = values.json === true;
    // Always from the current sources (the runtime is cached; the bundle takes a fraction of a second), so what
    // is flashed is what `fieldcam sim` runs. `fieldcam build` type-checks; like sim, flash does not.
    const image = await buildImage(board, { log: json ? () => {} : (line) => process.stderr.write(line), typecheck: false });
    const result = flashTree({ board, image, bundle: resolve(values.bundle as string), target: resolve(values.target as string), force: values.force === true });
    process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : report(result));
    return EXIT.OK;
  },
};
