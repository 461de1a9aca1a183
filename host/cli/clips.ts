import { FieldcamError } from '../../firmware/core/errors.ts';
import { FragmentTagReader, type TaggedFragment } from '../lib/clips/FragmentTagReader.ts';
import { groupClips, type ClipFragment } from '../lib/clips/groupClips.ts';
import { EXIT } from '../lib/CliError.ts';
import { formatTable } from '../lib/control/formatControl.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';
import { archivedMediaClient, archiveTarget, fetchFragmentMedia, fragmentRange, listAllFragments, RANGE_OPTIONS } from './fragments.ts';

const spec: CommandSpec = {
  name: 'clips',
  usage: 'clips --stream <name> [--start T] [--end T] [--producer-timestamps] [--max-results N] [--json] [--profile P] [--endpoint-url URL] [--region R]',
  summary:
    'Lists the event clips a stream holds (docs/events.md): a camera recording in event mode tags every fragment of a\n' +
    "clip with FIELDCAM_CLIP and the event's name=value tags. The fragments come from ListFragments, their tags from\n" +
    'GetMediaForFragmentList (ListFragments does not return metadata); each clip is shown with its start, end,\n' +
    'fragments, merged events and tags, oldest first.',
  options: {
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    json: { type: 'boolean', help: 'print the clips as JSON' },
    ...RANGE_OPTIONS,
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
  },
  details: 'example (local cloud):\n  fieldcam clips --stream cam-1 --endpoint-url https://127.0.0.1:4590\n  fieldcam clips --stream cam-1 --start=-1h --json',
};

export const clipsCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const target = archiveTarget('clips', values);
    const range = fragmentRange('clips', values);
    const lister = await archivedMediaClient(target, 'LIST_FRAGMENTS');
    let listed;
    try {
      listed = await listAllFragments(lister, target.stream, range);
    } finally {
      lister.destroy();
    }
    const byNumber = new Map(listed.map((f) => [f.FragmentNumber!, f]));
    const fragments: ClipFragment[] = [];
    if (listed.length > 0) {
      const client = await archivedMediaClient(target, 'GET_MEDIA_FOR_FRAGMENT_LIST');
      const reader = new FragmentTagReader((t: TaggedFragment) => {
        const f = t.fragmentNumber === undefined ? undefined : byNumber.get(t.fragmentNumber);
        if (!f) return;
        fragments.push({
          fragmentNumber: t.fragmentNumber!,
          producerMs: f.ProducerTimestamp?.getTime() ?? 0,
          durationMs: f.FragmentLengthInMilliseconds ?? 0,
          tags: t.tags,
        });
      });
      try {
        const numbers = [...byNumber.keys()];
        await fetchFragmentMedia(client, target.stream, numbers, (chunk) => reader.push(chunk));
        reader.end();
      } finally {
        client.destroy();
      }
      if (fragments.length !== listed.length) {
        throw new FieldcamError('UPLOAD_BAD_RESPONSE', `GetMediaForFragmentList returned tags for ${fragments.length} of ${listed.length} fragments`);
      }
    }
    const clips = groupClips(fragments);
    if (values.json === true) {
      process.stdout.write(
        JSON.stringify(
          clips.map((c) => ({ ...c, start: new Date(c.startMs).toISOString(), end: new Date(c.endMs).toISOString() })),
          null,
          2,
        ) + '\n',
      );
      return EXIT.OK;
    }
    if (clips.length === 0) {
      process.stdout.write(`${target.stream}: no event clips in ${listed.length} fragment(s)\n`);
      return EXIT.OK;
    }
    const rows = [
      ['clip', 'start', 'end', 'seconds', 'fragments', 'events', 'tags'],
      ...clips.map((c) => [
        c.id,
        new Date(c.startMs).toISOString(),
        new Date(c.endMs).toISOString(),
        ((c.endMs - c.startMs) / 1000).toFixed(1),
        String(c.fragments),
        String(c.events),
        Object.entries(c.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ]),
    ];
    process.stdout.write([...formatTable(rows), `${clips.length} clip(s) in ${listed.length} fragment(s) of ${target.stream}`].join('\n') + '\n');
    return EXIT.OK;
  },
};
