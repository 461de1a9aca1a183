import { GetHLSStreamingSessionURLCommand, type GetHLSStreamingSessionURLCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { spawn } from 'node:child_process';
import { FieldcamError } from '../shared/hostErrors.ts';
import { EXIT } from '../lib/CliError.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { parseTimeArgument } from '../lib/parseTimeArgument.ts';
import type { Command } from './fieldcam.ts';
import { archivedMediaClient, archiveTarget, awsFailure } from './fragments.ts';

const MODES = ['LIVE', 'LIVE_REPLAY', 'ON_DEMAND'] as const;
type Mode = (typeof MODES)[number];

const spec: CommandSpec = {
  name: 'play',
  usage: 'play --stream <name> [--mode LIVE|LIVE_REPLAY|ON_DEMAND] [--start T] [--end T] [--ts] [--expires S] [--open] [--endpoint-url URL] [--region R]',
  summary:
    "Prints an HLS URL for a stream (GetHLSStreamingSessionURL on the stream's data endpoint) that any HLS\n" +
    'player opens (ffplay, VLC, Safari, hls.js). LIVE by default; with --start, LIVE_REPLAY; with --start and\n' +
    '--end, ON_DEMAND. Works against AWS and the local cloud alike.',
  options: {
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    mode: { type: 'string', value: 'mode', help: 'LIVE, LIVE_REPLAY or ON_DEMAND (default: from --start/--end)' },
    start: { type: 'string', value: 'T', help: 'start: ISO 8601, epoch seconds, now, or -5m' },
    end: { type: 'string', value: 'T', help: 'end (inclusive; ON_DEMAND requires it)' },
    'producer-timestamps': { type: 'boolean', help: 'select by producer (camera) timestamps instead of server timestamps' },
    ts: { type: 'boolean', help: 'MPEG-TS segments instead of fragmented MP4 (older players)' },
    expires: { type: 'string', value: 'seconds', help: 'session lifetime, 300-43200 (default 300)' },
    'max-results': { type: 'string', value: 'N', help: 'fragments per media playlist (KVS default: 5 live, 1000 on demand)' },
    open: { type: 'boolean', help: "also open the stream in a browser: the local cloud's /viewer, or the KVS console on AWS" },
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
  },
  details: 'examples:\n  fieldcam play --stream demo | xargs ffplay\n  fieldcam play --stream demo --start=-10m --end=-5m',
};

function integerFlag(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new FieldcamError('CLI_USAGE', `play: --${name} must be a whole number`);
  return Number(value);
}

/**
 * --open: the viewer of the cloud that served the URL (a loopback endpoint is the local cloud), else the
 * stream's page in the KVS console. Named on stderr; opened with xdg-open when the desktop has it.
 */
function openViewer(sessionUrl: string, stream: string, region: string): void {
  const url = new URL(sessionUrl);
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  const page = local
    ? `${url.origin}/viewer?stream=${encodeURIComponent(stream)}`
    : `https://${region}.console.aws.amazon.com/kinesisvideo/home?region=${region}#/streams/streamName/${encodeURIComponent(stream)}`;
  process.stderr.write(`play: viewer ${page}\n`);
  const child = spawn('xdg-open', [page], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write('play: no xdg-open here; open the viewer address above in a browser\n'));
  child.unref();
}

export const playCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const target = archiveTarget('play', values);
    const now = Date.now();
    const start = typeof values.start === 'string' ? parseTimeArgument('start', values.start, now) : undefined;
    const end = typeof values.end === 'string' ? parseTimeArgument('end', values.end, now) : undefined;
    let mode: Mode;
    if (typeof values.mode === 'string') {
      if (!(MODES as readonly string[]).includes(values.mode)) throw new FieldcamError('CLI_USAGE', `play: --mode must be one of ${MODES.join(', ')}`);
      mode = values.mode as Mode;
    } else {
      mode = start === undefined ? 'LIVE' : end === undefined ? 'LIVE_REPLAY' : 'ON_DEMAND';
    }
    if (mode === 'LIVE' && (start !== undefined || end !== undefined))
      throw new FieldcamError('CLI_USAGE', 'play: LIVE takes no --start/--end (use LIVE_REPLAY or ON_DEMAND)');
    if (mode !== 'LIVE' && start === undefined) throw new FieldcamError('CLI_USAGE', `play: ${mode} needs --start`);
    if (mode === 'ON_DEMAND' && end === undefined) throw new FieldcamError('CLI_USAGE', 'play: ON_DEMAND needs --end');
    const expires = integerFlag('expires', values.expires);
    const maxResults = integerFlag('max-results', values['max-results']);
    const input: GetHLSStreamingSessionURLCommandInput = {
      StreamName: target.stream,
      PlaybackMode: mode,
      ContainerFormat: values.ts ? 'MPEG_TS' : 'FRAGMENTED_MP4',
      HLSFragmentSelector: {
        FragmentSelectorType: values['producer-timestamps'] ? 'PRODUCER_TIMESTAMP' : 'SERVER_TIMESTAMP',
        ...(start !== undefined ? { TimestampRange: { StartTimestamp: new Date(start), ...(end !== undefined ? { EndTimestamp: new Date(end) } : {}) } } : {}),
      },
      ...(expires !== undefined ? { Expires: expires } : {}),
      ...(maxResults !== undefined ? { MaxMediaPlaylistFragmentResults: maxResults } : {}),
    };
    const client = await archivedMediaClient(target, 'GET_HLS_STREAMING_SESSION_URL');
    try {
      const { HLSStreamingSessionURL } = await client.send(new GetHLSStreamingSessionURLCommand(input));
      if (!HLSStreamingSessionURL) throw new FieldcamError('UPLOAD_BAD_RESPONSE', 'GetHLSStreamingSessionURL returned no URL');
      process.stdout.write(`${HLSStreamingSessionURL}\n`);
      if (values.open) openViewer(HLSStreamingSessionURL, target.stream, String(target.config.region ?? ''));
    } catch (err) {
      throw awsFailure(err, target.stream);
    } finally {
      client.destroy();
    }
    return EXIT.OK;
  },
};
