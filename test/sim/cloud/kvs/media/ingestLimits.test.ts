// What one PutMedia body may make the emulator hold (issue 11 item 12), and what it stores (item 15 b, c):
// every element KVS bounds is bounded here with KVS's ERROR (kvs-reference.md §4.5, §6.2-§6.4); the
// end-of-fragment tag is never stored; RELATIVE Cluster timecodes are stored absolute (§5.3).
import { EBML_IDS } from '../../../../../firmware/core/mkv/ebmlIds.ts';
import { ebmlUint } from '../../../../../host/shared/mkv/EbmlReader.ts';
import { INGEST_LIMITS } from '../../../../../sim/cloud/kvs/media/PutMediaIngest.ts';
import { assert, suite } from '../../../../harness/index.ts';
import { walk } from '../../../../firmware/core/mkv/ebmlWalk.ts';
import { sizeBytes } from '../../../../host/shared/mkv/EbmlReaderKit.ts';
import { block, cluster, concat, el, EOFR, harness, header, second, T0, tags, unknownEl } from './mediaKit.ts';

const test = suite('sim/cloud PutMedia ingest: bounds and what is stored');
const VOID = 0xec;
const MiB = 1024 * 1024;
const t1 = T0 + 1000;
const t2 = T0 + 2000;
const ok = (t: number) => [`BUFFERING:${t}`, `RECEIVED:${t}`, `PERSISTED:${t}`];

/** The header of an element of `size` bytes, its data to be streamed after it. */
function elementHead(id: number, size: number): Uint8Array {
  const idBytes =
    id > 0xffffff
      ? [id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]
      : id > 0xffff
        ? [id >>> 16, (id >>> 8) & 0xff, id & 0xff]
        : id > 0xff
          ? [id >>> 8, id & 0xff]
          : [id];
  return concat([Uint8Array.from(idBytes), sizeBytes(size)]);
}

/** Streams `total` zero bytes in 64 KiB pushes, recording the most the ingest held at any time. */
function stream(h: ReturnType<typeof harness>, total: number): number {
  const zeros = new Uint8Array(64 * 1024);
  let most = 0;
  for (let sent = 0; sent < total && h.ingest.open; sent += zeros.length) {
    h.ingest.push(zeros.subarray(0, Math.min(zeros.length, total - sent)));
    most = Math.max(most, h.ingest.heldBytes);
  }
  return most;
}

test('a level-1 Void of 64 MiB before the first Cluster: ERROR 4006 once the header passes 4 MiB; never more held', () => {
  const h = harness();
  h.ingest.push(header());
  h.ingest.push(elementHead(VOID, 64 * MiB));
  const most = stream(h, 64 * MiB);
  assert.equal(h.trace(), ['ERROR:4006']);
  assert.is(h.ingest.failed, true);
  assert.ok(most <= INGEST_LIMITS.headerBytes + 64 * 1024, `held ${most} bytes`);
  assert.is(h.ingest.heldBytes, 0, 'nothing held after the refusal');
});

test('a metadata Tags of 32 MiB (one huge TagString): nothing of it held past 64 KiB; its fragment ERROR 4009, the next PERSISTED', () => {
  const h = harness();
  h.ingest.push(concat([header(), second(T0)]));
  const big = 32 * MiB;
  // Tags ⊃ Tag ⊃ SimpleTag ⊃ (TagName "k", TagString of `big` bytes, streamed below)
  const name = el(EBML_IDS.TagName, [0x6b]);
  const valueHead = elementHead(EBML_IDS.TagString, big);
  const simpleSize = name.length + valueHead.length + big;
  const simpleHead = elementHead(EBML_IDS.SimpleTag, simpleSize);
  const tagSize = simpleHead.length + simpleSize;
  const tagHead = elementHead(EBML_IDS.Tag, tagSize);
  h.ingest.push(concat([elementHead(EBML_IDS.Tags, tagHead.length + tagSize), tagHead, simpleHead, name, valueHead]));
  const most = stream(h, big);
  h.ingest.push(concat([second(t1), second(t2)]));
  h.ingest.end();
  assert.ok(most <= INGEST_LIMITS.tagsBytes + 128 * 1024, `held ${most} bytes`);
  assert.equal(h.trace(), [...ok(T0), `BUFFERING:${t1}`, `ERROR:${t1}:4009`, ...ok(t2)]);
});

test('an unknown-size Tags with 200,000 SimpleTags: bounded; ERROR 4009 for its fragment, the next PERSISTED', () => {
  const h = harness();
  h.ingest.push(concat([header(), second(T0)]));
  const item = el(EBML_IDS.SimpleTag, el(EBML_IDS.TagName, [0x6b]), el(EBML_IDS.TagString, [0x76]));
  const many = new Uint8Array(item.length * 10_000);
  for (let i = 0; i < 10_000; i++) many.set(item, i * item.length);
  h.ingest.push(unknownEl(EBML_IDS.Tags, [unknownEl(EBML_IDS.Tag, [])]));
  let most = 0;
  for (let i = 0; i < 20; i++) {
    h.ingest.push(many);
    most = Math.max(most, h.ingest.heldBytes);
  }
  h.ingest.push(concat([second(t1), second(t2)]));
  h.ingest.end();
  assert.ok(most <= INGEST_LIMITS.tagsBytes + many.length, `held ${most} bytes`);
  assert.equal(h.trace(), [...ok(T0), `BUFFERING:${t1}`, `ERROR:${t1}:4009`, ...ok(t2)]);
});

test('metadata, then an end-of-fragment tag and a 16 MiB Void before the Cluster: neither held nor stored', () => {
  const h = harness();
  const meta = tags([['camera', 'porch']]);
  h.ingest.push(concat([header(), second(T0), meta, EOFR, elementHead(VOID, 16 * MiB)]));
  const most = stream(h, 16 * MiB);
  h.ingest.push(concat([second(t1), EOFR]));
  h.ingest.end();
  assert.ok(most <= 256 * 1024, `held ${most} bytes`);
  assert.equal(h.trace(), [...ok(T0), ...ok(t1)]);
  assert.equal(h.stored[1]!.bytes, concat([meta, second(t1)]), 'the metadata Tags and the Cluster, as sent');
  assert.equal(
    h.stored[1]!.tags.map((t) => [t.name, t.value]),
    [['camera', 'porch']],
  );
});

test('an end-of-fragment tag between the metadata and its Cluster (the order a producer may send) is not stored', () => {
  const h = harness();
  const meta = tags([['camera', 'porch']]);
  h.ingest.push(concat([header(), meta, EOFR, second(T0), EOFR]));
  h.ingest.end();
  assert.equal(h.trace(), ok(T0));
  assert.equal(h.stored[0]!.bytes, concat([meta, second(T0)]));
  assert.ok(!Buffer.from(h.stored[0]!.bytes).includes('AWS_KINESISVIDEO_END_OF_FRAGMENT'));
});

test('an end-of-fragment tag sharing a Tags element with metadata: the metadata is stored (re-encoded without it), the tag is not', () => {
  const h = harness();
  h.ingest.push(
    concat([
      header(),
      second(T0),
      tags([
        ['camera', 'porch'],
        ['AWS_KINESISVIDEO_END_OF_FRAGMENT', ''],
      ]),
      second(t1),
    ]),
  );
  h.ingest.end();
  assert.equal(h.trace(), [...ok(T0), ...ok(t1)]);
  assert.equal(
    h.stored[1]!.tags.map((t) => [t.name, t.value]),
    [['camera', 'porch']],
  );
  assert.equal(h.stored[1]!.bytes, concat([tags([['camera', 'porch']]), second(t1)]));
});

/** The Timecode of the stored Cluster. */
function storedTimecode(bytes: Uint8Array): number {
  const c = walk(bytes).find((n) => n.id === EBML_IDS.Cluster)!;
  const tc = c.children.find((n) => n.id === EBML_IDS.Timecode)!;
  return ebmlUint(bytes.subarray(tc.dataStart, tc.end));
}

test('RELATIVE timecodes, two sessions: the stored Clusters carry absolute timecodes (start + relative), never going backwards', () => {
  const sessions = [T0, T0 + 2000];
  const stored: number[] = [];
  const acked: number[] = [];
  for (const start of sessions) {
    const h = harness({ timecodeType: 'RELATIVE', producerStartMs: start });
    // One live Cluster with a 1-octet Timecode, one with a known size.
    const known = el(EBML_IDS.Cluster, el(EBML_IDS.Timecode, [0x03, 0xe8]), ...Array.from({ length: 10 }, (_, i) => block(1, i * 100)));
    h.ingest.push(concat([header(), second(0), known]));
    h.ingest.end();
    assert.equal(h.acks.filter((a) => a.EventType === 'PERSISTED').length, 2, h.trace().join(' '));
    for (const f of h.stored) {
      stored.push(storedTimecode(f.bytes));
      assert.is(f.timecode, storedTimecode(f.bytes), 'the record keeps the stored (absolute) timecode');
      const c = walk(f.bytes)[0]!;
      assert.is(c.end, f.bytes.length, 'the rewritten Cluster is well formed to its last byte');
      assert.is(c.children.filter((n) => n.id === EBML_IDS.SimpleBlock).length, f.blocks);
    }
    acked.push(...h.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentTimecode!));
  }
  assert.equal(stored, [T0, T0 + 1000, T0 + 2000, T0 + 3000]);
  assert.equal(acked, [0, 1000, 0, 1000], 'the ACKs keep the timecode as sent (§4.8 item 4)');
});

// ── KVS fragment limits (issue 11 item 14): min duration 1 s, at most 5 fragments per second (§6.2) ──

test('a fragment shorter than 1 s followed by another: ERROR 4002 (after RECEIVED); the last fragment of a body may be short', () => {
  const h = harness();
  const short = (t: number) => cluster(t, [block(1, 0), block(1, 100), block(1, 200)]); // 300 ms
  h.ingest.push(concat([header(), second(T0), short(t1), second(t1 + 300), short(t1 + 1300), EOFR]));
  h.ingest.end();
  assert.equal(h.trace(), [...ok(T0), `BUFFERING:${t1}`, `RECEIVED:${t1}`, `ERROR:${t1}:4002`, ...ok(t1 + 300), ...ok(t1 + 1300)]);
  assert.equal(
    h.stored.map((f) => f.durationMs),
    [1000, 1000, 300],
    'the short one at the end of the body is kept',
  );
});

test('frame durations are estimates: a fragment whose blocks span 900 ms is stored when the next one starts 1 s after it', () => {
  const h = harness();
  const nineTenths = cluster(
    t1,
    Array.from({ length: 9 }, (_, i) => block(1, i * 100)),
  ); // 900 ms by DefaultDuration
  h.ingest.push(concat([header(), second(T0), nineTenths, second(t2)]));
  h.ingest.end();
  assert.equal(h.trace(), [...ok(T0), `BUFFERING:${t1}`, `RECEIVED:${t1}`, `PERSISTED:${t1}`, ...ok(t2)]);
});

test('a short fragment on a connection that breaks is not stored (the producer replays it)', () => {
  const h = harness();
  h.ingest.push(concat([header(), second(T0), cluster(t1, [block(1, 0)]), EOFR]));
  h.ingest.abort();
  assert.equal(h.trace(), [...ok(T0), `BUFFERING:${t1}`, `RECEIVED:${t1}`]);
  assert.is(h.stored.length, 1);
});

test('more than 5 fragments starting within one second of producer time: ERROR 4002 from the 6th', () => {
  const h = harness();
  const starts = [0, 100, 200, 300, 400, 500, 1100].map((d) => T0 + d);
  h.ingest.push(concat([header(), ...starts.map((t) => second(t))]));
  h.ingest.end();
  const t6 = starts[5]!;
  assert.equal(h.trace(), [...starts.slice(0, 5).flatMap(ok), `BUFFERING:${t6}`, `ERROR:${t6}:4002`, ...ok(starts[6]!)]);
});

test.run();
