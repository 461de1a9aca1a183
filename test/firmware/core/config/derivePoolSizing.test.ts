import { derivePoolSizing } from '../../../../firmware/core/config/derivePoolSizing.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('derivePoolSizing');

test('bitrate × seconds × 1.2 in whole slots, plus the two the reader fills', () => {
  // 1000 kbit/s × 60 s × 1.2 = 9,000,000 bytes → 35 slots of 256 KiB (34.3 rounded up) + 2.
  assert.equal(derivePoolSizing({ bitrateKbps: 1000, bufferSeconds: 60, fps: 15, maxFrameBytes: 262144 }), {
    slotBytes: 262144,
    slotCount: 37,
    maxFrames: 1082,
  });
});

test('every field must be a positive finite number', () => {
  const ok = { bitrateKbps: 1000, bufferSeconds: 60, fps: 15, maxFrameBytes: 262144 };
  for (const key of Object.keys(ok) as (keyof typeof ok)[]) {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      assert.throws(() => derivePoolSizing({ ...ok, [key]: bad }), 'CONFIG_INVALID', `${key}=${String(bad)}`);
    }
  }
});

test.run();
