import { LatencyStats } from '../../../../firmware/core/kvs/LatencyStats.ts';
import { decodeUtf8, encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('kvs support: LatencyStats, decodeUtf8');

test('latency percentiles by nearest rank over a fixed ring', () => {
  const s = new LatencyStats(100);
  assert.ok(Number.isNaN(s.percentile(50)));
  for (let i = 1; i <= 100; i++) s.add(i);
  assert.is(s.percentile(50), 50);
  assert.is(s.percentile(99), 99);
  assert.is(s.percentile(100), 100);
  for (let i = 0; i < 100; i++) s.add(1000); // the ring keeps only the newest 100
  assert.is(s.percentile(50), 1000);
  assert.is(s.count, 200);
});

test('decodeUtf8 round-trips and replaces malformed sequences', () => {
  const text = 'ACK {"m":"é ✓ 𝄞"}';
  assert.is(decodeUtf8(encodeUtf8(text)), text);
  assert.is(decodeUtf8(new Uint8Array([0x61, 0xc3])), 'a\ufffd', 'truncated sequence');
  assert.is(decodeUtf8(new Uint8Array([0xc0, 0x80])), '\ufffd\ufffd', 'overlong');
  assert.is(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80])), '\ufffd\ufffd\ufffd', 'surrogate');
  assert.is(decodeUtf8(new Uint8Array([0x61, 0x62, 0x63]), 1, 1), 'b', 'range');
});

test.run();
