// Deterministic fuzzing of the EBML reader: mutated, truncated and random copies of a KVS PutMedia body.
// Every outcome must be events or a FieldcamError EBML_* (never another exception, never a hang), and the
// same events and error whatever the push sizes.
import { assert, scaled, suite } from '../../../harness/index.ts';
import { prng } from '../../../firmware/core/h264/h264TestKit.ts';
import { drive, kvsStream, randomChunks } from './EbmlReaderKit.ts';

const test = suite('mkv/EbmlReader fuzz');

const ITERATIONS = 1500;
const BASE = kvsStream();

function mutate(base: Uint8Array, random: () => number): Uint8Array {
  let data = base.slice();
  const steps = 1 + Math.floor(random() * 4);
  for (let s = 0; s < steps; s++) {
    const at = Math.floor(random() * data.length);
    switch (Math.floor(random() * 6)) {
      case 0: // flip a byte
        data[at] = Math.floor(random() * 256);
        break;
      case 1: // flip one bit
        data[at]! ^= 1 << Math.floor(random() * 8);
        break;
      case 2: // truncate
        data = data.slice(0, at);
        break;
      case 3: {
        // delete a short run
        const n = 1 + Math.floor(random() * 8);
        data = Uint8Array.from([...data.subarray(0, at), ...data.subarray(at + n)]);
        break;
      }
      case 4: {
        // duplicate a run (repeats headers, Clusters, Tags)
        const n = 1 + Math.floor(random() * 64);
        const run = data.slice(at, at + n);
        data = Uint8Array.from([...data.subarray(0, at), ...run, ...data.subarray(at)]);
        break;
      }
      default: // an "unknown size" or an over-long size marker where a size might be
        data[at] = random() < 0.5 ? 0xff : random() < 0.5 ? 0x01 : 0x00;
    }
  }
  return data;
}

test(`${ITERATIONS} mutated PutMedia bodies: only events or EBML_* errors, identical for one chunk and random splits`, () => {
  const random = prng(0x5eed);
  const codes = new Map<string, number>();
  for (let i = 0, n = scaled(ITERATIONS); i < n; i++) {
    const data = mutate(BASE, random);
    const whole = drive([data], { maxDepth: 12, maxElementBytes: 1 << 24, maxValueBytes: 64 });
    const split = drive(randomChunks(data, random, 1 + Math.floor(random() * 40)), { maxDepth: 12, maxElementBytes: 1 << 24, maxValueBytes: 64 });
    assert.equal(split.events, whole.events, `iteration ${i}: events differ with the split`);
    assert.is(split.code, whole.code, `iteration ${i}: ${split.message} vs ${whole.message}`);
    if (whole.code !== undefined) assert.ok(whole.code.startsWith('EBML_'), `iteration ${i}: ${whole.code}`);
    codes.set(whole.code ?? 'ok', (codes.get(whole.code ?? 'ok') ?? 0) + 1);
  }
  // The mutations reach the interesting paths, not just one error.
  for (const code of ['ok', 'EBML_TRUNCATED', 'EBML_ELEMENT_OVERFLOW', 'EBML_ID_INVALID']) {
    assert.ok((codes.get(code) ?? 0) > 0, `outcome ${code} reached (${JSON.stringify([...codes])})`);
  }
});

test('random bytes: only events or EBML_* errors, identical byte by byte', () => {
  const random = prng(42);
  for (let i = 0, n = scaled(500); i < n; i++) {
    const data = Uint8Array.from({ length: 1 + Math.floor(random() * 96) }, () => Math.floor(random() * 256));
    const whole = drive([data], { maxDepth: 8, maxElementBytes: 1 << 20, maxValueBytes: 32 });
    const bytewise = drive(
      Array.from(data, (b) => Uint8Array.of(b)),
      { maxDepth: 8, maxElementBytes: 1 << 20, maxValueBytes: 32 },
    );
    assert.equal(bytewise.events, whole.events, `iteration ${i}`);
    assert.is(bytewise.code, whole.code, `iteration ${i}`);
    if (whole.code !== undefined) assert.ok(whole.code.startsWith('EBML_'), `iteration ${i}: ${whole.code}`);
  }
});

test.run();
