// The KVS rules the writer enforces before any byte is emitted (kvs-reference.md §5.3, §6): each refusal
// throws its code and leaves both the writer and the view list as they were, so the next valid call works.
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import type { MkvWriter } from '../../../../firmware/core/mkv/MkvWriter.ts';
import { assert, suite } from '../../../harness/index.ts';
import { makeFrame, mjpegTrack, openFragment, writer } from './support.ts';

const test = suite('MkvWriter rules');

/** Runs `fn`, expecting `code`, and checks that neither `out` nor the writer's fragment state moved. */
function refused(w: MkvWriter, out: ViewList, code: string, fn: () => void): void {
  const count = out.count;
  const bytes = out.byteLength;
  const state = [w.inFragment, w.fragmentTimecode, w.fragmentBytes, w.fragmentBlocks];
  assert.throws(fn, code);
  assert.is(out.count, count, `${code}: view count unchanged`);
  assert.is(out.byteLength, bytes, `${code}: byte count unchanged`);
  assert.equal([w.inFragment, w.fragmentTimecode, w.fragmentBytes, w.fragmentBlocks], state, `${code}: state unchanged`);
}

test('call order: startFragment before header, block and endFragment outside a fragment', () => {
  const w = writer();
  const out = new ViewList(8);
  refused(w, out, 'MKV_CALL_ORDER', () => w.startFragment(0, out));
  w.header(out);
  refused(w, out, 'MKV_CALL_ORDER', () => w.block(makeFrame({ pts: 0, key: true }), out));
  refused(w, out, 'MKV_CALL_ORDER', () => w.endFragment(out));
  w.startFragment(0, out);
  w.endFragment(out);
  refused(w, out, 'MKV_CALL_ORDER', () => w.block(makeFrame({ pts: 0, key: true }), out));
  refused(w, out, 'MKV_CALL_ORDER', () => w.endFragment(out));
});

test('a fragment must start on a key frame with PTS == DTS, at or after the cluster timecode', () => {
  const { w, out } = openFragment(1000);
  refused(w, out, 'MKV_FRAGMENT_START_NOT_KEY', () => w.block(makeFrame({ pts: 1000 }), out));
  refused(w, out, 'MKV_FRAGMENT_START_PTS_DTS', () => w.block(makeFrame({ pts: 1040, dts: 1000, key: true }), out));
  refused(w, out, 'MKV_BLOCK_TIMECODE_RANGE', () => w.block(makeFrame({ pts: 999, key: true }), out));
  w.block(makeFrame({ pts: 1000, key: true }), out); // still usable
  assert.is(w.fragmentBlocks, 1);
  w.block(makeFrame({ pts: 1100 }), out); // later frames need not be key frames
});

test('relative block timecodes must fit int16 (0-32767)', () => {
  const { w, out } = openFragment(0, { maxFragmentMs: 20_000 });
  w.block(makeFrame({ pts: 0, key: true }), out);
  refused(w, out, 'MKV_BLOCK_TIMECODE_RANGE', () => w.block(makeFrame({ pts: 32_768, duration: 0 }), out));
  w.block(makeFrame({ pts: 19_000 }), out);
});

test('DTS(n) >= DTS(n-1) + duration(n-1), within and across fragments', () => {
  const { w, out } = openFragment(0);
  w.block(makeFrame({ pts: 0, key: true, duration: 100 }), out);
  refused(w, out, 'MKV_FRAME_NOT_MONOTONIC', () => w.block(makeFrame({ pts: 99 }), out));
  refused(w, out, 'MKV_FRAME_NOT_MONOTONIC', () => w.block(makeFrame({ pts: 200, dts: 50 }), out));
  w.block(makeFrame({ pts: 100, duration: 100 }), out);
  // The next fragment may not start inside the last frame (fragments must not overlap).
  refused(w, out, 'MKV_FRAGMENT_NOT_MONOTONIC', () => w.startFragment(150, out));
  w.startFragment(200, out);
  w.block(makeFrame({ pts: 200, key: true, duration: 50 }), out);
  refused(w, out, 'MKV_FRAME_NOT_MONOTONIC', () => w.block(makeFrame({ pts: 240 }), out));
});

test('fragment timecodes strictly increase within a segment; header() starts a new one', () => {
  const { w, out } = openFragment(5000);
  w.block(makeFrame({ pts: 5000, key: true, duration: 0 }), out);
  refused(w, out, 'MKV_FRAGMENT_NOT_MONOTONIC', () => w.startFragment(5000, out));
  refused(w, out, 'MKV_FRAGMENT_NOT_MONOTONIC', () => w.startFragment(4000, out));
  w.startFragment(5001, out);
  // A new PutMedia connection replays older fragments with their original timecodes.
  w.header(out);
  w.startFragment(3000, out);
  w.block(makeFrame({ pts: 3000, key: true }), out);
});

test('fragment duration is limited (MKV_FRAGMENT_TOO_LONG names the length found and the limit)', () => {
  const { w, out } = openFragment(0, { maxFragmentMs: 1000 });
  w.block(makeFrame({ pts: 0, key: true }), out);
  for (let pts = 100; pts < 1000; pts += 100) w.block(makeFrame({ pts }), out); // ends exactly at 1000
  assert.throws(() => w.block(makeFrame({ pts: 1000 }), out), /would last 1100 ms.*limit is 1000 ms/);
  refused(w, out, 'MKV_FRAGMENT_TOO_LONG', () => w.block(makeFrame({ pts: 1000 }), out));
  w.startFragment(1000, out);
  w.block(makeFrame({ pts: 1000, key: true }), out);
  // The default is the strictest documented KVS limit, 10 s.
  const d = openFragment(0);
  d.w.block(makeFrame({ pts: 0, key: true }), d.out);
  refused(d.w, d.out, 'MKV_FRAGMENT_TOO_LONG', () => d.w.block(makeFrame({ pts: 9950 }), d.out));
});

test('fragment size is limited (MKV_FRAGMENT_TOO_LARGE) and a refused frame leaves no reference in the list', () => {
  const { w, out } = openFragment(0, { maxFragmentBytes: 200 });
  assert.is(w.fragmentBytes, 15);
  w.block(makeFrame({ pts: 0, key: true, payload: new Uint8Array(100) }), out); // 15 + 109 = 124
  const big = makeFrame({ pts: 100, payload: new Uint8Array(80) }, 40); // +89 = 213 > 200
  refused(w, out, 'MKV_FRAGMENT_TOO_LARGE', () => w.block(big, out));
  for (let i = out.count; i < out.sources.length; i++) {
    assert.not(out.sources[i], big.slotA!.bytes);
    assert.not(out.sources[i], big.slotB!.bytes);
  }
  w.block(makeFrame({ pts: 100, payload: new Uint8Array(67) }), out); // exactly 200
  assert.is(w.fragmentBytes, 200);
});

test('a full view list is refused whole (MKV_VIEW_LIST_FULL) and the writer stays usable', () => {
  const { w } = openFragment(0);
  const small = new ViewList(3);
  small.push(new Uint8Array(4), 0, 4);
  const split = makeFrame({ pts: 0, key: true }, 4); // header + 2 payload ranges: 3 views, 2 left
  refused(w, small, 'MKV_VIEW_LIST_FULL', () => w.block(split, small));
  assert.is(small.count, 1);
  small.clear();
  w.block(split, small);
  assert.is(small.count, 3);
  assert.is(w.fragmentBlocks, 1);
});

test('track and option validation', () => {
  const bad = (track: object, code: string | RegExp) => assert.throws(() => writer({ track: { ...mjpegTrack(), ...track } }), code);
  bad({ codecId: 'V_' + 'X'.repeat(31) }, 'MKV_CODEC_ID_INVALID');
  bad({ codecId: '' }, 'MKV_CODEC_ID_INVALID');
  bad({ codecId: 'V_MJPÉG' }, 'MKV_CODEC_ID_INVALID');
  writer({ track: { ...mjpegTrack(), codecId: 'V_' + 'X'.repeat(30) } });
  bad({ name: 'é'.repeat(17) }, 'MKV_TRACK_NAME_INVALID'); // 34 bytes
  bad({ name: '' }, 'MKV_TRACK_NAME_INVALID');
  writer({ track: { ...mjpegTrack(), name: 'é'.repeat(16) } });
  bad({ codecId: 'V_MPEG4/ISO/AVC' }, 'MKV_CODEC_PRIVATE_INVALID');
  bad({ codecId: 'V_MPEG4/ISO/AVC', codecPrivate: new Uint8Array(0) }, 'MKV_CODEC_PRIVATE_INVALID');
  bad({ codecPrivate: new Uint8Array(1024 * 1024 + 1) }, 'MKV_CODEC_PRIVATE_INVALID');
  writer({ track: { ...mjpegTrack(), codecId: 'V_MPEG4/ISO/AVC', codecPrivate: new Uint8Array(1024 * 1024) } });
  bad({ width: 0 }, /track\.width/);
  bad({ height: 1.5 }, /track\.height/);
  bad({ defaultDurationNs: -1 }, /track\.defaultDurationNs/);
  bad({ pushPayload: undefined }, /track\.pushPayload/);
  bad({ codecId: 7 }, /track\.codecId/);
  assert.throws(() => writer({ segmentUid: new Uint8Array(15) }), /segmentUid/);
  assert.throws(() => writer({ segmentUid: new Uint8Array(16) }), /segmentUid/);
  assert.throws(() => writer({ maxFragmentMs: 20_001 }), /maxFragmentMs/);
  assert.throws(() => writer({ maxFragmentMs: 0 }), /maxFragmentMs/);
  assert.throws(() => writer({ maxFragmentBytes: 50_000_001 }), /maxFragmentBytes/);
  assert.throws(() => writer({ writingApp: '' }), /writingApp/);
});

test('times must be non-negative integers (RangeError naming the field)', () => {
  const { w, out } = openFragment(0);
  assert.throws(() => w.block(makeFrame({ pts: -1, key: true }), out), /frame\.pts/);
  assert.throws(() => w.block(makeFrame({ pts: 0, dts: 0.5, key: true }), out), /frame\.dts/);
  assert.throws(() => w.block(makeFrame({ pts: 0, key: true, duration: NaN }), out), /frame\.duration/);
  assert.throws(() => w.startFragment(2 ** 53, out), /timecode/);
  assert.is(out.count, 0);
});

test.run();
