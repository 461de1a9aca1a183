import { GetImagesCommand, type GetImagesCommandOutput } from '@aws-sdk/client-kinesis-video-archived-media';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import { EXIT } from '../lib/CliError.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { parseDurationArgument, parseTimeArgument } from '../lib/parseTimeArgument.ts';
import { writeFileAtomic } from '../shared/writeFileAtomic.ts';
import type { Command } from './fieldcam.ts';
import { archivedMediaClient, archiveTarget, awsFailure } from './fragments.ts';

const spec: CommandSpec = {
  name: 'images',
  usage: 'images --stream <name> --start T --end T [--every 1s] -o <dir> [--png] [--width W --height H] [--quality Q] [--producer-timestamps]',
  summary:
    "Writes still images of a time range (GetImages on the stream's data endpoint), one file per sampled time:\n" +
    '<dir>/<stream>-<time>.jpg (or .png). KVS decodes them from H.264/H.265 streams; a range is at most 300 s.\n' +
    'Times without media are reported, not written. Works against AWS and the local cloud alike.',
  options: {
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    start: { type: 'string', value: 'T', help: 'start: ISO 8601, epoch seconds, now, or -5m (write --start=-5m)' },
    end: { type: 'string', value: 'T', help: 'end (inclusive)' },
    every: { type: 'string', value: 'interval', help: 'sampling interval, at least 200ms (default 1s)' },
    output: { type: 'string', short: 'o', value: 'dir', help: 'directory for the images (created if needed)' },
    png: { type: 'boolean', help: 'PNG instead of JPEG' },
    quality: { type: 'string', value: '1-100', help: 'JPEG quality (KVS default 80)' },
    width: { type: 'string', value: 'px', help: 'image width (needs --height)' },
    height: { type: 'string', value: 'px', help: 'image height (alone: keeps the aspect ratio)' },
    'producer-timestamps': { type: 'boolean', help: 'select by producer (camera) timestamps instead of server timestamps' },
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
  },
  details: 'example:\n  fieldcam images --stream demo --start=-1m --end now --every 5s -o /tmp/stills',
};

function whole(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new FieldcamError('CLI_USAGE', `images: --${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

export const imagesCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const target = archiveTarget('images', values);
    if (typeof values.start !== 'string' || typeof values.end !== 'string') throw new FieldcamError('CLI_USAGE', 'images: --start and --end are required');
    if (typeof values.output !== 'string') throw new FieldcamError('CLI_USAGE', 'images: -o <dir> is required');
    const now = Date.now();
    const start = parseTimeArgument('start', values.start, now);
    const end = parseTimeArgument('end', values.end, now);
    const every = typeof values.every === 'string' ? parseDurationArgument('every', values.every) : 1000;
    if (every < 200) throw new FieldcamError('CLI_USAGE', "images: --every must be at least 200ms (KVS's SamplingInterval)");
    const quality = whole('quality', values.quality, 1, 100);
    const width = whole('width', values.width, 1, 3840);
    const height = whole('height', values.height, 1, 2160);
    if (width !== undefined && height === undefined) throw new FieldcamError('CLI_USAGE', 'images: --width needs --height');
    const ext = values.png ? 'png' : 'jpg';
    mkdirSync(values.output, { recursive: true });
    const client = await archivedMediaClient(target, 'GET_IMAGES');
    let written = 0;
    const missing: string[] = [];
    try {
      let token: string | undefined;
      do {
        let page: GetImagesCommandOutput;
        try {
          page = await client.send(
            new GetImagesCommand({
              StreamName: target.stream,
              ImageSelectorType: values['producer-timestamps'] ? 'PRODUCER_TIMESTAMP' : 'SERVER_TIMESTAMP',
              StartTimestamp: new Date(start),
              EndTimestamp: new Date(end),
              SamplingInterval: Math.round(every),
              Format: values.png ? 'PNG' : 'JPEG',
              ...(quality !== undefined && !values.png ? { FormatConfig: { JPEGQuality: String(quality) } } : {}),
              ...(width !== undefined ? { WidthPixels: width } : {}),
              ...(height !== undefined ? { HeightPixels: height } : {}),
              ...(token ? { NextToken: token } : {}),
            }),
          );
        } catch (err) {
          throw awsFailure(err, target.stream);
        }
        for (const image of page.Images ?? []) {
          const when = image.TimeStamp?.toISOString() ?? 'unknown';
          if (!image.ImageContent) {
            missing.push(`${when} ${image.Error ?? 'no image'}`);
            continue;
          }
          writeFileAtomic(join(values.output, `${target.stream}-${when.replace(/:/g, '-')}.${ext}`), Buffer.from(image.ImageContent, 'base64'));
          written++;
        }
        token = page.NextToken;
      } while (token);
    } finally {
      client.destroy();
    }
    process.stdout.write(`${values.output}: ${written} image(s) of ${target.stream}${missing.length ? `, ${missing.length} time(s) without an image` : ''}\n`);
    for (const m of missing) process.stderr.write(`images: ${m}\n`);
    return written > 0 ? EXIT.OK : EXIT.FAILED;
  },
};
