// Deterministic fuzzing: thousands of mutated and truncated copies of real images. Every outcome must be
// frames and/or a FieldcamError — never another exception, a hang, a leaked slot or a malformed frame —
// and the outcome must not depend on how the stream was cut into reads.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { parseJpegSize } from './parseJpegSize.ts';
import { assert, fullScale, scaled, suite } from '../../../harness/index.ts';
import { concat, fixtureImages, run, sameBytes, type RunResult } from './mjpegKit.ts';
import { xorshift32 as rng } from '../../../harness/support.ts';

const test = suite('MjpegReader fuzz');

const images = fixtureImages();
const base = concat(images.slice(0, 3));
const headerBytes = 0x14c; // SOI … SOS header of each fixture image: where mutations hurt most
const slotBytes = Math.max(...images.map((i) => i.length)) + 7;
const interesting = [0x00, 0x01, 0x02, 0xff, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xc0, 0xc2, 0xc4, 0xd0, 0xe1, 0xfe];

const STRICT_CODES = ['INPUT_EMPTY', 'MJPEG_NOT_JPEG', 'MJPEG_TRUNCATED', 'MJPEG_SEGMENT_INVALID', 'MJPEG_NO_FRAME_SIZE', 'POOL_FRAME_TOO_LARGE'];
const LENIENT_CODES = ['INPUT_EMPTY'];

function mutate(next: () => number): Uint8Array {
  let bytes: Uint8Array = base.slice();
  const edits = 1 + (next() % 4);
  for (let e = 0; e < edits; e++) {
    const image = next() % 3;
    const start = images.slice(0, image).reduce((n, i) => n + i.length, 0);
    // Mostly the headers, sometimes anywhere.
    const at = next() % 4 === 0 ? next() % bytes.length : Math.min(bytes.length - 1, start + (next() % headerBytes));
    const value = next() % 2 === 0 ? interesting[next() % interesting.length]! : next() & 0xff;
    switch (next() % 5) {
      case 0: // insert a byte
        bytes = concat([bytes.subarray(0, at), [value], bytes.subarray(at)]);
        break;
      case 1: // delete a run
        bytes = concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + (next() % 16)))]);
        break;
      case 2: // duplicate a run (repeated markers, segments, SOIs)
        bytes = concat([bytes.subarray(0, at), bytes.subarray(at, at + 1 + (next() % 64)), bytes.subarray(at)]);
        break;
      default: // overwrite a byte
        bytes[at] = value;
    }
  }
  if (next() % 4 === 0) bytes = bytes.subarray(0, next() % (bytes.length + 1));
  return bytes;
}

function check(r: RunResult, strict: boolean, label: string): void {
  if (r.error !== undefined && !(r.error instanceof FieldcamError)) {
    throw new Error(`${label}: threw ${String((r.error as Error)?.stack ?? r.error)}`);
  }
  if (r.code !== undefined) assert.ok((strict ? STRICT_CODES : LENIENT_CODES).includes(r.code), `${label}: unexpected ${r.code}`);
  assert.is(r.slotsInUse, 0, `${label}: slots leaked`);
  assert.is(r.framesInUse, 0, `${label}: frame records leaked`);
  for (const f of r.frames) {
    assert.ok(f.length <= slotBytes, `${label}: frame over a slot`);
    assert.ok(f[0] === 0xff && f[1] === 0xd8 && f[f.length - 2] === 0xff && f[f.length - 1] === 0xd9, `${label}: frame not SOI…EOI`);
    parseJpegSize(f); // every emitted frame is a complete image on its own
  }
}

function sameOutcome(a: RunResult, b: RunResult, label: string): void {
  assert.is(a.code, b.code, `${label}: error differs between read sizes`);
  assert.is(a.frames.length, b.frames.length, `${label}: frame count differs between read sizes`);
  a.frames.forEach((f, i) => void assert.ok(sameBytes(f, b.frames[i]!), `${label}: frame ${i} differs between read sizes`));
  assert.equal(a.counters, b.counters, `${label}: counters differ between read sizes`);
}

test('3000 mutated or truncated streams end in frames or a FieldcamError, the same for any read size', () => {
  const next = rng(0x6d6a7067);
  let outcomes = 0;
  const codes = new Set<string>();
  for (let iter = 0, n = scaled(3000); iter < n; iter++) {
    const input = mutate(next);
    const strict = iter % 2 === 0;
    const label = `iteration ${iter} (${strict ? 'strict' : 'lenient'})`;
    const whole = run(input, { strict, slotBytes, slotCount: 3, readSize: 1 << 20 });
    check(whole, strict, label);
    if (whole.code) codes.add(whole.code);
    if (whole.frames.length > 0) outcomes++;
    if (iter % 4 === 0) {
      const readSize = [1, 3, 64, 777][(iter >> 2) % 4]!;
      const pieces = run(input, { strict, slotBytes, slotCount: 3, readSize });
      check(pieces, strict, `${label}, reads of ${readSize}`);
      sameOutcome(whole, pieces, `${label}, reads of ${readSize}`);
    }
  }
  // The mutations reach every strict outcome, and most streams still yield frames. MJPEG_NO_FRAME_SIZE first
  // appears after ~1000 iterations, so a scaled-down run (under QEMU) checks outcome coverage only in full runs.
  for (const code of STRICT_CODES.filter((c) => c !== 'INPUT_EMPTY')) {
    if (fullScale() || code !== 'MJPEG_NO_FRAME_SIZE') assert.ok(codes.has(code), `no input produced ${code}`);
  }
  assert.ok(outcomes > scaled(1000), `only ${outcomes} runs produced frames`);
});

test('random bytes and random marker soup never escape as anything but a FieldcamError', () => {
  const next = rng(0x4a504547);
  for (let iter = 0, n = scaled(1500); iter < n; iter++) {
    const length = next() % 600;
    const input = new Uint8Array(length);
    const soup = iter % 2 === 0;
    for (let i = 0; i < length; i++) input[i] = soup ? [0xff, 0xd8, 0xd9, 0xda, 0xc0, 0x00, 0x02, 0x11][next() % 8]! : next() & 0xff;
    if (iter % 3 === 0 && length >= 2) input.set([0xff, 0xd8], 0);
    const strict = iter % 4 < 2;
    check(run(input, { strict, slotBytes: 256, slotCount: 3, readSize: 1 + (next() % 40) }), strict, `soup ${iter}`);
  }
});

test.run();
