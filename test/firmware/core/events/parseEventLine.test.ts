// The local trigger's line format (docs/events.md, "Local trigger"): what a line means, and that every bad line comes
// back as a named error — never a throw — whatever its bytes; the line reader stays within its one buffer.
import { EventLineReader } from '../../../../firmware/core/events/EventLineReader.ts';
import { parseEventLine } from '../../../../firmware/core/events/parseEventLine.ts';
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { assert, suite } from '../../../harness/index.ts';
import { mulberry32 } from '../../../harness/support.ts';

const test = suite('parseEventLine / EventLineReader: the trigger line format, bounded, named errors');

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
const parse = (s: string, maxPre = 30_000) => parseEventLine(ascii(s), 0, s.length, maxPre);
const code = (r: unknown) => (r instanceof FieldcamError ? r.code : 'ok');

test('tokens: pre, post and tags; an empty line is an event with the defaults; # is a comment', () => {
  const r = parse('pre=5s post=1500ms motion=front zone=3\r');
  assert.ok(r && !(r instanceof FieldcamError));
  assert.is(r.preMs, 5000);
  assert.is(r.postMs, 1500);
  assert.equal([...r.names], ['motion', 'zone']);
  assert.equal([...r.values], ['front', '3']);
  const empty = parse('');
  assert.ok(empty && !(empty instanceof FieldcamError));
  assert.is(empty.preMs, undefined);
  assert.is(empty.names.length, 0);
  assert.is(parse('# a comment'), undefined);
  const m = parse('post=2m');
  assert.ok(m && !(m instanceof FieldcamError) && m.postMs === 120_000);
});

test('bad lines are named errors', () => {
  assert.is(code(parse('motion')), 'EVENT_LINE_INVALID');
  assert.is(code(parse('a=1  b=2')), 'EVENT_LINE_INVALID'); // two spaces: an empty token
  assert.is(code(parse('pre=1s pre=2s')), 'EVENT_LINE_INVALID');
  assert.is(code(parse('motion=fr\u00e9nt')), 'EVENT_LINE_INVALID');
  assert.is(code(parse('pre=10')), 'EVENT_DURATION_INVALID');
  assert.is(code(parse('pre=31s')), 'EVENT_DURATION_INVALID'); // longer than the pre-roll
  assert.is(code(parse('post=11m')), 'EVENT_DURATION_INVALID');
  assert.is(code(parse('AWS_X=1')), 'EVENT_TAG_INVALID');
  assert.is(code(parse('FIELDCAM_CLIP=1')), 'EVENT_TAG_INVALID');
  assert.is(code(parse('a=1 b=2 c=3 d=4 e=5')), 'EVENT_TAG_INVALID');
  assert.is(code(parse('a=1 a=2')), 'EVENT_TAG_INVALID');
  assert.is(code(parse('a=')), 'EVENT_TAG_INVALID');
  assert.is(code(parse(`a=${'v'.repeat(65)}`)), 'EVENT_TAG_INVALID');
  assert.is(code(parse('x'.repeat(300))), 'EVENT_LINE_TOO_LONG');
});

test('random bytes never throw: an event, a comment or a named error', () => {
  const rnd = mulberry32(15);
  for (let n = 0; n < 2000; n++) {
    const len = Math.floor(rnd() * 80);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = rnd() < 0.7 ? 0x20 + Math.floor(rnd() * 95) : Math.floor(rnd() * 256);
    const r = parseEventLine(bytes, 0, len, 10_000);
    assert.ok(r === undefined || r instanceof FieldcamError || Array.isArray(r.names));
  }
});

test('the line reader: lines split across reads, a too-long line skipped to its newline and reported once', () => {
  const lines: string[] = [];
  const errors: string[] = [];
  const reader = new EventLineReader(
    (b, s, e) => {
      let t = '';
      for (let i = s; i < e; i++) t += String.fromCharCode(b[i]!);
      lines.push(t);
    },
    (err) => errors.push(err.code),
  );
  const feed = (s: string) => {
    let i = 0;
    while (i < s.length) {
      const n = Math.min(reader.space, s.length - i, 7); // reads of at most 7 bytes
      reader.buffer.set(ascii(s.slice(i, i + n)), reader.offset);
      reader.push(n);
      i += n;
    }
  };
  feed('a=1\npre=2s b=2\n');
  feed(`${'x'.repeat(600)}\nc=3\n`);
  feed('d=4');
  assert.equal(lines, ['a=1', 'pre=2s b=2', 'c=3']);
  assert.equal(errors, ['EVENT_LINE_TOO_LONG']);
  feed('\n');
  assert.equal(lines[3], 'd=4');
});

test.run();
