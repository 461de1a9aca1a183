import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import { awsClientConfig } from '../aws/awsClientConfig.ts';
import { EXIT } from '../lib/CliError.ts';
import { formatChecks } from '../lib/doctor/formatChecks.ts';
import { BOARDS_DIR, loadBoardManifest } from '../shared/loadBoardManifest.ts';
import { runDoctor } from '../lib/doctor/runDoctor.ts';
import { verifyImage } from '../lib/flash/verifyImage.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';

const spec: CommandSpec = {
  name: 'doctor',
  usage: 'doctor --bundle DIR [--board <name> [--spool DIR]] [--endpoint-url URL] [--json]  |  doctor --image camera.img [--json]',
  summary:
    'Pre-flight checks of a device bundle, as the device will meet them: files and device.cbor, key mode,\n' +
    "certificate/key pair, issuer and validity, the CA against the endpoints, the clock against the server's\n" +
    'Date, the credentials endpoint type, a real credentials call over mTLS, DescribeStream signed with the\n' +
    "credentials it returns (on each camera's <thing>-<camera> stream for a device with several), and whether\n" +
    "another fieldcam thing is named <thing>-… or is a prefix of this one followed by '-' (a WARN: its certificate\n" +
    "reaches the other's streams). Each row is PASS/FAIL/WARN/SKIP with a plain cause and a fix; exit 0 only if\n" +
    'none fails.',
  options: {
    bundle: { type: 'string', value: 'DIR', help: 'the bundle directory (what provision wrote)' },
    'endpoint-url': { type: 'string', value: 'URL', help: 'IoT endpoint for DescribeEndpoint (e.g. the local cloud); uses AWS credentials if any' },
    region: { type: 'string', value: 'region', help: "region for DescribeEndpoint (default: the bundle's)" },
    board: {
      type: 'string',
      value: 'name',
      help: "also read the bundle with the device's own reader for this board (manifests/boards/<name>.json): camera codec, fps, fragment length",
    },
    spool: {
      type: 'string',
      value: 'DIR',
      help: "with --board: the device's spool folder (default <bundle>.spool beside the bundle; /var/lib/fieldcam/spool on a flashed board): writable, free space for the board's cap (docs/spool.md)",
    },
    image: {
      type: 'string',
      value: 'camera.img',
      help: 'check a Raspberry Pi OS image fieldcam flash --image wrote, without mounting it (as fieldcam flash --verify)',
    },
    json: { type: 'boolean', help: 'print the rows as JSON' },
  },
  details: 'example (local cloud):\n  fieldcam doctor --bundle cam-1 --endpoint-url https://127.0.0.1:4590',
};

export const doctorCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    if (typeof values.image === 'string') {
      if (values.bundle !== undefined) throw new FieldcamError('CLI_USAGE', 'doctor: --image checks the bundle inside the image; leave out --bundle');
      const image = resolve(values.image);
      if (!existsSync(image)) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `doctor: no image ${image}`);
      const rows = verifyImage(image);
      const failed = rows.filter((r) => r.status === 'FAIL').length;
      process.stdout.write(values.json ? JSON.stringify({ image, ok: failed === 0, checks: rows }, null, 2) + '\n' : formatChecks(rows));
      return failed === 0 ? EXIT.OK : EXIT.FAILED;
    }
    if (typeof values.bundle !== 'string' || values.bundle === '') throw new FieldcamError('CLI_USAGE', 'doctor: --bundle DIR is required');
    const dir = resolve(values.bundle);
    if (!existsSync(dir)) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `doctor: no bundle directory ${dir}`);
    const aws = awsClientConfig({
      ...(typeof values.region === 'string' ? { region: values.region } : {}),
      ...(typeof values['endpoint-url'] === 'string' ? { endpointUrl: values['endpoint-url'] } : {}),
    });
    // DescribeEndpoint only with AWS credentials at hand (env or profile); without, doctor judges by trying.
    const hasCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE || process.env.AWS_WEB_IDENTITY_TOKEN_FILE);
    let board: { name: string; manifest: string } | undefined;
    if (typeof values.board === 'string') {
      const name = loadBoardManifest(values.board).name; // CONFIG_BOARD_UNKNOWN names the known boards
      board = { name, manifest: join(BOARDS_DIR, `${name}.json`) };
    }
    if (typeof values.spool === 'string' && !board)
      throw new FieldcamError('CLI_USAGE', "doctor: --spool needs --board (the board manifest gives the spool's cap and floor)");
    const spoolDir = typeof values.spool === 'string' ? { spoolDir: resolve(values.spool) } : {};
    const rows = await runDoctor({ dir, aws: hasCredentials ? aws : undefined, ...(board ? { board } : {}), ...spoolDir });
    const failed = rows.filter((r) => r.status === 'FAIL').length;
    if (values.json) {
      process.stdout.write(JSON.stringify({ bundle: dir, ok: failed === 0, checks: rows }, null, 2) + '\n');
    } else {
      process.stdout.write(formatChecks(rows));
    }
    return failed === 0 ? EXIT.OK : EXIT.FAILED;
  },
};
