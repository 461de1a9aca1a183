import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import { FragmentMetadata } from '../../../../firmware/core/mkv/FragmentMetadata.ts';
import { END_OF_FRAGMENT_TAG_NAME, MkvWriter } from '../../../../firmware/core/mkv/MkvWriter.ts';
import { assert, suite } from '../../../harness/index.ts';
import { asciiValue, child, childrenWithId, data, type EbmlNode, uintValue, walk } from './ebmlWalk.ts';
import { ascii, ByteSink, flatten, fromHex, hex, makeFrame, mjpegTrack, openFragment, pushWholeFrame, UID, writer } from './support.ts';

const test = suite('MkvWriter');

const AVCC = fromHex('01 42 c0 1e ff e1 00 09 67 42 c0 1e d9 01 40 7b 20 01 00 04 68 ce 3c 80');

function segmentOf(bytes: Uint8Array): EbmlNode {
  const top = walk(bytes);
  assert.equal(
    top.map((n) => n.id),
    [EBML_IDS.EBML, EBML_IDS.Segment],
  );
  return top[1]!;
}

/** Decodes a SimpleBlock: track number VINT, int16 timecode, flags, frame bytes. */
function simpleBlock(bytes: Uint8Array, node: EbmlNode): { track: number; timecode: number; flags: number; frame: Uint8Array } {
  const d = data(bytes, node);
  const raw = (d[1]! << 8) | d[2]!;
  return { track: d[0]!, timecode: raw > 0x7fff ? raw - 0x10000 : raw, flags: d[3]!, frame: d.subarray(4) };
}

test('header: EBML header, then a Segment of unknown size (8-octet 0x01FFFFFFFFFFFFFF), byte for byte', () => {
  const out = new ViewList(4);
  writer().header(out);
  const bytes = flatten(out);
  assert.is(
    hex(bytes.subarray(0, 52)),
    `1a 45 df a3 a3 42 86 81 01 42 f7 81 01 42 f2 81 04 42 f3 81 08 42 82 88 ${ascii('matroska')} 42 87 81 02 42 85 81 02 ` +
      '18 53 80 67 01 ff ff ff ff ff ff ff',
  );
  assert.is(out.count, 1);
});

test('header: Info and Tracks parse back to the inputs (H.264 CodecPrivate byte-identical)', () => {
  const w = new MkvWriter({
    track: { codecId: 'V_MPEG4/ISO/AVC', width: 1920, height: 1080, codecPrivate: AVCC, defaultDurationNs: 33_333_333, pushPayload: pushWholeFrame },
    segmentUid: UID,
    writingApp: 'fieldcam-test 1.0',
  });
  const out = new ViewList(2);
  w.header(out);
  const bytes = flatten(out);
  const segment = segmentOf(bytes);
  assert.ok(segment.unknownSize);
  assert.equal(
    segment.children.map((n) => n.id),
    [EBML_IDS.Info, EBML_IDS.Tracks],
  );

  const info = child(segment, EBML_IDS.Info);
  assert.is(uintValue(bytes, child(info, EBML_IDS.TimecodeScale)), 1_000_000);
  assert.is(asciiValue(bytes, child(info, EBML_IDS.MuxingApp)), 'fieldcam');
  assert.is(asciiValue(bytes, child(info, EBML_IDS.WritingApp)), 'fieldcam-test 1.0');
  assert.equal(data(bytes, child(info, EBML_IDS.SegmentUID)).slice(), UID);

  const entry = child(child(segment, EBML_IDS.Tracks), EBML_IDS.TrackEntry);
  assert.is(uintValue(bytes, child(entry, EBML_IDS.TrackNumber)), 1);
  assert.is(uintValue(bytes, child(entry, EBML_IDS.TrackUID)), 1);
  assert.is(uintValue(bytes, child(entry, EBML_IDS.TrackType)), 1);
  assert.is(uintValue(bytes, child(entry, EBML_IDS.FlagLacing)), 0);
  assert.is(asciiValue(bytes, child(entry, EBML_IDS.Name)), 'kinesis_video');
  assert.is(asciiValue(bytes, child(entry, EBML_IDS.CodecID)), 'V_MPEG4/ISO/AVC');
  assert.equal(data(bytes, child(entry, EBML_IDS.CodecPrivate)).slice(), AVCC);
  assert.is(uintValue(bytes, child(entry, EBML_IDS.DefaultDuration)), 33_333_333);
  const video = child(entry, EBML_IDS.Video);
  assert.is(uintValue(bytes, child(video, EBML_IDS.PixelWidth)), 1920);
  assert.is(uintValue(bytes, child(video, EBML_IDS.PixelHeight)), 1080);
});

test('MJPEG track: no CodecPrivate, no DefaultDuration unless given; a pinned SegmentUID gives identical bytes', () => {
  const a = new ViewList(1);
  const b = new ViewList(1);
  writer().header(a);
  writer().header(b);
  const bytes = flatten(a);
  assert.equal(bytes, flatten(b));
  const entry = child(child(segmentOf(bytes), EBML_IDS.Tracks), EBML_IDS.TrackEntry);
  assert.is(childrenWithId(entry, EBML_IDS.CodecPrivate).length, 0);
  assert.is(childrenWithId(entry, EBML_IDS.DefaultDuration).length, 0);
  assert.is(asciiValue(bytes, child(entry, EBML_IDS.CodecID)), 'V_MJPEG');
  // Without a pinned UID each writer draws its own.
  const c = new ViewList(1);
  const d = new ViewList(1);
  new MkvWriter({ track: mjpegTrack() }).header(c);
  new MkvWriter({ track: mjpegTrack() }).header(d);
  assert.not(hex(flatten(c)), hex(flatten(d)));
});

test('a stream parses back: Tags before their Cluster, timecodes, relative block timecodes, flags, payloads, EoFr', () => {
  const w = writer();
  const md = new FragmentMetadata();
  md.put('camera', 'porch');
  md.put('motion', 'yes', false);
  const out = new ViewList(8);
  const sink = new ByteSink();
  const t0 = 1_700_000_000_000; // absolute epoch ms: needs more than 32 bits
  const frames = [
    makeFrame({ pts: t0, key: true, duration: 40 }),
    makeFrame({ pts: t0 + 40, duration: 40 }),
    makeFrame({ pts: t0 + 80, duration: 40 }, 3), // payload split over two slots
    makeFrame({ pts: t0 + 2000, key: true, duration: 40 }),
    makeFrame({ pts: t0 + 2040, duration: 40 }),
  ];
  w.header(out);
  sink.take(out);
  for (const [i, f] of frames.entries()) {
    if (f.key) {
      if (i > 0) {
        w.endFragment(out);
        sink.take(out);
      }
      w.startFragment(f.pts, out, md);
      md.fragmentDone();
      sink.take(out);
    }
    w.block(f, out);
    sink.take(out);
  }
  w.endFragment(out);
  sink.take(out);

  const bytes = sink.bytes();
  const segment = segmentOf(bytes);
  const T = EBML_IDS;
  assert.equal(
    segment.children.map((n) => n.id),
    [T.Info, T.Tracks, T.Tags, T.Tags, T.Cluster, T.Tags, T.Tags, T.Cluster, T.Tags],
  );
  const tagPairs = (node: EbmlNode) => {
    const simple = child(child(node, T.Tag), T.SimpleTag);
    return `${asciiValue(bytes, child(simple, T.TagName))}=${asciiValue(bytes, child(simple, T.TagString))}`;
  };
  const tags = segment.children.filter((n) => n.id === T.Tags).map(tagPairs);
  assert.equal(tags, ['camera=porch', 'motion=yes', `${END_OF_FRAGMENT_TAG_NAME}=`, 'camera=porch', `${END_OF_FRAGMENT_TAG_NAME}=`]);

  const clusters = childrenWithId(segment, T.Cluster);
  assert.ok(clusters.every((c) => c.unknownSize));
  assert.equal(
    clusters.map((c) => uintValue(bytes, child(c, T.Timecode))),
    [t0, t0 + 2000],
  );
  const blocks = clusters.map((c) => childrenWithId(c, T.SimpleBlock).map((n) => simpleBlock(bytes, n)));
  assert.equal(
    blocks.map((list) => list.map((b) => b.timecode)),
    [
      [0, 40, 80],
      [0, 40],
    ],
  );
  assert.equal(
    blocks.map((list) => list.map((b) => b.flags)),
    [
      [0x80, 0, 0],
      [0x80, 0],
    ],
  );
  assert.ok(blocks.flat().every((b) => b.track === 0x81));
  const payloads = blocks.flat().map((b) => hex(b.frame));
  assert.equal(
    payloads,
    frames.map((f) => hex(Uint8Array.from({ length: f.size }, (_, i) => f.byteAt(i)))),
  );
});

test('per-block overhead is 9 bytes and a cluster start (Cluster + Timecode + first block header) is 24', () => {
  const w = writer();
  const out = new ViewList(8);
  w.header(out);
  out.clear();
  w.startFragment(0, out);
  const clusterHeader = out.byteLength;
  out.clear();
  const first = makeFrame({ pts: 0, key: true, payload: new Uint8Array(1000) });
  w.block(first, out);
  const firstHeader = out.byteLength - first.size;
  out.clear();
  const second = makeFrame({ pts: 100, payload: new Uint8Array(70_000) });
  w.block(second, out);
  const blockHeader = out.byteLength - second.size;
  assert.is(blockHeader, 9);
  assert.is(firstHeader, 9);
  assert.is(clusterHeader, 15);
  assert.ok(clusterHeader + firstHeader <= 33, `cluster start costs ${clusterHeader + firstHeader} bytes`);
  // The header view is one range; the payload follows as the slot's own range (no copy).
  assert.is(out.count, 2);
  assert.is(out.sources[1], second.slotA!.bytes);
});

test('zero-allocation shape: every call pushes the same scratch arrays, patched in place', () => {
  const w = writer();
  const out = new ViewList(8);
  const md = new FragmentMetadata();
  md.put('a', 'b');
  w.header(out);
  const header = out.sources[0];
  out.clear();
  w.header(out);
  assert.is(out.sources[0], header);
  out.clear();

  w.startFragment(0, out, md);
  const [tags1, cluster1] = [out.sources[0], out.sources[1]];
  out.clear();
  w.block(makeFrame({ pts: 0, key: true }), out);
  const block1 = out.sources[0];
  out.clear();
  w.block(makeFrame({ pts: 100 }), out);
  assert.is(out.sources[0], block1);
  out.clear();
  w.endFragment(out);
  const eofr1 = out.sources[0];
  out.clear();
  w.startFragment(200, out, md);
  assert.is(out.sources[0], tags1, 'unchanged metadata is not re-encoded');
  assert.is(out.sources[1], cluster1);
  out.clear();
  w.block(makeFrame({ pts: 200, key: true }), out);
  assert.is(out.sources[0], block1);
  out.clear();
  w.endFragment(out);
  assert.is(out.sources[0], eofr1);
});

test('views stay valid until the next call of the same method', () => {
  const { w, out } = openFragment(0);
  w.block(makeFrame({ pts: 0, key: true }), out);
  const before = hex(flatten(out));
  const other = new ViewList(8);
  w.endFragment(other);
  w.startFragment(100, other);
  assert.is(hex(flatten(out)), before, 'startFragment/endFragment do not touch the block scratch');
  w.block(makeFrame({ pts: 150, key: true }), other);
  assert.not(hex(flatten(out)), before, 'the next block() reuses it');
});

test('end-of-fragment Tags, byte for byte (the PIC EoFr: name AWS_KINESISVIDEO_END_OF_FRAGMENT, empty string)', () => {
  const { w, out } = openFragment();
  w.endFragment(out);
  assert.is(hex(flatten(out)), `12 54 c3 67 af 73 73 ac 63 c0 80 67 c8 a6 45 a3 a0 ${ascii(END_OF_FRAGMENT_TAG_NAME)} 44 87 80`);
  assert.not(w.inFragment, true);
});

test.run();
