import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareNumbers, FragmentStore } from '../../../../../sim/cloud/kvs/media/FragmentStore.ts';
import { assert, suite } from '../../../../harness/index.ts';
import { concat, harness, header, muxFixture, second, T0 } from './mediaKit.ts';

const test = suite('sim/cloud FragmentStore');
const root = mkdtempSync(join(tmpdir(), 'fieldcam-store-'));
let n = 0;
const freshDir = () => join(root, `stream-${++n}`);

test.after(() => rmSync(root, { recursive: true, force: true }));

const BODY = muxFixture({ startTimecode: T0 });

/** Ingests `body` into a store through the real ingest, as the PutMedia route does. */
async function ingestInto(store: FragmentStore, body: Uint8Array, clock = T0 + 5000): Promise<void> {
  const h = harness({ persist: (f) => store.append(f).then(() => undefined), nextFragmentNumber: () => store.nextFragmentNumber(clock) });
  h.clock = clock;
  h.ingest.push(body);
  h.ingest.end();
  await h.ingest.settled();
}

test('stores 10 fragments; header once; a reopened store lists the same; header + fragments is the body, playable by ffprobe', async () => {
  const dir = freshDir();
  const store = new FragmentStore(dir);
  await ingestInto(store, BODY);
  assert.is(store.list().length, 10);
  assert.is(readdirSync(join(dir, 'media', 'headers')).length, 1, 'one header file for one connection');
  assert.is(readdirSync(join(dir, 'media', 'fragments')).length, 10);

  const again = new FragmentStore(dir);
  assert.equal(again.list(), store.list());
  assert.is(again.damagedLines, 0);
  const records = again.list();
  assert.equal(
    records.map((r) => r.producerTimestampMs),
    Array.from({ length: 10 }, (_, i) => T0 + i * 1000),
  );
  assert.ok(records.every((r) => r.durationMs === 1000 && r.serverTimestampMs === T0 + 5000));
  const rebuilt = concat([again.readHeader(records[0]!.header), ...records.map((r) => again.readFragment(r))]);
  assert.equal(rebuilt, BODY);

  const file = join(root, 'rebuilt.mkv');
  writeFileSync(file, rebuilt);
  const probe = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  assert.is(probe.stdout.trim(), '100');
  assert.is(probe.stderr, '');
});

test('a torn last index line is cut on open; later appends and reopens see every complete record', async () => {
  const dir = freshDir();
  const store = new FragmentStore(dir);
  await ingestInto(store, BODY.subarray(0, BODY.length));
  const index = join(dir, 'media', 'index.jsonl');
  const good = readFileSync(index, 'utf8');
  appendFileSync(index, '{"fragmentNumber":"9134385233300000017000000050000');
  const reopened = new FragmentStore(dir);
  assert.is(reopened.list().length, 10);
  assert.is(reopened.damagedLines, 1);
  assert.is(readFileSync(index, 'utf8'), good, 'the torn tail is gone');
  await ingestInto(reopened, concat([header(), second(T0 + 20_000)]), T0 + 30_000);
  const third = new FragmentStore(dir);
  assert.is(third.list().length, 11);
  assert.is(third.damagedLines, 0);
  assert.is(readdirSync(join(dir, 'media', 'headers')).length, 2, 'a second, different header');
});

test('an index line whose fragment file is missing is skipped', async () => {
  const dir = freshDir();
  const store = new FragmentStore(dir);
  await ingestInto(store, BODY);
  unlinkSync(join(dir, 'media', 'fragments', `${store.list()[4]!.fragmentNumber}.mkv`));
  const reopened = new FragmentStore(dir);
  assert.is(reopened.list().length, 9);
  assert.is(reopened.damagedLines, 1);
  assert.is(reopened.get(store.list()[4]!.fragmentNumber), undefined);
});

test('FragmentNumbers: fixed-length decimals, strictly increasing even when the clock steps back and across reopen', async () => {
  const dir = freshDir();
  const store = new FragmentStore(dir);
  const a = store.nextFragmentNumber(T0);
  const b = store.nextFragmentNumber(T0 - 60_000);
  const c = store.nextFragmentNumber(T0 + 1);
  assert.ok(/^\d{47}$/.test(a), a);
  assert.ok(compareNumbers(a, b) < 0 && compareNumbers(b, c) < 0);
  assert.ok(BigInt(a) < BigInt(b) && BigInt(b) < BigInt(c));
  await ingestInto(store, BODY, T0 + 10);
  const last = store.list().at(-1)!.fragmentNumber;
  const reopened = new FragmentStore(dir);
  assert.ok(compareNumbers(reopened.nextFragmentNumber(0), last) > 0, 'after a restart with the clock reset');
});

test('a fragment stored after a higher-numbered one (two connections during a hand-over) is listed in number order', async () => {
  const store = new FragmentStore(freshDir());
  const a = store.nextFragmentNumber(T0);
  const b = store.nextFragmentNumber(T0);
  const fragment = (number: string, timecode: number) => ({
    number,
    timecode,
    producerTimestampMs: timecode,
    serverTimestampMs: T0,
    durationMs: 1000,
    header: header(),
    bytes: second(timecode),
    tags: [],
  });
  await store.append(fragment(b, T0 + 1000));
  await store.append(fragment(a, T0));
  assert.equal(
    store.list().map((r) => r.fragmentNumber),
    [a, b],
  );
  await assert.rejects(() => store.append(fragment(a, T0)), /already stored/);
});

test.run();
