// The Matroska writer against real peers: mkvmerge, ffprobe and ffmpeg read what it writes.
// 30 JPEGs from the MJPEG fixture (split on SOI/EOI here, independently of firmware/core/mjpeg), 100 ms
// apart, in 1 s fragments with one persistent metadata item and an end-of-fragment tag after each fragment.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Frame } from '../../firmware/core/media/Frame.ts';
import { pushFrameBytes } from '../../firmware/core/media/pushFrameBytes.ts';
import { ViewList } from '../../firmware/core/media/ViewList.ts';
import { EBML_IDS } from '../../firmware/core/mkv/ebmlIds.ts';
import { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';
import { MkvWriter } from '../../firmware/core/mkv/MkvWriter.ts';
import { Slot } from '../../firmware/core/pool/Slot.ts';
import { assert, fixture, suite } from '../harness/index.ts';
import { childrenWithId, walk } from '../firmware/core/mkv/ebmlWalk.ts';

const test = suite('MkvWriter e2e (mkvmerge, ffprobe, ffmpeg)');

const START = 1_700_000_000_000; // ABSOLUTE fragment timecodes: epoch ms
const FRAME_MS = 100;
const FRAGMENT_FRAMES = 10;

/** [start, end) of every JPEG: SOI FFD8 … EOI FFD9 (the fixture has no thumbnails or stuffing surprises). */
function splitJpegs(bytes: Uint8Array): [number, number][] {
  const ranges: [number, number][] = [];
  let start = -1;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    if (start < 0 && bytes[i + 1] === 0xd8) start = i;
    else if (start >= 0 && bytes[i + 1] === 0xd9) {
      ranges.push([start, i + 2]);
      start = -1;
      i++;
    }
  }
  return ranges;
}

function run(cmd: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function writeStream(): Buffer {
  const input = fixture('mjpeg-320x240-10fps.mjpeg');
  const jpegs = splitJpegs(input);
  assert.is(jpegs.length, 30);
  const slot = new Slot(0, input);
  const writer = new MkvWriter({
    track: {
      codecId: 'V_MJPEG',
      width: 320,
      height: 240,
      defaultDurationNs: FRAME_MS * 1_000_000,
      pushPayload: (frame, out) => pushFrameBytes(frame, out, 0, frame.size),
    },
    segmentUid: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
    writingApp: 'fieldcam e2e',
  });
  const metadata = new FragmentMetadata();
  metadata.put('camera', 'porch');
  const out = new ViewList(8);
  const parts: Buffer[] = [];
  // Scratch views are valid until the next call of the same method: write them out after every call.
  const flush = () => {
    for (let i = 0; i < out.count; i++) parts.push(Buffer.from(out.sources[i]!.subarray(out.offsets[i]!, out.offsets[i]! + out.lengths[i]!)));
    out.clear();
  };
  writer.header(out);
  flush();
  const frame = new Frame(); // one record reused, as the pool does
  for (const [i, [start, end]] of jpegs.entries()) {
    frame.reset();
    frame.slotA = slot;
    frame.startA = start;
    frame.endA = end;
    frame.pts = frame.dts = START + i * FRAME_MS;
    frame.duration = FRAME_MS;
    frame.key = true; // every JPEG is a key frame
    if (i % FRAGMENT_FRAMES === 0) {
      writer.startFragment(frame.pts, out, metadata);
      metadata.fragmentDone();
      flush();
    }
    writer.block(frame, out);
    flush();
    if (i % FRAGMENT_FRAMES === FRAGMENT_FRAMES - 1) {
      writer.endFragment(out);
      flush();
    }
  }
  return Buffer.concat(parts);
}

const dir = mkdtempSync(join(tmpdir(), 'fieldcam-mkv-'));
const file = join(dir, 'out.mkv');

test('the stream parses back with an independent EBML walker', () => {
  const bytes = writeStream();
  writeFileSync(file, bytes);
  const segment = walk(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))[1]!;
  const T = EBML_IDS;
  const layout = segment.children.map((n) => (n.id === T.Tags ? 'T' : n.id === T.Cluster ? 'C' : '.')).join('');
  assert.is(layout, '..TCTTCTTCT'); // Info Tracks, then per fragment: metadata Tags, Cluster, EoFr Tags
  assert.equal(
    childrenWithId(segment, T.Cluster).map((c) => childrenWithId(c, T.SimpleBlock).length),
    [10, 10, 10],
  );
});

test('mkvmerge -J: no errors, no warnings, the tags are listed', () => {
  const r = run('mkvmerge', ['-J', file]);
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as {
    errors: string[];
    warnings: string[];
    container: { recognized: boolean; supported: boolean; properties: Record<string, unknown> };
    global_tags: { num_entries: number }[];
    tracks: { codec: string; properties: Record<string, unknown> }[];
  };
  assert.equal(info.errors, []);
  assert.equal(info.warnings, []);
  assert.ok(info.container.recognized && info.container.supported);
  assert.is(info.container.properties.segment_uid, 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');
  assert.is(info.container.properties.writing_application, 'fieldcam e2e');
  assert.ok(info.global_tags.length >= 1 && info.global_tags[0]!.num_entries >= 1, JSON.stringify(info.global_tags));
  assert.is(info.tracks.length, 1);
  assert.is(info.tracks[0]!.codec, 'V_MJPEG');
  assert.is(info.tracks[0]!.properties.pixel_dimensions, '320x240');
  assert.is(info.tracks[0]!.properties.track_name, 'kinesis_video');
  assert.is(info.tracks[0]!.properties.default_duration, 100_000_000);
});

test('ffprobe counts exactly 30 frames and reads the metadata tag', () => {
  const r = run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames,codec_name,width,height:format_tags',
    '-of',
    'json',
    file,
  ]);
  assert.is(r.stderr, '');
  assert.is(r.status, 0);
  const probe = JSON.parse(r.stdout) as { streams: Record<string, unknown>[]; format: { tags: Record<string, string> } };
  assert.equal(probe.streams[0], { codec_name: 'mjpeg', width: 320, height: 240, nb_read_frames: '30' });
  assert.is(probe.format.tags.camera, 'porch');
});

test('ffmpeg decodes the whole file without a word on stderr', () => {
  const r = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.is(r.status, 0);
  assert.is(r.stderr + r.stdout, '');
});

test('frame timestamps step by exactly 0.1 s from the first cluster timecode', () => {
  const r = run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file]);
  assert.is(r.stderr, '');
  const times = r.stdout.trim().split('\n').map(Number);
  assert.is(times.length, 30);
  times.forEach((t, i) => void assert.is(Math.round(t * 1000), START + i * FRAME_MS, `frame ${i} at ${t}`));
  rmSync(dir, { recursive: true, force: true });
});

test.run();
