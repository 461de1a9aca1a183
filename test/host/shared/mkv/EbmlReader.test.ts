import { isFieldcamError } from '../../../../host/shared/hostErrors.ts';
import { EBML_EVENT, EbmlReader, ebmlInt, ebmlUint, UNKNOWN_SIZE } from '../../../../host/shared/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import { assert, stride, suite } from '../../../harness/index.ts';
import { type EbmlNode, walk } from '../../../firmware/core/mkv/ebmlWalk.ts';
import { concat, drive, el, kvsStream, MASTERS, randomChunks, splitAt, unknownEl } from './EbmlReaderKit.ts';
import { prng } from '../../../firmware/core/h264/h264TestKit.ts';

const test = suite('mkv/EbmlReader');

const I = EBML_IDS;
const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The events `drive` must report, derived from the independent test walker's tree. */
function expectedEvents(bytes: Uint8Array, nodes: readonly EbmlNode[], depth = 0, out: string[] = []): string[] {
  for (const n of nodes) {
    const size = n.end - n.dataStart;
    out.push(`S ${n.id.toString(16)} @${n.start} h${n.dataStart - n.start} ${n.unknownSize ? '?' : size} d${depth}`);
    if (MASTERS.has(n.id)) {
      expectedEvents(bytes, n.children, depth + 1, out);
      out.push(`E ${n.id.toString(16)} @${n.end} ${size} d${depth}`);
    } else {
      out.push(`V ${hexOf(bytes.subarray(n.dataStart, size <= 32 ? n.end : n.dataStart + 4))}`);
    }
  }
  if (depth === 0) out.push('DONE');
  return out;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isFieldcamError(err)) return err.code;
    throw err;
  }
  return undefined;
}

const STREAM = kvsStream();
const EXPECTED = expectedEvents(STREAM, walk(STREAM));

test('a KVS PutMedia body in one chunk: the same tree as an independent walker, unknown-size Segment and Clusters ended correctly', () => {
  const run = drive([STREAM]);
  assert.is(run.code, undefined, run.message);
  assert.equal(run.events, EXPECTED);
  // Three Clusters, each ended by the end-of-fragment Tags that follows it.
  const clusterEnds = run.events.filter((e) => e.startsWith(`E ${I.Cluster.toString(16)} `));
  assert.is(clusterEnds.length, 3);
  assert.ok(run.events.at(-2)!.startsWith(`E ${I.Segment.toString(16)} @${STREAM.length} `), 'the Segment ends at end()');
});

test('every two-way split, and one byte at a time, gives the same events', () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const run = drive(splitAt(STREAM, [cut]));
    assert.equal(run.events, EXPECTED, `split at ${cut}`);
  }
  assert.equal(drive(Array.from(STREAM, (b) => Uint8Array.of(b))).events, EXPECTED, 'one byte per push');
});

test('every three-way split around each element header gives the same events', () => {
  const starts = walkStarts(walk(STREAM));
  for (let k = 0; k < starts.length; k += stride()) {
    const s = starts[k]!;
    for (let a = Math.max(0, s - 2); a <= s + 6 && a <= STREAM.length; a++) {
      for (let b = a; b <= a + 9 && b <= STREAM.length; b++) {
        assert.equal(drive(splitAt(STREAM, [a, b])).events, EXPECTED, `split at ${a}, ${b}`);
      }
    }
  }
});

function walkStarts(nodes: readonly EbmlNode[], out: number[] = []): number[] {
  for (const n of nodes) {
    out.push(n.start);
    walkStarts(n.children, out);
  }
  return out;
}

test('random splits (and empty pushes) give the same events', () => {
  const random = prng(7);
  for (let i = 0; i < 200; i++) {
    const chunks = randomChunks(STREAM, random, 1 + Math.floor(random() * 200));
    chunks.splice(Math.floor(random() * chunks.length), 0, new Uint8Array(0));
    assert.equal(drive(chunks).events, EXPECTED, `run ${i}`);
  }
});

test('unknown-size Cluster ends at the next Cluster, at a level-1 Tags, and at end(); the 8-octet unknown size too', () => {
  const cluster = (tc: number) => unknownEl(I.Cluster, [el(I.Timecode, [tc]), el(I.SimpleBlock, [0x81, 0, 0, 0x80, 1, 2])]);
  const tags = el(I.Tags, el(I.Tag, el(I.SimpleTag, el(I.TagName, [0x41]), el(I.TagString, []))));
  const segment = unknownEl(I.Segment, [cluster(1), cluster(2), tags, cluster(3)], true);
  const c1 = 12; // Segment header: 4 ID + 8 size
  const c2 = c1 + cluster(1).length;
  const t = c2 + cluster(2).length;
  const c3 = t + tags.length;
  const run = drive([segment]);
  assert.is(run.code, undefined, run.message);
  const ends = run.events.filter((e) => e.startsWith('E '));
  const cl = I.Cluster.toString(16);
  assert.equal(ends, [
    `E ${cl} @${c2} ${c2 - c1 - 5} d1`,
    `E ${cl} @${t} ${t - c2 - 5} d1`,
    `E 67c8 @${t + tags.length} ${tags.length - 11} d3`,
    `E 7373 @${t + tags.length} ${tags.length - 8} d2`,
    `E ${I.Tags.toString(16)} @${t + tags.length} ${tags.length - 5} d1`,
    `E ${cl} @${segment.length} ${segment.length - c3 - 5} d1`,
    `E ${I.Segment.toString(16)} @${segment.length} ${segment.length - 12} d0`,
  ]);
});

test('an unknown-size master inside a known-size one ends at the parent end', () => {
  // Tag(known){ SimpleTag(unknown){ TagName } } then a second TagName-bearing SimpleTag would be inside; the
  // parent's end is what closes the unknown-size child.
  const inner = unknownEl(I.SimpleTag, [el(I.TagName, [0x42])]);
  const tag = el(I.Tag, inner);
  const run = drive([tag]);
  assert.is(run.code, undefined, run.message);
  assert.equal(run.events, [
    `S 7373 @0 h3 ${inner.length} d0`,
    'S 67c8 @3 h3 ? d1',
    'S 45a3 @6 h3 1 d2',
    'V 42',
    `E 67c8 @${tag.length} ${inner.length - 3} d1`,
    `E 7373 @${tag.length} ${inner.length} d0`,
    'DONE',
  ]);
});

test('values: a view into the chunk when whole, the scratch when split; readHead() reads a prefix and skips the rest', () => {
  const bytes = concat([
    el(
      0x4282,
      [...'matroska'].map((c) => c.charCodeAt(0)),
    ),
    el(I.SimpleBlock, [0x81, 0x00, 0x05, 0x80, 9, 9, 9, 9]),
  ]);
  const r = new EbmlReader({ maxValueBytes: 16 });
  r.push(bytes.subarray(0, 5));
  assert.is(r.next(), EBML_EVENT.START);
  assert.is(r.id, 0x4282);
  r.read();
  assert.is(r.next(), EBML_EVENT.NEED_MORE);
  r.push(bytes.subarray(5));
  assert.is(r.next(), EBML_EVENT.VALUE);
  assert.is(String.fromCharCode(...r.value), 'matroska');
  assert.is(r.next(), EBML_EVENT.START);
  assert.is(r.id, I.SimpleBlock);
  assert.is(r.size, 8);
  r.readHead(4);
  assert.is(r.next(), EBML_EVENT.VALUE);
  assert.is(r.value.buffer, bytes.buffer, 'zero-copy view');
  assert.equal(Array.from(r.value), [0x81, 0x00, 0x05, 0x80]);
  assert.is(r.next(), EBML_EVENT.NEED_MORE);
  assert.is(r.position, bytes.length, 'the rest of the block was skipped');
  r.end();
  assert.is(r.next(), EBML_EVENT.DONE);
  assert.is(r.next(), EBML_EVENT.DONE, 'DONE is sticky');
});

test('without a choice, known sizes are skipped and unknown sizes descended; openDepth/openId follow', () => {
  const bytes = unknownEl(I.Segment, [el(I.Info, el(I.TimecodeScale, [0x0f, 0x42, 0x40])), unknownEl(I.Cluster, [el(I.Timecode, [1])])]);
  const r = new EbmlReader();
  r.push(bytes);
  const seen: string[] = [];
  for (let e = r.next(); e !== EBML_EVENT.NEED_MORE; e = r.next()) {
    seen.push(`${e}:${r.id.toString(16)}:${r.openDepth}:${r.openId(r.openDepth - 1)?.toString(16) ?? '-'}`);
  }
  assert.equal(seen, [
    `1:${I.Segment.toString(16)}:0:-`,
    `1:${I.Info.toString(16)}:1:${I.Segment.toString(16)}`,
    `1:${I.Cluster.toString(16)}:1:${I.Segment.toString(16)}`,
    `1:e7:2:${I.Cluster.toString(16)}`,
  ]);
  r.end();
  assert.is(r.next(), EBML_EVENT.END);
  assert.is(r.id, I.Cluster);
  assert.is(r.next(), EBML_EVENT.END);
  assert.is(r.id, I.Segment);
  assert.is(r.next(), EBML_EVENT.DONE);
});

test('value helpers: unsigned and signed integers of 0-8 octets', () => {
  assert.is(ebmlUint(Uint8Array.of()), 0);
  assert.is(ebmlUint(Uint8Array.of(0x0f, 0x42, 0x40)), 1_000_000);
  assert.is(ebmlUint(Uint8Array.of(0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00)), 1_700_000_000_000);
  assert.is(ebmlInt(Uint8Array.of(0xff, 0xfe)), -2);
  assert.is(ebmlInt(Uint8Array.of(0x7f, 0xff)), 32767);
  assert.is(ebmlInt(Uint8Array.of()), 0);
});

// ── limits and errors ──

const CASES: readonly { name: string; bytes: Uint8Array; code: string; options?: object }[] = [
  { name: 'an ID longer than 4 octets (first byte 0x08)', bytes: Uint8Array.of(0x08, 1, 2, 3, 4, 0x80), code: 'EBML_ID_INVALID' },
  { name: 'an ID starting with 0x00', bytes: Uint8Array.of(0x00, 0x80), code: 'EBML_ID_INVALID' },
  { name: 'the reserved ID 0xFF (VINT_DATA all ones)', bytes: Uint8Array.of(0xff, 0x80), code: 'EBML_ID_INVALID' },
  { name: 'the reserved ID 0x4000 (VINT_DATA all zeros)', bytes: Uint8Array.of(0x40, 0x00, 0x80), code: 'EBML_ID_INVALID' },
  { name: 'a size longer than 8 octets', bytes: Uint8Array.of(0xec, 0x00, 1, 2, 3, 4, 5, 6, 7, 8), code: 'EBML_SIZE_INVALID' },
  { name: 'an element over maxElementBytes', bytes: el(0xec, new Uint8Array(100)), code: 'EBML_ELEMENT_TOO_LARGE', options: { maxElementBytes: 99 } },
  { name: 'an 8-octet size beyond 2^53', bytes: Uint8Array.of(0xec, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe), code: 'EBML_ELEMENT_TOO_LARGE' },
  {
    name: 'nesting deeper than maxDepth',
    code: 'EBML_TOO_DEEP',
    options: { maxDepth: 3 },
    bytes: el(I.Tags, el(I.Tag, el(I.SimpleTag, el(I.SimpleTag, el(I.TagName, [0x41]))))),
  },
  { name: 'a child running past its parent', bytes: concat([Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x83), el(0x4286, [1, 2])]), code: 'EBML_ELEMENT_OVERFLOW' },
  {
    name: 'a header straddling its parent end',
    bytes: concat([Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x81), Uint8Array.of(0x42, 0x86, 0x80)]),
    code: 'EBML_ELEMENT_OVERFLOW',
  },
  {
    name: 'a TrackEntry child inside an unknown-size Cluster',
    code: 'EBML_ELEMENT_MISPLACED',
    bytes: unknownEl(I.Segment, [unknownEl(I.Cluster, [el(I.Timecode, [1]), el(I.TrackNumber, [1])])]),
  },
  { name: 'a value larger than maxValueBytes', bytes: el(0x4282, new Uint8Array(20)), code: 'EBML_VALUE_TOO_LARGE', options: { maxValueBytes: 16 } },
  { name: 'the data ending inside a header', bytes: Uint8Array.of(0x1a, 0x45), code: 'EBML_TRUNCATED' },
  { name: 'the data ending inside a skipped element', bytes: Uint8Array.of(0xec, 0x85, 0, 0), code: 'EBML_TRUNCATED' },
  { name: 'the data ending inside a known-size master', bytes: Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x88, 0x42, 0x86, 0x81, 0x01), code: 'EBML_TRUNCATED' },
];

for (const c of CASES) {
  test(`error: ${c.name} → ${c.code}, in one chunk and byte by byte; the reader stays failed`, () => {
    const whole = drive([c.bytes], c.options);
    assert.is(whole.code, c.code, whole.message);
    const bytewise = drive(
      Array.from(c.bytes, (b) => Uint8Array.of(b)),
      c.options,
    );
    assert.is(bytewise.code, c.code, bytewise.message);
    assert.equal(bytewise.events, whole.events);
  });
}

test('skip() or read() of an unknown-size element → EBML_UNKNOWN_SIZE_INVALID (only masters may have one)', () => {
  for (const choose of [(r: EbmlReader) => r.skip(), (r: EbmlReader) => r.read(), (r: EbmlReader) => r.readHead(4)]) {
    const r = new EbmlReader();
    r.push(Uint8Array.of(0xa3, 0xff, 0x81, 0, 0, 0x80));
    assert.is(r.next(), EBML_EVENT.START);
    assert.throws(() => choose(r), 'EBML_UNKNOWN_SIZE_INVALID');
    assert.throws(() => r.next(), 'EBML_UNKNOWN_SIZE_INVALID');
  }
});

test('after a data error every call rethrows it', () => {
  const r = new EbmlReader();
  r.push(Uint8Array.of(0x00, 0x80));
  assert.throws(() => r.next(), 'EBML_ID_INVALID');
  assert.throws(() => r.next(), 'EBML_ID_INVALID');
  assert.throws(() => r.push(Uint8Array.of(1)), 'EBML_ID_INVALID');
  assert.throws(() => r.end(), 'EBML_ID_INVALID');
});

test('call order: push() with unread bytes or after end(), choices outside a START, are EBML_CALL_ORDER; bad arguments are TypeError/RangeError', () => {
  const r = new EbmlReader();
  r.push(el(0xec, [0, 0]));
  assert.throws(() => r.push(Uint8Array.of(1)), 'EBML_CALL_ORDER');
  assert.throws(() => r.skip(), 'EBML_CALL_ORDER');
  assert.is(r.next(), EBML_EVENT.START);
  assert.throws(() => r.readHead(-1), /n must be/);
  r.skip();
  assert.throws(() => r.descend(), 'EBML_CALL_ORDER');
  assert.is(r.next(), EBML_EVENT.NEED_MORE);
  r.end();
  assert.throws(() => r.push(Uint8Array.of(1)), 'EBML_CALL_ORDER');
  assert.is(r.next(), EBML_EVENT.DONE, 'a call-order error does not break the reader');
  assert.throws(() => r.push('x' as unknown as Uint8Array), /chunk must be/);
  assert.throws(() => new EbmlReader({ maxDepth: 0 }), /maxDepth/);
  assert.throws(() => new EbmlReader({ maxValueBytes: 0 }), /maxValueBytes/);
  assert.throws(() => new EbmlReader({ maxElementBytes: -1 }), /maxElementBytes/);
});

test('an unknown-size element may be descended even when not in the schema (its children end it only at end())', () => {
  const r = new EbmlReader();
  r.push(Uint8Array.of(0x4f, 0xff, 0xff, 0xec, 0x80));
  assert.is(r.next(), EBML_EVENT.START);
  assert.is(r.size, UNKNOWN_SIZE);
  assert.is(r.next(), EBML_EVENT.START, 'descended by default');
  assert.is(r.id, 0xec);
  assert.is(r.depth, 1);
  assert.is(r.next(), EBML_EVENT.NEED_MORE);
  r.end();
  assert.is(r.next(), EBML_EVENT.END);
  assert.is(
    errorCode(() => r.next()),
    undefined,
  );
});

test('reportedPosition: the first byte of an element header split across pushes, else position', () => {
  const bytes = concat([el(EBML_IDS.Timecode, [1]), el(EBML_IDS.Timecode, [2])]); // E7 81 01 E7 81 02
  const r = new EbmlReader();
  r.push(bytes.subarray(0, 4));
  assert.is(r.next(), EBML_EVENT.START);
  r.read();
  assert.is(r.next(), EBML_EVENT.VALUE);
  assert.is(r.next(), EBML_EVENT.NEED_MORE);
  assert.is(r.position, 4, "the next ID's first byte is consumed");
  assert.is(r.reportedPosition, 3, 'but not reported: a window must keep it');
  r.push(bytes.subarray(4));
  assert.is(r.next(), EBML_EVENT.START);
  assert.is(r.offset, 3);
  assert.is(r.reportedPosition, 5);
  r.read();
  assert.is(r.next(), EBML_EVENT.VALUE);
  assert.is(r.next(), EBML_EVENT.NEED_MORE);
  assert.is(r.reportedPosition, r.position);
});

test.run();
