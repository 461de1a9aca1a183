// The board's SimpleBlock writer (MkvBlockPort: firmware/runtime/block.c inside XS, natively and under qemu-arm)
// against MkvWriter's TypeScript path: the same bytes and the same ranges for every fixture at several read and
// slot sizes, for fuzzed frames (pieces cut anywhere, 3- and 4-byte start codes, AUD and filler units), and the
// same refusals — with the port's writeBlock (the KVS checks and the writer's state in the same native call) and
// with pushBlock alone; fuzzed frame times (negative, fractional, out of order, too far, too long, too large) give
// the same errors and the same state; the same with writeBlockAlone (blockAlone, and the bound function the offline
// Muxer calls per frame), whose Muxer runs also release through the board's FrameReleasePort (release.c). Under Node,
// where the board has no port, plain TypeScript ports by the contracts stand in, so the writer's port branch
// (truncation, the full list) is exercised on both runtimes.
import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { pushAvccPayload } from '../../../../firmware/core/h264/pushAvccPayload.ts';
import { Frame } from '../../../../firmware/core/media/Frame.ts';
import { Muxer, type Codec } from '../../../../host/lib/Muxer.ts';
import { pushFrameBytes } from '../../../../firmware/core/media/pushFrameBytes.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { BLOCK_STATE } from '../../../../firmware/core/mkv/blockState.ts';
import type { MkvBlockPort } from '../../../../firmware/core/mkv/MkvBlockPort.ts';
import { MkvWriter } from '../../../../firmware/core/mkv/MkvWriter.ts';
import type { TrackSpec } from '../../../../firmware/core/mkv/TrackSpec.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { Slot } from '../../../../firmware/core/pool/Slot.ts';
import type { FrameReleasePort } from '../../../../firmware/io/FrameRelease.ts';
import { assert, boardByteScan, boardFrameRelease, boardMkvBlock, fixture, scaled, suite } from '../../../harness/index.ts';
import { mulberry32 } from '../../../harness/support.ts';
import { referenceFrameRelease } from '../pool/referenceRelease.ts';
import { flatten, UID } from './support.ts';

const test = suite('MkvWriter block port');

/** The port's contract in plain TypeScript, for runtimes whose board has none (Node). */
const referencePort: MkvBlockPort = {
  pushBlock(frame, out, header, relative, lengths) {
    const markCount = out.count;
    const mark = out.byteLength;
    header[6] = relative >> 8;
    header[7] = relative & 0xff;
    header[8] = frame.key ? 0x80 : 0;
    try {
      out.push(header, 0, header.length);
      if (lengths) pushAvccPayload(frame, out, lengths);
      else pushFrameBytes(frame, out, 0, frame.size);
    } catch (err) {
      if (isFieldcamError(err) && err.code === 'MKV_VIEW_LIST_FULL') return -1;
      // As block.c: a throw leaves the list's count and byteLength as they were (MkvBlockPort.writeBlock).
      out.truncate(markCount, mark);
      throw err;
    }
    const content = out.byteLength - mark - 5;
    if (content <= 0x0ffffffe) {
      header[1] = 0x10 | (content >>> 24);
      header[2] = (content >>> 16) & 0xff;
      header[3] = (content >>> 8) & 0xff;
      header[4] = content & 0xff;
    }
    return out.byteLength - mark;
  },
  writeBlock(frame, out, header, lengths, state) {
    const S = BLOCK_STATE;
    if (state[S.OPEN] !== 1) return S.REFUSED;
    const { pts, dts, duration } = frame;
    const time = (v: number) => Number.isSafeInteger(v) && v >= 0;
    if (!time(pts) || !time(dts) || !time(duration)) return S.REFUSED;
    const cluster = state[S.CLUSTER]!;
    const relative = pts - cluster;
    const end = Math.max(pts + duration, state[S.FRAGMENT_END]!);
    if (
      (state[S.BLOCKS] === 0 && (!frame.key || pts !== dts)) ||
      relative < 0 ||
      relative > 32767 ||
      (state[S.HAVE_FRAME] === 1 && dts < state[S.LAST_DTS]! + state[S.LAST_DURATION]!) ||
      end - cluster > state[S.MAX_MS]!
    )
      return S.REFUSED;
    const written = referencePort.pushBlock(frame, out, header, relative, lengths);
    if (written < 0) return S.LIST_FULL;
    if (written - 5 > 0x0ffffffe || state[S.BYTES]! + written > state[S.MAX_BYTES]!) return S.TOO_LARGE;
    state[S.BLOCKS]!++;
    state[S.BYTES]! += written;
    state[S.FRAGMENT_END] = end;
    state[S.HAVE_FRAME] = 1;
    state[S.LAST_DTS] = dts;
    state[S.LAST_DURATION] = duration;
    return written;
  },
  writeBlockAlone(out, header, lengths, state, frame) {
    out.clear();
    return referencePort.writeBlock!(frame, out, header, lengths, state);
  },
};
const port = boardMkvBlock() ?? referencePort;
const release: FrameReleasePort = boardFrameRelease() ?? referenceFrameRelease;
/** The port without writeBlockAlone: MkvWriter.blockAlone empties the list and calls writeBlock. */
const noAlone: MkvBlockPort = { pushBlock: port.pushBlock, writeBlock: port.writeBlock! };
/** The same port without writeBlock: MkvWriter runs its checks in TypeScript around pushBlock. */
const pushOnly: MkvBlockPort = { pushBlock: port.pushBlock };
const native = boardMkvBlock() !== undefined;

interface Run {
  bytes: Uint8Array;
  /** Ranges per emitted batch, joined: the gather lists must match too, not only their bytes. */
  ranges: string;
}

/** A whole Muxer run over `input` in reads of `read` bytes, into slots of `slotBytes`. */
function mux(codec: Codec, input: Uint8Array, read: number, slotBytes: number, blockPort: MkvBlockPort | undefined, releasePort?: FrameReleasePort): Run {
  const parts: Uint8Array[] = [];
  const ranges: number[] = [];
  const scan = boardByteScan();
  const pool = new FramePool({ slotCount: 6, slotBytes, maxFrames: 32, ...(codec === 'mjpeg' ? { nalsPerFrame: 0 } : {}) });
  const muxer = new Muxer({
    codec,
    pool,
    fps: { num: 10, den: 1 },
    fragmentMs: 1000,
    maxFragmentMs: 10_000,
    startTimecode: 1_700_000_000_000,
    endOfFragment: true,
    segmentUid: UID,
    ...(scan ? { byteScan: scan } : {}),
    ...(blockPort ? { blockPort } : {}),
    ...(releasePort ? { releasePort } : {}),
    sink: (views) => {
      parts.push(flatten(views));
      ranges.push(views.count);
    },
  });
  for (let at = 0; at < input.length; ) {
    assert.is(muxer.prepare(), PREPARE.OK, 'pool has room');
    const n = Math.min(read, muxer.targetSpace, input.length - at);
    muxer.target.set(input.subarray(at, at + n), muxer.targetOffset);
    muxer.push(n);
    at += n;
  }
  muxer.end();
  // Every frame written is released: the pool as it was at the start, whichever path released them.
  assert.is(pool.freeFrameCount, 32, 'every record free');
  assert.is(pool.slotsHeld, 0, 'no slot held');
  let size = 0;
  for (const p of parts) size += p.length;
  const bytes = new Uint8Array(size);
  size = 0;
  for (const p of parts) {
    bytes.set(p, size);
    size += p.length;
  }
  return { bytes, ranges: ranges.join(',') };
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.is(a[i], b[i], `${what}: byte ${i}`);
}

const FIXTURES: readonly (readonly [string, Codec])[] = [
  ['h264-320x240-10fps-gop10.h264', 'h264'],
  ['h264-aud-sei-3byte.h264', 'h264'],
  ['h264-1080p-30fps.h264', 'h264'],
  ['mjpeg-320x240-10fps.mjpeg', 'mjpeg'],
];

// The name stays the same on every runtime: npm test compares the passing names of Node and XS.
test("every fixture: the same Matroska bytes and ranges with the board's port (block.c in XS, a reference under Node) as without", () => {
  const reads = scaled(3) >= 3 ? [1000, 4096, 65536] : [4096];
  for (const [name, codec] of FIXTURES) {
    const input = fixture(name);
    for (const read of reads) {
      // 256 KiB slots hold every frame whole; 96 KiB slots make frames begin in one slot's tail and go on in the next.
      for (const slotBytes of [256 * 1024, 96 * 1024]) {
        const what = `${name}, reads of ${read}, slots of ${slotBytes}`;
        const ts = mux(codec, input, read, slotBytes, undefined);
        assert.ok(ts.bytes.length > input.length / 2, `${what}: output written`);
        for (const [label, p, r] of [
          ['writeBlockAlone and the release port', port, release],
          ['writeBlock', noAlone, undefined],
          ['pushBlock', pushOnly, undefined],
        ] as const) {
          const viaPort = mux(codec, input, read, slotBytes, p, r);
          sameBytes(viaPort.bytes, ts.bytes, `${what}, ${label}`);
          assert.is(viaPort.ranges, ts.ranges, `${what}, ${label}: ranges per batch`);
        }
      }
    }
  }
});

const AVC: TrackSpec = {
  codecId: 'V_MPEG4/ISO/AVC',
  width: 64,
  height: 64,
  codecPrivate: Uint8Array.of(1, 66, 0, 30, 0xff, 0xe0, 0),
  pushPayload: (frame, out) => pushAvccPayload(frame, out, new Uint8Array(128)),
  payload: 'avcc',
};

/**
 * A random Annex-B access unit over two slots: NAL units of random types (AUD and filler among them) after 3- or
 * 4-byte start codes, the payload cut into pieces A and B at a random point (also inside a start code).
 */
function randomFrame(rand: () => number, key: boolean): Frame {
  const nals = 1 + Math.floor(rand() * 6);
  const frame = new Frame();
  const bytes: number[] = [];
  for (let i = 0; i < nals; i++) {
    const prefix = rand() < 0.5 ? 3 : 4;
    for (let z = 0; z < prefix - 1; z++) bytes.push(0);
    bytes.push(1);
    const type = [1, 5, 6, 7, 8, 9, 12][Math.floor(rand() * 7)]!;
    const length = 1 + Math.floor(rand() * 40);
    frame.nalOffset[i] = bytes.length;
    frame.nalLength[i] = length;
    frame.nalPrefix[i] = prefix;
    frame.nalType[i] = type;
    bytes.push(type);
    for (let k = 1; k < length; k++) bytes.push(2 + Math.floor(rand() * 250));
  }
  frame.nalCount = nals;
  const cut = Math.floor(rand() * (bytes.length + 1));
  const gapA = Math.floor(rand() * 8);
  const slotA = new Uint8Array(gapA + cut + 3);
  slotA.set(bytes.slice(0, cut), gapA);
  frame.slotA = new Slot(0, slotA);
  frame.startA = gapA;
  frame.endA = gapA + cut;
  if (cut < bytes.length) {
    const slotB = new Uint8Array(bytes.length - cut + 5);
    slotB.set(bytes.slice(cut), 2);
    frame.slotB = new Slot(1, slotB);
    frame.startB = 2;
    frame.endB = 2 + bytes.length - cut;
  }
  frame.key = key;
  return frame;
}

function copyFrame(f: Frame): Frame {
  const c = new Frame();
  c.slotA = f.slotA && new Slot(0, f.slotA.bytes.slice());
  c.slotB = f.slotB && new Slot(1, f.slotB.bytes.slice());
  c.startA = f.startA;
  c.endA = f.endA;
  c.startB = f.startB;
  c.endB = f.endB;
  c.key = f.key;
  c.pts = f.pts;
  c.dts = f.dts;
  c.duration = f.duration;
  c.nalCount = f.nalCount;
  c.nalOffset.set(f.nalOffset);
  c.nalLength.set(f.nalLength);
  c.nalPrefix.set(f.nalPrefix);
  c.nalType.set(f.nalType);
  return c;
}

function openWriter(track: TrackSpec, blockPort?: MkvBlockPort, maxFragmentBytes?: number): MkvWriter {
  const w = new MkvWriter({ track, segmentUid: UID, ...(blockPort ? { blockPort } : {}), ...(maxFragmentBytes ? { maxFragmentBytes } : {}) });
  const out = new ViewList(4);
  w.header(out);
  w.startFragment(1000, out);
  return w;
}

test('fuzzed frames (pieces cut anywhere, 3- and 4-byte start codes, AUD, filler): the same block, range by range', () => {
  const rand = mulberry32(12);
  for (const payload of ['avcc', 'whole'] as const) {
    const track: TrackSpec =
      payload === 'avcc' ? AVC : { codecId: 'V_MJPEG', width: 8, height: 8, pushPayload: (f, o) => pushFrameBytes(f, o, 0, f.size), payload };
    const ts = openWriter(track);
    const viaPort = openWriter(track, port);
    for (let i = 0; i < scaled(400); i++) {
      const frame = randomFrame(rand, i % 10 === 0);
      frame.pts = frame.dts = 1000 + i * 10;
      frame.duration = 10;
      const twin = copyFrame(frame);
      // A list that already holds a range, so merging into it is exercised as well.
      const a = new ViewList(80);
      const b = new ViewList(80);
      a.push(Uint8Array.of(7), 0, 1);
      b.push(Uint8Array.of(7), 0, 1);
      ts.block(frame, a);
      viaPort.block(twin, b);
      const what = `${payload} frame ${i}`;
      assert.is(b.count, a.count, `${what}: ranges`);
      assert.is(b.byteLength, a.byteLength, `${what}: bytes`);
      sameBytes(flatten(b), flatten(a), what);
      assert.equal(Array.from(b.lengths.subarray(0, b.count)), Array.from(a.lengths.subarray(0, a.count)), `${what}: range lengths`);
      assert.is(viaPort.fragmentBytes, ts.fragmentBytes, `${what}: fragment bytes`);
    }
  }
});

/**
 * What one block call did: the error (code and message) or nothing, and the writer's and the list's state after it.
 * `alone`: MkvWriter.blockAlone; a function: the writer's bound blockAloneInto(out), then blockAlone when it refused,
 * as the offline Muxer calls them.
 */
function attempt(w: MkvWriter, frame: Frame, out: ViewList, alone?: true | ((frame: Frame) => number)): string {
  let error = '';
  let bytes = '';
  try {
    if (alone === undefined) w.block(frame, out);
    else if (alone === true) bytes = ` = ${w.blockAlone(frame, out)}`;
    else {
      let n = alone(frame);
      if (n < 0) n = w.blockAlone(frame, out);
      bytes = ` = ${n}`;
    }
  } catch (err) {
    error = isFieldcamError(err) ? `${err.code}: ${err.message}` : `${(err as Error).name}: ${(err as Error).message}`;
  }
  return `${error} | blocks ${w.fragmentBlocks} bytes ${w.fragmentBytes} at ${w.fragmentTimecode} | list ${out.count} ${out.byteLength}${bytes}`;
}

/** The writer's part of an attempt (without the list's, which differs between block and blockAlone). */
const writerPart = (result: string) => result.slice(0, result.indexOf('| list'));

test('fuzzed frame times (negative, fractional, unsafe, out of order, far, long, large): the same errors and state with writeBlock, pushBlock and the TypeScript path', () => {
  const rand = mulberry32(77);
  const track = AVC;
  let refused = 0;
  for (let run = 0; run < scaled(40); run++) {
    const maxBytes = run % 3 === 0 ? 150 + Math.floor(rand() * 600) : undefined;
    const writers = [openWriter(track, undefined, maxBytes), openWriter(track, port, maxBytes), openWriter(track, pushOnly, maxBytes)];
    // blockAlone on the TypeScript path, through writeBlockAlone, and the bound function, each into a list of its own.
    const alone = [openWriter(track, undefined, maxBytes), openWriter(track, port, maxBytes), openWriter(track, port, maxBytes)];
    const aloneOut = alone.map(() => new ViewList(80));
    const bound = alone[2]!.blockAloneInto(aloneOut[2]!);
    let last = 1000; // the end (PTS + duration) of the last frame written
    for (let i = 0; i < 30; i++) {
      if (i > 0 && rand() < 0.1) {
        // A new fragment now and then (its Cluster timecode after the last frame), as the Muxer opens them.
        last += 1 + Math.floor(rand() * 50);
        for (const w of [...writers, ...alone]) w.startFragment(last, new ViewList(4));
      }
      const frame = randomFrame(rand, i === 0 || rand() < 0.2);
      const r = rand();
      let pts = last;
      let dts = pts;
      let duration = 10 + Math.floor(rand() * 30);
      if (r < 0.05) pts = -1 - Math.floor(rand() * 5);
      else if (r < 0.1) pts += 0.5;
      else if (r < 0.13) duration = Number.MAX_SAFE_INTEGER + 2;
      else if (r < 0.2) dts = pts - 1 - Math.floor(rand() * 20);
      else if (r < 0.25) pts += 32000 + Math.floor(rand() * 2000);
      else if (r < 0.3) duration = 9000 + Math.floor(rand() * 3000);
      else if (r < 0.35) dts = pts + 1;
      frame.pts = pts;
      frame.dts = dts;
      frame.duration = duration;
      const results = writers.map((w) => {
        const out = new ViewList(80);
        out.push(Uint8Array.of(7), 0, 1);
        return attempt(w, copyFrame(frame), out);
      });
      assert.is(results[1], results[0], `run ${run}, frame ${i}: writeBlock`);
      assert.is(results[2], results[0], `run ${run}, frame ${i}: pushBlock`);
      const aloneResults = alone.map((w, k) => {
        const out = aloneOut[k]!;
        out.push(Uint8Array.of(7), 0, 1); // emptied by blockAlone
        return attempt(w, copyFrame(frame), out, k === 2 ? bound : true);
      });
      assert.is(aloneResults[1], aloneResults[0], `run ${run}, frame ${i}: writeBlockAlone`);
      assert.is(aloneResults[2], aloneResults[0], `run ${run}, frame ${i}: bound writeBlockAlone`);
      assert.is(writerPart(aloneResults[0]!), writerPart(results[0]!), `run ${run}, frame ${i}: blockAlone as block`);
      if (results[0]!.startsWith(' |')) last = pts + duration;
      else refused++;
    }
  }
  assert.ok(refused > scaled(40) * 3, `refusals exercised (${refused})`);
});

test('a block outside a fragment: MKV_CALL_ORDER from block, blockAlone and the bound function on every path, nothing written', () => {
  const frame = randomFrame(mulberry32(3), true);
  frame.pts = frame.dts = 1000;
  frame.duration = 10;
  for (const p of [undefined, port, noAlone, pushOnly]) {
    const w = openWriter(AVC, p);
    const out = new ViewList(80);
    w.endFragment(out);
    const bound = w.blockAloneInto(out);
    for (const alone of [undefined, true, bound] as const) {
      out.clear();
      out.push(Uint8Array.of(7), 0, 1);
      const result = attempt(w, copyFrame(frame), out, alone);
      assert.ok(result.startsWith('MKV_CALL_ORDER: block() outside a fragment'), result);
      assert.is(w.fragmentBlocks, 0, 'no block counted');
      assert.is(out.count, alone === undefined ? 1 : 0, 'nothing appended');
    }
  }
});

test('a list too short for the block: MKV_VIEW_LIST_FULL, and the list and the writer are as they were', () => {
  const rand = mulberry32(5);
  const w = openWriter(AVC, port);
  for (let i = 0; i < 20; i++) {
    const frame = randomFrame(rand, true);
    frame.nalType.fill(5);
    frame.nalPrefix.fill(3); // two ranges per NAL at least: header + 2 × NALs ranges
    frame.pts = frame.dts = 1000;
    frame.duration = 1;
    const out = new ViewList(2);
    out.push(Uint8Array.of(1, 2), 0, 2);
    assert.throws(() => w.block(frame, out), 'MKV_VIEW_LIST_FULL');
    assert.is(out.count, 1, 'ranges unchanged');
    assert.is(out.byteLength, 2, 'bytes unchanged');
    assert.is(w.fragmentBlocks, 0, 'no block counted');
  }
});

test('a frame whose ranges lie outside its slot: refused before a byte is read, the list as it was', () => {
  if (!native) return; // the TypeScript path trusts the reader's frames; the C port checks what it dereferences
  const w = openWriter(AVC, port);
  const frame = randomFrame(mulberry32(9), true);
  frame.pts = frame.dts = 1000;
  frame.duration = 1;
  const bad = copyFrame(frame);
  bad.endA = bad.slotA!.bytes.length + 1;
  const out = new ViewList(80);
  assert.throws(() => w.block(bad, out), /outside/);
  assert.is(out.count, 0, 'no range');
  const nal = copyFrame(frame);
  nal.nalType[0] = 5; // not an AUD or filler unit, which are left out unread
  nal.nalLength[0] = 1_000_000;
  assert.throws(() => w.block(nal, out), /outside/);
  assert.is(out.count, 0, 'no range');
  assert.is(out.byteLength, 0, 'no byte');
  w.block(frame, out);
  assert.ok(out.count > 0, 'the next valid frame is written');
});

test.run();
