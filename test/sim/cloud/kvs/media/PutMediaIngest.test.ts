import { FragmentMetadata } from '../../../../../firmware/core/mkv/FragmentMetadata.ts';
import { EBML_IDS } from '../../../../../firmware/core/mkv/ebmlIds.ts';
import { PutMediaIngest } from '../../../../../sim/cloud/kvs/media/PutMediaIngest.ts';
import { assert, suite } from '../../../../harness/index.ts';
import { walk } from '../../../../firmware/core/mkv/ebmlWalk.ts';
import { block, cluster, concat, el, EOFR, harness, header, muxFixture, prng, randomSplit, second, T0, tags, tracks } from './mediaKit.ts';

const test = suite('sim/cloud PutMediaIngest');

// An epoch start with odd milliseconds: timecode × TimecodeScale (ns) passes 2^53, so ms must stay exact.
const START = T0 + 4_123;
const BODY = muxFixture({ startTimecode: START });
const TIMECODES = Array.from({ length: 10 }, (_, i) => START + i * 1000);

function feed(h: ReturnType<typeof harness>, chunks: readonly Uint8Array[], end = true): void {
  for (const c of chunks) h.ingest.push(c);
  if (end) h.ingest.end();
}

test('the fixture muxed by the firmware, in random splits: 10 fragments, BUFFERING→RECEIVED→PERSISTED each, numbers increasing', () => {
  const random = prng(11);
  for (let run = 0; run < 12; run++) {
    const h = harness();
    feed(h, randomSplit(BODY, random, run === 0 ? 1 : 1 + Math.floor(random() * 20_000)));
    const expected = TIMECODES.flatMap((t) => [`BUFFERING:${t}`, `RECEIVED:${t}`, `PERSISTED:${t}`]);
    assert.equal(h.trace(), expected, `run ${run}`);
    assert.is(h.stored.length, 10);
    const numbers = h.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => BigInt(a.FragmentNumber!));
    for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i]! > numbers[i - 1]!, 'FragmentNumbers strictly increase');
    for (const f of h.acks) assert.ok(f.FragmentNumber === undefined || /^\d+$/.test(f.FragmentNumber), 'decimal FragmentNumber');
    // Every ACK of a fragment carries the same number.
    for (let i = 0; i < 10; i++) {
      assert.ok(h.acks.slice(3 * i, 3 * i + 3).every((a) => a.FragmentNumber === h.stored[i]!.number));
    }
  }
});

test('stored fragments: header + fragments reproduce the body byte for byte; timestamps, durations, frame counts', () => {
  const h = harness();
  feed(h, randomSplit(BODY, prng(3), 5000));
  const header = h.stored[0]!.header;
  assert.ok(
    h.stored.every((f) => f.header === header),
    'one header object per connection',
  );
  assert.equal(concat([header, ...h.stored.map((f) => f.bytes)]), BODY);
  const top = walk(concat([header, ...h.stored.map((f) => f.bytes)]));
  assert.equal(
    top.map((n) => n.id),
    [EBML_IDS.EBML, EBML_IDS.Segment],
  );
  h.stored.forEach((f, i) => {
    assert.is(f.timecode, TIMECODES[i]);
    assert.is(f.producerTimestampMs, TIMECODES[i], 'ABSOLUTE: the Cluster timecode in ms');
    assert.is(f.serverTimestampMs, T0 + 5_000, 'server timestamp: the harness clock when the first byte arrived');
    assert.is(f.durationMs, 1000, '10 frames of DefaultDuration 100 ms');
    assert.is(f.blocks, 10);
  });
});

test('end-of-fragment tags: RECEIVED as soon as the tag arrives (before the next Cluster); metadata stored with its Cluster, EoFr not', () => {
  const metadata = new FragmentMetadata();
  metadata.put('camera', 'porch');
  const body = muxFixture({ startTimecode: START, endOfFragment: true, metadata });
  const h = harness();
  const find = (id: readonly number[]) => {
    const at: number[] = [];
    for (let i = 0; i + 4 <= body.length; i++) if (id.every((b, k) => body[i + k] === b)) at.push(i);
    return at;
  };
  const clusters = find([0x1f, 0x43, 0xb6, 0x75]);
  const tagsAt = find([0x12, 0x54, 0xc3, 0x67]);
  assert.is(clusters.length, 10);
  assert.is(tagsAt.length, 20, 'metadata Tags before and end-of-fragment Tags after each Cluster');
  // Up to the second fragment's metadata: the first is complete thanks to its end-of-fragment tag.
  h.ingest.push(body.slice(0, tagsAt[2]!));
  assert.equal(h.trace(), [`BUFFERING:${START}`, `RECEIVED:${START}`, `PERSISTED:${START}`]);
  h.ingest.push(body.slice(tagsAt[2]!, clusters[1]! + 30));
  assert.is(h.acks.length, 4, 'BUFFERING of the second fragment once its Timecode is in');
  h.ingest.push(body.slice(clusters[1]! + 30));
  h.ingest.end();
  assert.is(h.stored.length, 10);
  for (const f of h.stored) {
    assert.equal(
      f.tags.map((t) => [t.name, t.value]),
      [['camera', 'porch']],
    );
    const nodes = walk(concat([f.header, f.bytes]))[1]!.children;
    assert.equal(nodes.map((n) => n.id).slice(2), [EBML_IDS.Tags, EBML_IDS.Cluster], 'the metadata Tags, then the Cluster; no EoFr');
  }
});

test('retention 0: BUFFERING and RECEIVED only', () => {
  const h = harness({ retention: false });
  feed(h, [BODY]);
  assert.equal(
    h.trace(),
    TIMECODES.flatMap((t) => [`BUFFERING:${t}`, `RECEIVED:${t}`]),
  );
});

test('RELATIVE timecodes: producer timestamp = x-amzn-producer-start-timestamp + timecode; the ACK keeps the timecode as sent', () => {
  const h = harness({ timecodeType: 'RELATIVE', producerStartMs: T0 });
  feed(h, [header(), second(0), second(1000), EOFR]);
  assert.equal(h.trace(), ['BUFFERING:0', 'RECEIVED:0', 'PERSISTED:0', 'BUFFERING:1000', 'RECEIVED:1000', 'PERSISTED:1000']);
  assert.equal(
    h.stored.map((f) => f.producerTimestampMs),
    [T0, T0 + 1000],
  );
});

test('TimecodeScale other than 1 ms: producer timestamps and durations in ms', () => {
  const h = harness({ timecodeType: 'RELATIVE', producerStartMs: T0 });
  // 100 µs units: blocks every 1000 units = 100 ms.
  const c = cluster(
    20_000,
    Array.from({ length: 5 }, (_, i) => block(1, i * 1000)),
  );
  feed(h, [header({ timecodeScale: 100_000, defaultDurationNs: 100_000_000 }), c]);
  assert.is(h.stored[0]!.producerTimestampMs, T0 + 2000);
  assert.is(h.stored[0]!.durationMs, 500);
});

// ── ERROR rules: each triggered by a crafted stream, then the next fragment goes through ──

interface Rule {
  readonly name: string;
  readonly errorId: number;
  readonly body: () => Uint8Array[];
  readonly options?: Parameters<typeof harness>[0];
  /** The trace expected, with the ERROR. */
  readonly trace: string[];
}

const t1 = T0 + 1000;
const t2 = T0 + 2000;
const ok = (t: number) => [`BUFFERING:${t}`, `RECEIVED:${t}`, `PERSISTED:${t}`];

const RULES: readonly Rule[] = [
  {
    name: '4001 fragment larger than the maximum size',
    errorId: 4001,
    options: { maxFragmentBytes: 4000 },
    body: () => [
      header(),
      cluster(
        t1,
        Array.from({ length: 10 }, (_, i) => block(1, i * 100, 500)),
      ),
      second(t2),
    ],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4001`, ...ok(t2)],
  },
  {
    name: '4002 fragment longer than config.maxFragmentMs',
    errorId: 4002,
    options: { maxFragmentMs: 900 },
    body: () => [header(), second(t1), cluster(t2, [block(1, 0), block(1, 500)])],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4002`, ...ok(t2)],
  },
  {
    name: '4004 cluster timecode not increasing',
    errorId: 4004,
    body: () => [header(), second(t1), second(t1), second(t2)],
    trace: [...ok(t1), `BUFFERING:${t1}`, `ERROR:${t1}:4004`, ...ok(t2)],
  },
  {
    name: '4006 a block before the Cluster Timecode (fragment-level)',
    errorId: 4006,
    body: () => [header(), concat([Uint8Array.of(0x1f, 0x43, 0xb6, 0x75, 0xff), block(1, 0), el(EBML_IDS.Timecode, [1])]), second(t2)],
    trace: ['BUFFERING', 'ERROR:4006', ...ok(t2)],
  },
  {
    name: '4007 producer timestamp beyond now + maxFutureMs',
    errorId: 4007,
    options: { maxFutureMs: 10_000 },
    body: () => [header(), second(T0 + 60_000), second(T0 + 61_000)],
    trace: [`BUFFERING:${T0 + 60_000}`, `ERROR:${T0 + 60_000}:4007`, `BUFFERING:${T0 + 61_000}`, `ERROR:${T0 + 61_000}:4007`],
  },
  {
    name: '4009 more than 10 metadata items',
    errorId: 4009,
    body: () => [header(), tags(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'] as const)), second(t1), second(t2)],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4009`, ...ok(t2)],
  },
  {
    name: '4009 a metadata name over 128 bytes',
    errorId: 4009,
    body: () => [header(), tags([['n'.repeat(129), 'v']]), second(t1), second(t2)],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4009`, ...ok(t2)],
  },
  {
    name: '4009 a metadata value over 256 bytes',
    errorId: 4009,
    body: () => [header(), tags([['name', 'v'.repeat(257)]]), second(t1), second(t2)],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4009`, ...ok(t2)],
  },
  {
    name: '4009 a reserved AWS name',
    errorId: 4009,
    body: () => [header(), tags([['AWS_SOMETHING', 'v']]), second(t1), second(t2)],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4009`, ...ok(t2)],
  },
  {
    name: '4010 a block for a track the header does not declare',
    errorId: 4010,
    body: () => [header(), second(t1, 2), second(t2)],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4010`, ...ok(t2)],
  },
  {
    name: '4011 a declared track without frames',
    errorId: 4011,
    body: () => [header({ tracks: [1, 2] }), second(t1), cluster(t2, [...Array.from({ length: 10 }, (_, i) => block(1, i * 100)), block(2, 0)])],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4011`, ...ok(t2)],
  },
  {
    name: '4012 more than 3 tracks (every fragment)',
    errorId: 4012,
    body: () => [header({ tracks: [1, 2, 3, 4] }), second(t1), second(t2)],
    trace: [`BUFFERING:${t1}`, `ERROR:${t1}:4012`, `BUFFERING:${t2}`, `ERROR:${t2}:4012`],
  },
];

for (const rule of RULES) {
  test(`ERROR ${rule.name}`, () => {
    const h = harness(rule.options);
    feed(h, rule.body());
    assert.equal(h.trace(), rule.trace);
    const error = h.acks.find((a) => a.EventType === 'ERROR')!;
    assert.is(error.ErrorId, rule.errorId);
    assert.ok(/^\d+$/.test(error.FragmentNumber!), 'the ERROR names its fragment');
    assert.is(h.ingest.failed, false, 'a fragment error is not fatal');
    assert.is(h.stored.length, rule.trace.filter((t) => t.startsWith('PERSISTED')).length, 'errored fragments are not stored');
  });
}

const FATAL: readonly { name: string; body: () => Uint8Array[]; trace: string[] }[] = [
  { name: 'bytes that are not EBML', body: () => [Uint8Array.of(0x00, 0x01, 0x02)], trace: ['ERROR:4006'] },
  { name: 'a DocType other than matroska/webm', body: () => [concat([el(EBML_IDS.EBML, el(EBML_IDS.DocType, [0x61]))])], trace: ['ERROR:4006'] },
  {
    name: 'a second Segment',
    body: () => [header(), second(t1), Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0xff), second(t2)],
    trace: [...ok(t1), 'ERROR:4006'],
  },
  { name: 'Tracks after the first fragment', body: () => [header(), second(t1), tracks(), second(t2)], trace: [...ok(t1), 'ERROR:4006'] },
  {
    name: 'an EBML error inside a fragment',
    body: () => [header(), second(t1), cluster(t2, [block(1, 0)]), Uint8Array.of(0x00, 0x00)],
    trace: [...ok(t1), `BUFFERING:${t2}`, `ERROR:${t2}:4006`],
  },
];

for (const f of FATAL) {
  test(`ERROR 4006, unparseable: ${f.name} ends the ingest`, () => {
    const h = harness();
    feed(h, f.body());
    assert.equal(h.trace(), f.trace);
    assert.is(h.ingest.failed, true);
    assert.is(h.ingest.open, false);
    h.ingest.push(second(T0 + 9000));
    assert.equal(h.trace(), f.trace, 'nothing after a fatal error');
  });
}

test('faults: injected 5000 replaces RECEIVED; injected 5001 follows RECEIVED; a failing store answers 5001', () => {
  const queue = [5000, 5001, undefined];
  const h = harness({ injectError: () => queue.shift() });
  feed(h, [header(), second(T0), second(t1), second(t2)]);
  assert.equal(h.trace(), [`BUFFERING:${T0}`, `ERROR:${T0}:5000`, `BUFFERING:${t1}`, `RECEIVED:${t1}`, `ERROR:${t1}:5001`, ...ok(t2)]);
  const failing = harness({
    persist: () => {
      throw new Error('disk full');
    },
  });
  feed(failing, [header(), second(T0)]);
  assert.equal(failing.trace(), [`BUFFERING:${T0}`, `RECEIVED:${T0}`, `ERROR:${T0}:5001`]);
});

test('abort mid-fragment: only complete fragments were stored, the open one is not acknowledged further', () => {
  const h = harness();
  const cut = BODY.length - 3000; // inside the last fragment
  h.ingest.push(BODY.slice(0, cut));
  h.ingest.abort();
  h.ingest.end();
  assert.is(h.stored.length, 9);
  assert.equal(h.trace().slice(-1), [`BUFFERING:${TIMECODES[9]}`]);
});

test('end of body inside a block: the cut fragment is ERROR 4006, the rest stored', () => {
  const h = harness();
  feed(h, [BODY.slice(0, BODY.length - 10)]);
  assert.is(h.stored.length, 9);
  assert.equal(h.trace().slice(-2), [`BUFFERING:${TIMECODES[9]}`, `ERROR:${TIMECODES[9]}:4006`]);
});

test('clock: IDLE every idleAckMs without bytes, close idleCloseMs after the last byte; nextTickAt says when', () => {
  const h = harness({ idleAckMs: 1000, idleCloseMs: 3500 });
  const start = h.clock;
  assert.is(h.ingest.nextTickAt(), start + 1000);
  h.clock = start + 999;
  assert.is(h.ingest.tick(), false);
  assert.equal(h.trace(), []);
  h.clock = start + 1000;
  assert.is(h.ingest.tick(), false);
  assert.equal(h.trace(), ['IDLE']);
  h.clock = start + 1500;
  h.ingest.push(header());
  assert.is(h.ingest.nextTickAt(), start + 2500, 'bytes push the next IDLE back');
  for (const t of [2500, 3500, 4500]) {
    h.clock = start + t;
    assert.is(h.ingest.tick(), false);
  }
  assert.equal(h.trace(), ['IDLE', 'IDLE', 'IDLE', 'IDLE']);
  h.clock = start + 5000;
  assert.is(h.ingest.tick(), true, 'idle close 3500 ms after the last byte');
  assert.is(h.ingest.open, false);
});

test('clock: ERROR 4003 at the connection-duration limit, naming the open fragment', () => {
  const h = harness({ maxConnectionMs: 10_000 });
  h.ingest.push(concat([header(), second(T0), Uint8Array.of(0x1f, 0x43, 0xb6, 0x75, 0xff), el(EBML_IDS.Timecode, [0, 0, 1, 0x8b, 0xcf, 0xe5, 0x6b, 0xe8])]));
  h.clock += 10_000;
  assert.is(h.ingest.tick(), true);
  assert.equal(h.trace(), [...ok(T0), `BUFFERING:${T0 + 1000}`, `ERROR:${T0 + 1000}:4003`]);
  assert.is(h.stored.length, 1);
});

test('options: RELATIVE needs producerStartMs; timecodeType is checked', () => {
  const base = {
    now: () => 0,
    maxFragmentMs: 1,
    maxFutureMs: 1,
    idleAckMs: 1,
    idleCloseMs: 1,
    maxConnectionMs: 1,
    nextFragmentNumber: () => '1',
    onAck: () => {},
  };
  assert.throws(() => new PutMediaIngest({ ...base, timecodeType: 'RELATIVE' }), /producerStartMs/);
  assert.throws(() => new PutMediaIngest({ ...base, timecodeType: 'LOCAL' as 'ABSOLUTE' }), /timecodeType/);
});

test.run();
