// GetImages with the unmodified SDK client and `fieldcam images` against the local KVS: the expected count
// of images for the range and interval, each one decodable (ffprobe reads its codec and size), NO_MEDIA
// for times without a fragment, MEDIA_ERROR for MJPEG, scaling and pagination.
import { GetImagesCommand, type GetImagesCommandInput } from '@aws-sdk/client-kinesis-video-archived-media';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, suite } from '../../../harness/index.ts';
import { cli, h264Body, mjpegBody, playbackCloud, run, workDir } from './playbackKit.ts';

const test = suite('sim/cloud playback: GetImages (SDK) and fieldcam images');
const pc = await playbackCloud();
const out = workDir();
const T = Date.now() - 3_600_000;
test.after(async () => {
  await pc.close();
  out.remove();
});

async function images(
  input: Partial<GetImagesCommandInput>,
): Promise<{ Images?: { TimeStamp?: Date; Error?: string; ImageContent?: string }[]; NextToken?: string }> {
  const client = await pc.archived();
  try {
    return await client.send(
      new GetImagesCommand({
        StreamName: 'porch',
        ImageSelectorType: 'PRODUCER_TIMESTAMP',
        Format: 'JPEG',
        StartTimestamp: new Date(T),
        EndTimestamp: new Date(T + 4000),
        SamplingInterval: 1000,
        ...input,
      }),
    );
  } finally {
    client.destroy();
  }
}

/** codec,width,height of an image, read back by ffprobe. */
async function probe(bytes: Buffer, name: string): Promise<string> {
  const file = join(out.dir, name);
  writeFileSync(file, bytes);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file]);
  return stdout.trim();
}

test('JPEG every second over 4 s: 5 decodable 320x240 images at the sampled times', async () => {
  await pc.fill('porch', h264Body(T));
  const page = await images({});
  assert.is(page.Images!.length, 5);
  assert.equal(
    page.Images!.map((i) => i.TimeStamp!.getTime() - T),
    [0, 1000, 2000, 3000, 4000],
  );
  for (const [i, image] of page.Images!.entries()) {
    assert.is(image.Error, undefined);
    assert.is(await probe(Buffer.from(image.ImageContent!, 'base64'), `i${i}.jpg`), 'mjpeg,320,240');
  }
  assert.is(page.NextToken, undefined);
});

test('PNG scaled, pages of 25 with NextToken, NO_MEDIA past the stream, MEDIA_ERROR for MJPEG', async () => {
  const png = await images({ Format: 'PNG', WidthPixels: 160, HeightPixels: 120, EndTimestamp: new Date(T) });
  assert.is(png.Images!.length, 1);
  assert.is(await probe(Buffer.from(png.Images![0]!.ImageContent!, 'base64'), 'p.png'), 'png,160,120');
  const first = await images({ SamplingInterval: 200, EndTimestamp: new Date(T + 9800) });
  assert.is(first.Images!.length, 25);
  assert.ok(first.NextToken);
  const second = await images({ SamplingInterval: 200, EndTimestamp: new Date(T + 9800), NextToken: first.NextToken });
  assert.is(second.Images![0]!.TimeStamp!.getTime(), T + 25 * 200);
  const past = await images({ StartTimestamp: new Date(T + 9500), EndTimestamp: new Date(T + 12_000) });
  assert.equal(
    past.Images!.map((i) => i.Error ?? 'image'),
    ['image', 'NO_MEDIA', 'NO_MEDIA'],
  );
  await pc.fill('esp32', mjpegBody(T));
  const mjpeg = await images({ StreamName: 'esp32', EndTimestamp: new Date(T + 1000) });
  assert.equal(
    mjpeg.Images!.map((i) => i.Error),
    ['MEDIA_ERROR', 'MEDIA_ERROR'],
  );
});

test('fieldcam images writes one file per sampled time', async () => {
  const dir = join(out.dir, 'stills');
  const iso = (ms: number): string => new Date(T + ms).toISOString();
  const r = await cli(pc.cloud, ['images', '--stream', 'porch', '--start', iso(0), '--end', iso(2000), '--every', '500ms', '--producer-timestamps', '-o', dir]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${dir}: 5 image(s) of porch`), r.stdout);
  const files = readdirSync(dir).sort();
  assert.is(files.length, 5);
  assert.ok(files.every((f) => f.startsWith('porch-') && f.endsWith('.jpg')));
});

test.run();
