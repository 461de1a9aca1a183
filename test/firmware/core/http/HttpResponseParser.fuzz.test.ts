// Deterministic fuzzing: thousands of mutated sample responses. Every outcome must be events and/or a
// FieldcamError — never another exception or a hang — and must not depend on how the bytes were cut.
import { assert, scaled, suite } from '../../../harness/index.ts';
import { bytes, concat, every, parse, rng, type Outcome } from './httpKit.ts';
import { SAMPLES } from './samples.ts';

const test = suite('HttpResponseParser fuzz');

const CODES = ['HTTP_STATUS_LINE_INVALID', 'HTTP_HEADER_INVALID', 'HTTP_HEAD_TOO_LARGE', 'HTTP_FRAMING_INVALID', 'HTTP_CHUNK_INVALID', 'HTTP_TRUNCATED'];
// Bytes that matter to the grammar, plus a few tokens spliced in whole.
const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x2c, 0x30, 0x31, 0x3a, 0x3b, 0x46, 0x66, 0x7f, 0x80, 0xff];
const TOKENS = [
  '\r\n',
  '\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'Content-Length: 7\r\n',
  'Transfer-Encoding: chunked\r\n',
  '0\r\n\r\n',
  'ffff',
  ';x=y',
  ' ',
  ':',
].map(bytes);
const LIMITS = { maxHeadBytes: 256, maxHeaders: 8, maxChunkLineBytes: 32, maxTrailerBytes: 64 };

function mutate(next: () => number, base: Uint8Array): Uint8Array {
  let b: Uint8Array = base.slice();
  const edits = 1 + (next() % 4);
  for (let e = 0; e < edits; e++) {
    const at = next() % (b.length + 1);
    const value = next() % 2 === 0 ? INTERESTING[next() % INTERESTING.length]! : next() & 0xff;
    switch (next() % 6) {
      case 0: // insert a byte
        b = concat([b.subarray(0, at), Uint8Array.of(value), b.subarray(at)]);
        break;
      case 1: // delete a run
        b = concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + (next() % 8)))]);
        break;
      case 2: // duplicate a run
        b = concat([b.subarray(0, at), b.subarray(at, at + 1 + (next() % 48)), b.subarray(at)]);
        break;
      case 3: // splice a grammar token
        b = concat([b.subarray(0, at), TOKENS[next() % TOKENS.length]!, b.subarray(at)]);
        break;
      default: // overwrite a byte
        if (at < b.length) b[at] = value;
    }
  }
  if (next() % 5 === 0) b = b.subarray(0, next() % (b.length + 1));
  return b;
}

function check(r: Outcome, label: string): void {
  if (r.foreign !== undefined) throw new Error(`${label}: threw ${String((r.foreign as Error)?.stack ?? r.foreign)}`);
  if (r.code !== undefined) assert.ok(CODES.includes(r.code), `${label}: unexpected ${r.code}`);
  assert.ok(r.zeroCopy, `${label}: a body view outside the pushed array`);
  assert.ok(!r.events.includes('empty body call'), `${label}: onBody with no bytes`);
  // Events are well-formed: every body and end belongs to a head.
  let open = false;
  for (const e of r.events) {
    if (e.startsWith('head ')) {
      assert.ok(!open, `${label}: a head inside a response`);
      open = true;
    } else {
      assert.ok(open, `${label}: ${e.slice(0, 20)} outside a response`);
      if (e === 'end') open = false;
    }
  }
}

function same(a: Outcome, b: Outcome, label: string): void {
  assert.is(a.code, b.code, `${label}: error differs between splits`);
  assert.equal(a.events, b.events, `${label}: events differ between splits`);
}

test('4000 mutated responses end in events or a FieldcamError, the same for any split', () => {
  const next = rng(0x48545450);
  const codes = new Set<string>();
  let complete = 0;
  for (let iter = 0, n = scaled(4000); iter < n; iter++) {
    const sample = SAMPLES[iter % SAMPLES.length]!;
    const input = mutate(next, sample.input);
    const close = next() % 2 === 0;
    const limits = iter % 3 === 0 ? LIMITS : undefined;
    const label = `iteration ${iter} (${sample.name.slice(0, 30)})`;
    const whole = parse(input, [], close, limits);
    check(whole, label);
    if (whole.code) codes.add(whole.code);
    if (whole.events.includes('end')) complete++;
    const step = [1, 2, 5, 13][iter % 4]!;
    const pieces = parse(input, every(input.length, step), close, limits);
    check(pieces, `${label}, pieces of ${step}`);
    same(whole, pieces, `${label}, pieces of ${step}`);
    const cut = next() % (input.length + 1);
    same(whole, parse(input, [cut], close, limits), `${label}, cut at ${cut}`);
  }
  for (const code of CODES) assert.ok(codes.has(code), `no mutation produced ${code}`);
  assert.ok(complete > scaled(1000), `only ${complete} runs completed a response`);
});

test('random bytes and grammar soup never escape as anything but a FieldcamError', () => {
  const next = rng(0x63686e6b);
  const soup = ['HTTP/1.1 ', '200', ' OK', '\r\n', '\n', '\r', ':', ' ', 'Transfer-Encoding', 'chunked', 'Content-Length', '5', 'a', ';', '0', '\x00', '\t'];
  for (let iter = 0, n = scaled(2000); iter < n; iter++) {
    let input: Uint8Array;
    if (iter % 2 === 0) {
      input = new Uint8Array(next() % 400);
      for (let i = 0; i < input.length; i++) input[i] = next() & 0xff;
    } else {
      const parts: string[] = [];
      for (let n = next() % 80; n > 0; n--) parts.push(soup[next() % soup.length]!);
      input = bytes(parts.join(''));
    }
    const close = iter % 3 !== 0;
    const whole = parse(input, [], close, iter % 2 ? LIMITS : undefined);
    check(whole, `soup ${iter}`);
    same(whole, parse(input, every(input.length, 1 + (iter % 7)), close, iter % 2 ? LIMITS : undefined), `soup ${iter}`);
  }
});

test.run();
