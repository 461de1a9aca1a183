import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import { EXIT, reportError } from '../lib/CliError.ts';

export interface Command {
  readonly summary: string;
  run(argv: string[]): Promise<number> | number;
}

/** Every command, loaded on demand so `fieldcam --help` stays instant. One file per command. */
const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = Object.freeze({
  build: {
    summary: 'build the firmware image for a board (runtime, bundle, manifest, size report) into dist/<board>/',
    load: async () => (await import('./build.ts')).buildCommand,
  },
  clip: { summary: 'download an MP4 of a time range of a stream (GetClip)', load: async () => (await import('./clip.ts')).clipCommand },
  clips: {
    summary: 'list the event clips a stream holds, with start, end and tags (fragment metadata)',
    load: async () => (await import('./clips.ts')).clipsCommand,
  },
  cloud: { summary: 'run the local AWS emulator (Kinesis Video Streams) on https://127.0.0.1', load: async () => (await import('./cloud.ts')).cloudCommand },
  device: {
    summary: 'steer one camera over MQTT: start, stop, set, tag, status, reload-credentials, restart, config, watch',
    load: async () => (await import('./device.ts')).deviceCommand,
  },
  devices: {
    summary: "the fleet table: each camera's health, last PERSISTED age, frames, drops, pool fill, ACK latency",
    load: async () => (await import('./devices.ts')).devicesCommand,
  },
  doctor: {
    summary: 'pre-flight checks of a device bundle: certificate, key, CA, clock, endpoints, credentials, stream',
    load: async () => (await import('./doctor.ts')).doctorCommand,
  },
  flash: {
    summary: "write a board's deployable tree (image, device bundle, systemd unit, install script) into a root directory",
    load: async () => (await import('./flash.ts')).flashCommand,
  },
  fragments: { summary: 'list the fragments Kinesis Video Streams stored for a stream', load: async () => (await import('./fragments.ts')).fragmentsCommand },
  'get-media': {
    summary: "download a stream's stored fragments as one playable Matroska file",
    load: async () => (await import('./get-media.ts')).getMediaCommand,
  },
  images: { summary: 'write still images of a time range of a stream (GetImages)', load: async () => (await import('./images.ts')).imagesCommand },
  mux: {
    summary: 'frame a raw H.264, H.265 or MJPEG stream (plus audio) as the Matroska a device would upload',
    load: async () => (await import('./mux.ts')).muxCommand,
  },
  play: { summary: 'print an HLS URL that plays a stream (GetHLSStreamingSessionURL)', load: async () => (await import('./play.ts')).playCommand },
  profile: {
    summary: 'memory and latency profile of a board (real image, your clip, local cloud): HTML report, JSON, CSV',
    load: async () => (await import('./profile.ts')).profileCommand,
  },
  provision: {
    summary: "create a camera's thing, certificate, role, policies and stream, and write its device bundle",
    load: async () => (await import('./provision.ts')).provisionCommand,
  },
  sim: {
    summary: 'run the local cloud and simulated cameras: the whole system on one machine',
    load: async () => (await import('./sim.ts')).simCommand,
  },
  stream: {
    summary: 'upload a video file to Kinesis Video Streams with the device pipeline (PutMedia)',
    load: async () => (await import('./stream.ts')).streamCommand,
  },
});

function version(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const lines = [
    'usage: fieldcam <command> [options]',
    '',
    'Put a camera board on Amazon Kinesis Video Streams.',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Run `fieldcam <command> --help` for the options of a command.',
  ];
  return lines.join('\n') + '\n';
}

/**
 * A reader that stops early (`fieldcam fragments | head`) closes the pipe: the next write fails with EPIPE.
 * That is the reader's choice, not an error: stop quietly, as Unix tools do, instead of a stack trace.
 */
function quietOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

export async function main(argv: string[]): Promise<number> {
  quietOnBrokenPipe();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`fieldcam ${version()}\n`);
    return EXIT.OK;
  }
  const entry = COMMANDS[name];
  try {
    if (!entry) throw new FieldcamError('CLI_USAGE', `unknown command '${name}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    return reportError(err);
  }
}
