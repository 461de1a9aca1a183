import { HttpResponseParser } from '../../../../firmware/core/http/HttpResponseParser.ts';
import { assert, stride, suite } from '../../../harness/index.ts';
import { bytes, every, parse } from './httpKit.ts';
import { SAMPLES } from './samples.ts';

const test = suite('HttpResponseParser');

for (const sample of SAMPLES) {
  test(`${sample.name}: the same events for every split into two pieces, and byte by byte`, () => {
    const { input } = sample;
    const whole = parse(input, [], sample.close);
    assert.is(whole.foreign, undefined);
    assert.is(whole.code, undefined);
    assert.equal(whole.events, sample.events);
    assert.ok(whole.zeroCopy, 'onBody views point into the pushed array');
    for (let cut = 0; cut <= input.length; cut++) {
      const r = parse(input, [cut], sample.close);
      assert.equal(r.events, sample.events, `cut at ${cut}`);
      assert.is(r.code, undefined, `cut at ${cut}`);
      assert.ok(r.zeroCopy);
    }
    const bytewise = parse(input, every(input.length, 1), sample.close);
    assert.equal(bytewise.events, sample.events, 'byte by byte');
  });
}

test('every split into three pieces (second cut on a stride) gives the same events', () => {
  for (const sample of SAMPLES.slice(0, 4)) {
    const n = sample.input.length;
    for (let a = 0; a <= n; a += stride()) {
      for (let b = a; b <= n; b += 11) {
        const r = parse(sample.input, [a, b], sample.close);
        assert.equal(r.events, sample.events, `${sample.name}: cuts ${a}, ${b}`);
      }
    }
  }
});

test('body views are (array, offset, length) of the caller buffer: nothing is copied', () => {
  const buffer = bytes('xxHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloyy');
  const seen: [Uint8Array, number, number][] = [];
  const parser = new HttpResponseParser({
    onHead() {},
    onBody(b, offset, length) {
      seen.push([b, offset, length]);
    },
    onEnd() {},
  });
  parser.push(buffer, 2, buffer.length - 4);
  assert.is(seen.length, 1);
  assert.is(seen[0]![0], buffer);
  assert.is(seen[0]![1], buffer.length - 7);
  assert.is(seen[0]![2], 5);
});

test('a close-delimited body ends at end(); between responses end() is an orderly close', () => {
  const events: string[] = [];
  const parser = new HttpResponseParser({
    onHead: (s) => events.push(`head ${s}`),
    onBody: (_b, _o, n) => events.push(`body ${n}`),
    onEnd: () => events.push('end'),
  });
  assert.ok(!parser.pending);
  parser.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 0, 40);
  assert.ok(!parser.pending);
  parser.end();
  assert.equal(events, ['head 200', 'body 2', 'end']);
});

test('an empty push is a no-op; offsets outside the array are a RangeError, not bytes a TypeError; neither ends the parser', () => {
  const parser = new HttpResponseParser({ onHead() {}, onBody() {}, onEnd() {} });
  const b = bytes('HTTP/1.1');
  parser.push(b, 8, 0);
  assert.ok(thrownBy(() => parser.push(b, 4, 5)) instanceof RangeError);
  assert.throws(() => parser.push(b, 4, 5), /offset/);
  assert.throws(() => parser.push(b, -1, 1), /offset/);
  assert.throws(() => parser.push(b, 0.5, 1), /offset/);
  assert.ok(thrownBy(() => parser.push([1, 2] as unknown as Uint8Array, 0, 2)) instanceof TypeError);
  assert.ok(!parser.pending);
  parser.push(b, 0, 8);
  assert.ok(parser.pending);
});

function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

test('reset() makes a used parser ready for a new connection', () => {
  const events: string[] = [];
  const parser = new HttpResponseParser({ onHead: (s) => events.push(`head ${s}`), onBody() {}, onEnd: () => events.push('end') });
  const partial = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab');
  parser.push(partial, 0, partial.length);
  parser.reset();
  const full = bytes('HTTP/1.1 204 No Content\r\n\r\n');
  parser.push(full, 0, full.length);
  assert.equal(events, ['head 200', 'head 204', 'end']);
});

test.run();
