import { GetClipCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { FieldcamError } from '../shared/hostErrors.ts';
import { AtomicFileWriter } from '../lib/AtomicFileWriter.ts';
import { EXIT } from '../lib/CliError.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { parseTimeArgument } from '../lib/parseTimeArgument.ts';
import type { Command } from './fieldcam.ts';
import { archivedMediaClient, archiveTarget, awsFailure } from './fragments.ts';

const spec: CommandSpec = {
  name: 'clip',
  usage: 'clip --stream <name> --start T --end T -o <clip.mp4> [--producer-timestamps] [--endpoint-url URL] [--region R]',
  summary:
    "Downloads an MP4 of a time range (GetClip on the stream's data endpoint) and writes it atomically, with\n" +
    'progress on stderr. KVS packages the fragments that START in the range, at most 200 fragments or 100 MB\n' +
    'from the start. Works against AWS and the local cloud alike.',
  options: {
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    start: { type: 'string', value: 'T', help: 'start: ISO 8601, epoch seconds, now, or -5m' },
    end: { type: 'string', value: 'T', help: "end (inclusive, compared with each fragment's start)" },
    output: { type: 'string', short: 'o', value: 'clip.mp4', help: 'where to write the MP4 (written atomically)' },
    'producer-timestamps': { type: 'boolean', help: 'select by producer (camera) timestamps instead of server timestamps' },
    quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
  },
  details: 'example:\n  fieldcam clip --stream demo --start=-2m --end=-1m -o /tmp/clip.mp4 && ffprobe /tmp/clip.mp4',
};

/** Progress lines at most this often (bytes). */
const PROGRESS_EVERY = 1 << 20;

export const clipCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const target = archiveTarget('clip', values);
    if (typeof values.start !== 'string' || typeof values.end !== 'string') throw new FieldcamError('CLI_USAGE', 'clip: --start and --end are required');
    if (typeof values.output !== 'string') throw new FieldcamError('CLI_USAGE', 'clip: -o <clip.mp4> is required');
    const now = Date.now();
    const start = parseTimeArgument('start', values.start, now);
    const end = parseTimeArgument('end', values.end, now);
    if (end <= start) throw new FieldcamError('CLI_USAGE', 'clip: --end must be later than --start');
    const progress = (line: string): void => {
      if (!values.quiet) process.stderr.write(`clip: ${line}\n`);
    };
    const client = await archivedMediaClient(target, 'GET_CLIP');
    const out = new AtomicFileWriter(values.output);
    let contentType = '';
    try {
      progress(`requesting ${new Date(start).toISOString()} … ${new Date(end).toISOString()} of ${target.stream}`);
      let answer;
      try {
        answer = await client.send(
          new GetClipCommand({
            StreamName: target.stream,
            ClipFragmentSelector: {
              FragmentSelectorType: values['producer-timestamps'] ? 'PRODUCER_TIMESTAMP' : 'SERVER_TIMESTAMP',
              TimestampRange: { StartTimestamp: new Date(start), EndTimestamp: new Date(end) },
            },
          }),
        );
      } catch (err) {
        throw awsFailure(err, target.stream);
      }
      contentType = answer.ContentType ?? '';
      let next = PROGRESS_EVERY;
      for await (const chunk of answer.Payload as AsyncIterable<Uint8Array>) {
        out.write(chunk);
        if (out.bytes >= next) {
          progress(`${(out.bytes / 1048576).toFixed(1)} MB received`);
          next += PROGRESS_EVERY;
        }
      }
      if (out.bytes === 0) throw new FieldcamError('UPLOAD_BAD_RESPONSE', 'GetClip returned an empty clip');
      out.commit();
    } catch (err) {
      out.abort();
      throw err;
    } finally {
      client.destroy();
    }
    process.stdout.write(`${values.output}: ${out.bytes} bytes${contentType ? ` (${contentType})` : ''}\n`);
    return EXIT.OK;
  },
};
