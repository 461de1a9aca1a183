// Issue 11 item 11: real device output (the firmware Muxer with end-of-fragment tags and fragment metadata)
// ingested at EVERY split point of two reads, and byte by byte. A read boundary inside the ID of the
// Cluster that follows an end-of-fragment tag used to let the byte window drop bytes the next fragment
// still needed (ERROR 5001 "outside the held range").
import { join } from 'node:path';
import { FragmentMetadata } from '../../../../../firmware/core/mkv/FragmentMetadata.ts';
import { EBML_IDS } from '../../../../../firmware/core/mkv/ebmlIds.ts';
import { assert, suite } from '../../../../harness/index.ts';
import { walk } from '../../../../firmware/core/mkv/ebmlWalk.ts';
import { harness, muxFixture, ROOT } from './mediaKit.ts';

const test = suite('sim/cloud PutMedia ingest at every split point');

const metadata = new FragmentMetadata();
metadata.put('camera', 'porch');
// 25 kB, 3 fragments of 1 s: small enough to try every split point.
const BODY = muxFixture({ endOfFragment: true, metadata, file: join(ROOT, 'test', 'fixtures', 'h264-aud-sei-3byte.h264') });
const LEVEL1 = walk(BODY)[1]!.children;
const CLUSTERS = LEVEL1.filter((n) => n.id === EBML_IDS.Cluster);
/** What each fragment must be stored as: its metadata Tags and its Cluster, exactly as sent; the EoFr tag not. */
const EXPECTED = CLUSTERS.map((c) => {
  const i = LEVEL1.indexOf(c);
  const tagsBefore = LEVEL1[i - 1]!;
  assert.is(tagsBefore.id, EBML_IDS.Tags);
  assert.is(LEVEL1[i + 1]?.id, EBML_IDS.Tags, 'an end-of-fragment tag after every Cluster');
  return BODY.slice(tagsBefore.start, c.end);
});

function ingest(chunks: Iterable<Uint8Array>): ReturnType<typeof harness> {
  const h = harness();
  for (const c of chunks) h.ingest.push(c);
  h.ingest.end();
  return h;
}

function check(h: ReturnType<typeof harness>, label: string): void {
  const types = h.acks.map((a) => a.EventType);
  if (types.includes('ERROR') || h.stored.length !== EXPECTED.length) {
    assert.ok(false, `${label}: ${h.trace().join(' ')}`);
  }
  for (let i = 0; i < EXPECTED.length; i++) {
    if (Buffer.compare(h.stored[i]!.bytes, EXPECTED[i]!) !== 0) assert.ok(false, `${label}: fragment ${i} stored other bytes than were sent`);
  }
}

test('the body has end-of-fragment tags between its Clusters', () => {
  assert.is(CLUSTERS.length, 3);
  check(ingest([BODY]), 'one read');
});

test('every split point of two reads: every fragment PERSISTED, stored bytes equal what was sent', () => {
  for (let at = 1; at < BODY.length; at++) check(ingest([BODY.subarray(0, at), BODY.subarray(at)]), `split at ${at}`);
});

test('byte by byte: every fragment PERSISTED, stored bytes equal what was sent', () => {
  function* bytes(): Generator<Uint8Array> {
    for (let at = 0; at < BODY.length; at++) yield BODY.subarray(at, at + 1);
  }
  check(ingest(bytes()), 'byte by byte');
});

test.run();
