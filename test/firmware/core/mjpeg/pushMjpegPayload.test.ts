import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { MjpegReader } from '../../../../firmware/core/mjpeg/MjpegReader.ts';
import { pushMjpegPayload } from '../../../../firmware/core/mjpeg/pushMjpegPayload.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, suite } from '../../../harness/index.ts';
import { concat, fixtureImages, sameBytes } from './mjpegKit.ts';

const test = suite('pushMjpegPayload');
const images = fixtureImages();

function gather(out: ViewList): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < out.count; i++) parts.push(out.sources[i]!.subarray(out.offsets[i], out.offsets[i]! + out.lengths[i]!));
  return concat(parts);
}

test('each image is one view in its slot, or two when it straddles slots; the views are the image', () => {
  const slotBytes = Math.max(...images.map((i) => i.length)) + 7;
  const pool = new FramePool({ slotCount: 3, slotBytes, maxFrames: 2 });
  const out = new ViewList(2);
  const counts: number[] = [];
  let k = 0;
  const reader = new MjpegReader({
    pool,
    onFrame: (frame: Frame) => {
      out.clear();
      pushMjpegPayload(frame, out);
      counts.push(out.count);
      assert.is(out.byteLength, images[k]!.length);
      assert.ok(sameBytes(gather(out), images[k]!), `image ${k}`);
      for (let i = 0; i < out.count; i++) assert.is(out.sources[i]!.buffer, pool.slots[0]!.bytes.buffer, 'views point into the pool');
      k++;
      pool.freeFrame(frame);
    },
  });
  const input = concat(images);
  for (let pos = 0; pos < input.length; ) {
    reader.prepare();
    const n = Math.min(reader.cursor.targetSpace, input.length - pos, 1000);
    reader.cursor.target.set(input.subarray(pos, pos + n), reader.cursor.targetOffset);
    reader.push(n);
    pos += n;
  }
  reader.end();
  assert.is(k, 30);
  assert.ok(counts.includes(1) && counts.includes(2), `view counts ${counts.join(',')}`);
  assert.ok(counts.every((c) => c === 1 || c === 2));
});

test.run();
