import { Backoff } from '../../../../firmware/core/net/Backoff.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('net: Backoff');

test('backoff doubles to the cap with equal jitter, and resets', () => {
  const lo = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assert.equal([lo.next(), lo.next(), lo.next(), lo.next(), lo.next(), lo.next()], [50, 100, 200, 400, 500, 500]);
  const hi = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
  assert.equal([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000]);
  hi.reset();
  assert.is(hi.next(), 100);
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 1, random: Math.random }), /initialMs/);
});

test.run();
