import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  type Fragment,
  GetMediaForFragmentListCommand,
  KinesisVideoArchivedMediaClient,
  paginateListFragments,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { FieldcamError } from '../shared/hostErrors.ts';
import { awsClientConfig, type AwsClientConfig } from '../aws/awsClientConfig.ts';
import { EXIT } from '../lib/CliError.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { parseTimeArgument } from '../lib/parseTimeArgument.ts';
import type { Command } from './fieldcam.ts';

/** --start/--end/--producer-timestamps/--max-results/--profile: what `fragments` and `get-media` share. */
export const RANGE_OPTIONS = Object.freeze({
  start: { type: 'string', value: 'T', help: 'only fragments starting at or after T: ISO 8601, epoch seconds, now, or -5m (write --start=-5m)' },
  end: { type: 'string', value: 'T', help: 'only fragments starting at or before T (default: now)' },
  'producer-timestamps': { type: 'boolean', help: 'compare --start/--end with producer (camera) timestamps, not server timestamps' },
  'max-results': { type: 'string', value: 'N', help: 'at most N fragments (the oldest)' },
  profile: { type: 'string', value: 'name', help: 'AWS CLI profile for credentials and region (default: AWS_PROFILE)' },
} as const);

const spec: CommandSpec = {
  name: 'fragments',
  usage: 'fragments --stream <name> [--start T] [--end T] [--producer-timestamps] [--max-results N] [--json] [--profile P] [--endpoint-url URL] [--region R]',
  summary:
    "Lists the fragments Kinesis Video Streams stored for a stream (ListFragments on the stream's data endpoint):\n" +
    'number, producer and server time, duration and size, oldest first. Credentials, region and AWS_CA_BUNDLE are\n' +
    'read as the AWS CLI reads them.',
  options: {
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    json: { type: 'boolean', help: 'print the fragments as JSON' },
    ...RANGE_OPTIONS,
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
  },
  details: 'example (local cloud):\n  fieldcam fragments --stream demo --endpoint-url https://127.0.0.1:4590',
};

/** The fragment range and cap of RANGE_OPTIONS (undefined: the whole stream). */
export interface FragmentRange {
  readonly selector?: {
    readonly FragmentSelectorType: 'SERVER_TIMESTAMP' | 'PRODUCER_TIMESTAMP';
    readonly TimestampRange: { StartTimestamp: Date; EndTimestamp: Date };
  };
  readonly max?: number;
}

export function fragmentRange(command: string, values: Record<string, unknown>, now = Date.now()): FragmentRange {
  const start = typeof values.start === 'string' ? parseTimeArgument('start', values.start, now) : undefined;
  const end = typeof values.end === 'string' ? parseTimeArgument('end', values.end, now) : undefined;
  let max: number | undefined;
  if (values['max-results'] !== undefined) {
    const text = String(values['max-results']);
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new FieldcamError('CLI_USAGE', `${command}: --max-results must be a whole number of at least 1`);
    max = Number(text);
  }
  if (start === undefined && end === undefined) return max !== undefined ? { max } : {};
  const from = start ?? 0;
  const to = end ?? now;
  if (to < from) throw new FieldcamError('CLI_USAGE', `${command}: --end is before --start`);
  return {
    selector: {
      FragmentSelectorType: values['producer-timestamps'] ? 'PRODUCER_TIMESTAMP' : 'SERVER_TIMESTAMP',
      TimestampRange: { StartTimestamp: new Date(from), EndTimestamp: new Date(to) },
    },
    ...(max !== undefined ? { max } : {}),
  };
}

/** What the archived-media commands share: the stream, and SDK configuration resolved like the AWS CLI. */
export interface ArchiveTarget {
  readonly stream: string;
  readonly config: AwsClientConfig;
}

/** --stream, --endpoint-url and --region of an archived-media command. */
export function archiveTarget(command: string, values: Record<string, unknown>): ArchiveTarget {
  const stream = values.stream;
  if (typeof stream !== 'string' || !/^[a-zA-Z0-9_.-]{1,256}$/.test(stream)) {
    throw new FieldcamError('CLI_USAGE', `${command}: --stream <name> is required (1-256 of a-z A-Z 0-9 _ . -)`);
  }
  const config = awsClientConfig({
    ...(typeof values.region === 'string' ? { region: values.region } : {}),
    ...(typeof values.profile === 'string' ? { profile: values.profile } : {}),
    ...(typeof values['endpoint-url'] === 'string' ? { endpointUrl: values['endpoint-url'] } : {}),
  });
  return { stream, config };
}

/** Archived media is served by the stream's data endpoint: ask the control plane for it first (GetDataEndpoint). */
export async function archivedMediaClient(
  target: ArchiveTarget,
  apiName: 'LIST_FRAGMENTS' | 'GET_MEDIA_FOR_FRAGMENT_LIST' | 'GET_HLS_STREAMING_SESSION_URL' | 'GET_CLIP' | 'GET_IMAGES',
): Promise<KinesisVideoArchivedMediaClient> {
  const control = new KinesisVideoClient(target.config);
  try {
    const { DataEndpoint } = await withThrottleRetry(() => control.send(new GetDataEndpointCommand({ StreamName: target.stream, APIName: apiName })));
    if (!DataEndpoint) throw new FieldcamError('UPLOAD_BAD_RESPONSE', `GetDataEndpoint returned no endpoint for ${target.stream}`);
    return new KinesisVideoArchivedMediaClient({ ...target.config, endpoint: DataEndpoint });
  } catch (err) {
    throw awsFailure(err, target.stream);
  } finally {
    control.destroy();
  }
}

/**
 * GetDataEndpoint allows 5 calls per second per stream (kvs-reference.md §6.1) and the SDK does not retry
 * KVS's ClientLimitExceededException: back off and retry a few times.
 */
async function withThrottleRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name !== 'ClientLimitExceededException' || attempt >= 4) throw err;
      await new Promise((resume) => setTimeout(resume, 250 * 2 ** attempt));
    }
  }
}

/** Orders decimal FragmentNumbers numerically (they are longer than any JavaScript number). */
export function compareFragmentNumbers(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every fragment of the stream (or of `range`), ordered by producer timestamp then number (ListFragments
 * pages are unordered); with `range.max`, the oldest that many.
 */
export async function listAllFragments(client: KinesisVideoArchivedMediaClient, stream: string, range: FragmentRange = {}): Promise<Fragment[]> {
  const all: Fragment[] = [];
  try {
    const input = { StreamName: stream, ...(range.selector ? { FragmentSelector: range.selector } : {}) };
    for await (const page of paginateListFragments({ client, pageSize: 1000 }, input)) all.push(...(page.Fragments ?? []));
  } catch (err) {
    throw awsFailure(err, stream);
  }
  all.sort(
    (a, b) =>
      (a.ProducerTimestamp?.getTime() ?? 0) - (b.ProducerTimestamp?.getTime() ?? 0) || compareFragmentNumbers(a.FragmentNumber ?? '', b.FragmentNumber ?? ''),
  );
  return range.max !== undefined ? all.slice(0, range.max) : all;
}

/** An SDK failure as the FieldcamError a person can act on. */
/** GetMediaForFragmentList takes at most 1000 fragments (kvs-reference.md §6.2). */
const MEDIA_BATCH = 1000;

/** The stored media of `numbers`, in that order, in batches GetMediaForFragmentList accepts, chunk by chunk. */
export async function fetchFragmentMedia(
  client: KinesisVideoArchivedMediaClient,
  stream: string,
  numbers: readonly string[],
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  for (let i = 0; i < numbers.length; i += MEDIA_BATCH) {
    let answer;
    try {
      answer = await client.send(new GetMediaForFragmentListCommand({ StreamName: stream, Fragments: numbers.slice(i, i + MEDIA_BATCH) }));
    } catch (err) {
      throw awsFailure(err, stream);
    }
    for await (const chunk of answer.Payload as AsyncIterable<Uint8Array>) onChunk(chunk);
  }
}

export function awsFailure(err: unknown, stream: string): FieldcamError {
  if (err instanceof FieldcamError) return err;
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'ResourceNotFoundException') return new FieldcamError('UPLOAD_STREAM_NOT_FOUND', `stream '${stream}': ${message}`);
  if (status === 401 || status === 403 || /NotAuthorized|Signature|UnrecognizedClient|ExpiredToken|AccessDenied/.test(e.name ?? '')) {
    return new FieldcamError('UPLOAD_AUTH_FAILED', `${e.name}: ${message}`);
  }
  if (e.name === 'CredentialsProviderError') return new FieldcamError('UPLOAD_NO_CREDENTIALS', message);
  if (/Region is missing/i.test(message)) return new FieldcamError('CLI_USAGE', 'no region: pass --region or set AWS_REGION');
  if (/CERT|certificate/i.test(`${e.code ?? ''} ${message}`)) {
    return new FieldcamError('UPLOAD_NETWORK', `TLS: ${message}; for the local cloud, set AWS_CA_BUNDLE to its CA file`);
  }
  if (e.code && /^E[A-Z]+$/.test(e.code)) return new FieldcamError('UPLOAD_NETWORK', `${e.code}: ${message}`);
  return new FieldcamError('UPLOAD_BAD_RESPONSE', `${e.name ?? 'Error'}: ${message}`);
}

function iso(d: Date | undefined): string {
  return d ? d.toISOString() : '-';
}

export const fragmentsCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const target = archiveTarget('fragments', values);
    const range = fragmentRange('fragments', values);
    const client = await archivedMediaClient(target, 'LIST_FRAGMENTS');
    let fragments: Fragment[];
    try {
      fragments = await listAllFragments(client, target.stream, range);
    } finally {
      client.destroy();
    }
    if (values.json) {
      const rows = fragments.map((f) => ({
        FragmentNumber: f.FragmentNumber,
        ProducerTimestamp: f.ProducerTimestamp?.toISOString(),
        ServerTimestamp: f.ServerTimestamp?.toISOString(),
        FragmentLengthInMilliseconds: f.FragmentLengthInMilliseconds,
        FragmentSizeInBytes: f.FragmentSizeInBytes,
      }));
      process.stdout.write(JSON.stringify({ stream: target.stream, fragments: rows }, null, 2) + '\n');
      return EXIT.OK;
    }
    const table = [
      ['fragment number', 'producer time', 'server time', 'duration', 'size'],
      ...fragments.map((f) => [
        f.FragmentNumber ?? '-',
        iso(f.ProducerTimestamp),
        iso(f.ServerTimestamp),
        `${f.FragmentLengthInMilliseconds ?? '-'} ms`,
        `${f.FragmentSizeInBytes ?? '-'} B`,
      ]),
    ];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
    for (const row of table) {
      process.stdout.write(
        row
          .map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
          .join('  ')
          .trimEnd() + '\n',
      );
    }
    const totalMs = fragments.reduce((n, f) => n + (f.FragmentLengthInMilliseconds ?? 0), 0);
    const totalBytes = fragments.reduce((n, f) => n + (f.FragmentSizeInBytes ?? 0), 0);
    process.stdout.write(`${fragments.length} fragment(s) in ${target.stream}, ${(totalMs / 1000).toFixed(1)} s, ${totalBytes} bytes\n`);
    return EXIT.OK;
  },
};
