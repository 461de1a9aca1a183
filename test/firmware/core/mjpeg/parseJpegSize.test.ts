import { parseJpegSize } from './parseJpegSize.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { ascii, concat, FIXTURE, fixtureImages, insertAt, markerAt, segment } from './mjpegKit.ts';

const test = suite('parseJpegSize');
const images = fixtureImages();

test('every fixture image is 320x240, in place inside the whole stream', () => {
  const all = fixture(FIXTURE);
  let offset = 0;
  for (const image of images) {
    assert.equal(parseJpegSize(all, offset, image.length), { width: 320, height: 240 });
    offset += image.length;
  }
  assert.equal(parseJpegSize(images[0]!), { width: 320, height: 240 });
});

test('reads the first frame header, not an embedded EXIF thumbnail', () => {
  const thumb = concat([[0xff, 0xd8], segment(0xc0, [8, 0, 16, 0, 16, 1, 1, 0x11, 0]), [0xff, 0xd9]]);
  const image = insertAt(images[0]!, 2, segment(0xe1, concat([ascii('Exif\0\0'), thumb])));
  assert.equal(parseJpegSize(image), { width: 320, height: 240 });
});

test('SOF2 (progressive) and odd sizes are read from the frame header', () => {
  const image = images[0]!.slice();
  const sof = markerAt(image, 0xc0);
  image[sof + 1] = 0xc2;
  image.set([0x04, 0x38, 0x07, 0x80], sof + 5); // 1080 lines, 1920 samples
  assert.equal(parseJpegSize(image), { width: 1920, height: 1080 });
});

test('bad images throw the MJPEG codes', () => {
  const image = images[0]!;
  assert.throws(() => parseJpegSize(new Uint8Array(0)), 'INPUT_EMPTY');
  assert.throws(() => parseJpegSize(image, 1), 'MJPEG_NOT_JPEG');
  assert.throws(() => parseJpegSize(image, 2), 'MJPEG_NOT_JPEG');
  assert.throws(() => parseJpegSize(new Uint8Array([0xff])), 'MJPEG_NOT_JPEG');
  assert.throws(() => parseJpegSize(image, 0, image.length - 1), 'MJPEG_TRUNCATED');
  assert.throws(() => parseJpegSize(image, 0, 200), 'MJPEG_TRUNCATED');
  assert.throws(() => parseJpegSize(insertAt(image, 2, [0xff, 0xe0, 0, 1])), 'MJPEG_SEGMENT_INVALID');
  assert.throws(() => parseJpegSize(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), 'MJPEG_NO_FRAME_SIZE');
  assert.throws(() => parseJpegSize(concat([image.subarray(0, 1000), image])), 'MJPEG_TRUNCATED');
});

test('offset and length outside the array are RangeErrors', () => {
  const image = images[0]!;
  assert.throws(() => parseJpegSize(image, -1), /offset/);
  assert.throws(() => parseJpegSize(image, image.length + 1), /offset/);
  assert.throws(() => parseJpegSize(image, 10, image.length), /length/);
  assert.throws(() => parseJpegSize(image, 0.5), /offset/);
});

test.run();
