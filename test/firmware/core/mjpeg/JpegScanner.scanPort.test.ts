// The JPEG scanner with the board's scan (ByteScanPort.scanJpeg: scan.c inside XS, natively and under qemu-arm;
// under Node, where no board has it, the TypeScript scan fed one byte per call stands in) against the TypeScript
// scan: the same index and state record after every call on the fixture, on fuzzed and cut copies and planted
// segments, in ranges of 1 byte to 64 KiB; the reader's images, errors and counters the same; the record checked.
// The board's camera read (pushJpeg: images.c, or its TypeScript twin under Node) walks past the images the reader
// would simply emit and completes them into its batch: the same frames, records and counters as without it.
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, scaled, suite } from '../../../harness/index.ts';
import { JPEG_EVENT, JpegScanner } from '../../../../firmware/core/mjpeg/JpegScanner.ts';
import { JPEG_SCAN, JPEG_STATE } from '../../../../firmware/core/mjpeg/jpegScanState.ts';
import { MjpegReader } from '../../../../firmware/core/mjpeg/MjpegReader.ts';
import { PREPARE, StreamCursor } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { MJPEG_WALK } from '../../../../firmware/core/mjpeg/mjpegWalk.ts';
import { prng, referenceBatchRecord, referenceScanPort } from '../h264/h264TestKit.ts';
import { run } from './mjpegKit.ts';
import { dirtyFrame, frameRecord } from '../media/frameRecordKit.ts';

const test = suite('mjpeg/JpegScanner with the board scan');

/** scanJpeg by its contract under Node: the TypeScript scan one byte per call (so also a test of the record's completeness). */
function byteByByte(bytes: Uint8Array, from: number, to: number, state: Uint32Array): number {
  const scanner = new JpegScanner();
  scanner.state.set(state);
  let i = from;
  do i = scanner.scan(bytes, i, Math.min(i + 1, to));
  while (i < to && scanner.event === JPEG_EVENT.NONE);
  state.set(scanner.state);
  return i;
}

const W = MJPEG_WALK;
const NO_TABLE = new Float64Array(0);

/**
 * pushJpeg by its contract under Node: StreamCursor.commit, then the byte-by-byte scan capped a slot from the image's
 * start; with pool and batch, on past the SOIs without a gap and the EOIs of images of the announced size, each
 * completed from the pool's free stack (referenceBatchRecord), up to any other event.
 */
function referencePushJpeg(cursor: object, n: number, state: Uint32Array, walk: Float64Array, pool?: object, batch?: unknown[]): number {
  const c = cursor as StreamCursor;
  if (typeof n !== 'number' || !(n >= 1 && n <= c.targetSpace) || n !== Math.floor(n)) return -1;
  const from = c.targetOffset;
  const base = c.position - from;
  const to = from + n;
  c.commit(n);
  for (let i = from; ; ) {
    let stop = to;
    if (walk[W.ASSEMBLING] === 1) {
      const cap = walk[W.IMAGE_START]! + walk[W.SLOT_BYTES]! - base;
      if (cap <= i) return i;
      stop = Math.min(stop, cap);
    }
    i = byteByByte(c.target, i, stop, state);
    const event = state[JPEG_SCAN.EVENT];
    if (!pool || !batch || (event === JPEG_EVENT.NONE && i === to)) return i;
    const at = base + i;
    if (event === JPEG_EVENT.SOI) {
      if (at - 2 > walk[W.GAP_START]!) return i;
      walk[W.SAW_IMAGE] = 1;
      walk[W.ASSEMBLING] = 1;
      walk[W.IMAGE_START] = at - 2;
    } else if (event === JPEG_EVENT.EOI) {
      if (walk[W.ASSEMBLING] === 1) {
        if (state[JPEG_SCAN.WIDTH] !== walk[W.WIDTH] || state[JPEG_SCAN.HEIGHT] !== walk[W.HEIGHT]) return i;
        if (!referenceBatchRecord(pool, batch, walk[W.BATCH]!, c, NO_TABLE, 0, walk[W.IMAGE_START]!, at, walk[W.SEQ]!, true)) return i;
        walk[W.BATCH] = walk[W.BATCH]! + 1;
        walk[W.SEQ] = walk[W.SEQ]! + 1;
        walk[W.ASSEMBLING] = 0;
      }
      walk[W.GAP_START] = at;
    } else if (event !== JPEG_EVENT.NONE) return i;
    state[JPEG_SCAN.EVENT] = JPEG_EVENT.NONE;
  }
}

const board = boardByteScan();
const port: ByteScanPort = board ?? {
  indexOfByte(bytes, value, from, to) {
    for (let i = from; i < to; i++) if (bytes[i] === value) return i;
    return -1;
  },
  scanJpeg: byteByByte,
  pushJpeg: referencePushJpeg,
  fillFrameRecord: referenceScanPort.fillFrameRecord!,
};
/** The TypeScript scan (the reader without the board). */
const typescript: ByteScanPort | undefined = undefined;

/** Both scans over `data` from a fresh record, each call's range ending at the next cut (`cut(i)` > i); every call compared. */
function compareScans(data: Uint8Array, cut: (i: number) => number, what: string): number {
  const want = new JpegScanner();
  const got = new JpegScanner(port);
  let calls = 0;
  let i = 0;
  while (i < data.length) {
    const to = Math.min(data.length, cut(i));
    const j = want.scan(data, i, to);
    const k = got.scan(data, i, to);
    calls++;
    if (j !== k || want.state.join() !== got.state.join()) {
      assert.equal([k, Array.from(got.state)], [j, Array.from(want.state)], `${what}: scan of ${i}..${to}`);
    }
    i = j;
  }
  return calls;
}

/** The fixture with headers and data damaged: planted X'FF's, random bytes, zeros, cuts. */
function damagedCopies(base: Uint8Array, seed: number, count: number): Uint8Array[] {
  const random = prng(seed);
  const sois: number[] = [];
  for (let i = 0; i + 1 < base.length; i++) if (base[i] === 0xff && base[i + 1] === 0xd8) sois.push(i);
  const out: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    let data = base.slice(0, 1 + Math.floor(random() * 60000)); // up to ~10 images: enough for every cut kind
    for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
      const headers = random() < 0.5;
      const at = headers ? sois[Math.floor(random() * sois.length)]! + 2 + Math.floor(random() * 700) : Math.floor(random() * data.length);
      if (at >= data.length) continue;
      const kind = Math.floor(random() * 4);
      if (kind === 0) data[at] = 0xff;
      else if (kind === 1) data[at] = Math.floor(random() * 256);
      else if (kind === 2) data[at] = 0;
      else data = data.slice(0, at);
    }
    out.push(data);
  }
  return out;
}

/** Marker segments and loose bytes: frame, scan, DNL, table and parameterless markers, lengths often right. */
function plantedSegments(seed: number, size: number): Uint8Array {
  const random = prng(seed);
  const data = new Uint8Array(size);
  for (let i = 0; i < data.length - 40; ) {
    const r = random();
    if (r < 0.7) {
      const m = [0xc0, 0xc1, 0xc4, 0xcc, 0xde, 0xda, 0xda, 0xdc, 0xe0, 0xdb, 0xd9, 0xd8, 0xd0, 0x01, 0xff, 0x00][Math.floor(random() * 16)]!;
      const count = 1 + Math.floor(random() * 4);
      const frame = m !== 0xda && m !== 0xdc;
      let length = m === 0xdc ? 4 : frame ? 8 + 3 * count : 6 + 2 * count;
      if (random() < 0.2) length = Math.floor(random() * 30);
      const params = Array.from({ length: Math.max(0, length - 2) }, () => (random() < 0.2 ? 0 : Math.floor(random() * 256)));
      if (frame && params.length >= 6 && random() < 0.8) params[5] = count;
      if (m === 0xda && params.length >= 1 && random() < 0.8) params[0] = count;
      const bytes = [0xff, m, length >> 8, length & 255, ...params];
      // Some entropy-coded data with stuffed bytes and restart markers after a scan header.
      if (m === 0xda) for (let k = 0; k < 40; k++) bytes.push(random() < 0.1 ? 0xff : random() < 0.1 ? 0 : random() < 0.05 ? 0xd3 : Math.floor(random() * 256));
      data.set(bytes.slice(0, data.length - i), i);
      i += bytes.length;
    } else {
      data[i++] = r < 0.85 ? 0xff : Math.floor(random() * 256);
    }
  }
  return data;
}

test("scanJpeg (the board's scan): the TypeScript scan's index and state record after every call, the fixture in ranges of 1 B to 64 KiB", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  // Every range size from 1 to 64 bytes over the first image and the next one's headers (so every marker, segment
  // and EOI/SOI is cut at every offset by some size).
  const head = base.subarray(0, 6500);
  for (let size = 1; size <= 64; size += fullScale() ? 1 : 7) compareScans(head, (i) => i + size, `ranges of ${size}`);
  // Larger fixed sizes over the whole fixture, and random ones from 1 byte to 64 KiB.
  for (const size of [4096, 4097, 65536]) compareScans(base, (i) => i + size, `ranges of ${size}`);
  const random = prng(31);
  const calls = compareScans(base, (i) => i + 1 + Math.floor(random() ** 3 * 65536), 'random ranges');
  assert.ok(calls > 30);
});

test("scanJpeg (the board's scan): the TypeScript scan's index and record on damaged and cut images and planted segments", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const random = prng(32);
  const inputs = [...damagedCopies(base, 33, scaled(20)), plantedSegments(34, 6000), plantedSegments(35, 6000)];
  for (let k = 0; k < scaled(20); k++) {
    // Random bytes rich in X'FF', zero, SOI/EOI/SOS and restart codes.
    const data = new Uint8Array(3000);
    for (let i = 0; i < data.length; i++) {
      const r = random();
      data[i] = r < 0.2 ? 0xff : r < 0.3 ? 0 : r < 0.4 ? [0xd8, 0xd9, 0xda, 0xd0, 0xc0, 0xdc][Math.floor(random() * 6)]! : Math.floor(random() * 256);
    }
    inputs.push(data);
  }
  for (const [k, data] of inputs.entries()) {
    for (const size of [1 + Math.floor(random() * 64), 4096]) compareScans(data, (i) => i + size, `input ${k}, ranges of ${size}`);
    compareScans(data, (i) => i + 1 + Math.floor(random() ** 3 * 65536), `input ${k}, random ranges`);
  }
});

test("scanJpeg (the board's scan): the marker after entropy-coded data found at every offset of the word blocks, past stuffed bytes", () => {
  // SOI, a frame header (8x8, one component), a scan header, then `length` bytes of entropy-coded data and EOI.
  const head = [0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0];
  let images = 0;
  for (let shift = 0; shift < 4; shift++) {
    for (let length = 0; length <= 80; length++) {
      for (const stuffed of [-1, 0, 5, 31, 32, 33, 63]) {
        if (stuffed >= 0 && stuffed + 2 > length) continue;
        const data = new Uint8Array(shift + head.length + length + 2 + 40);
        data.set(head, shift);
        const body = shift + head.length;
        data.fill(0x5a, body, body + length);
        if (stuffed >= 0) data.set([0xff, stuffed & 1 ? 0x00 : 0xd3], body + stuffed); // X'FF00' or RST3
        data.set([0xff, 0xd9], body + length);
        data.fill(0x33, body + length + 2); // padding after the image: no X'FF'
        const scanner = new JpegScanner(port);
        assert.is(scanner.scan(data, 0, data.length), shift + 2);
        assert.is(scanner.scan(data, shift + 2, data.length), body + length + 2, `shift ${shift}, ${length} bytes, stuffed at ${stuffed}`);
        assert.is(scanner.event, JPEG_EVENT.EOI);
        compareScans(data, (i) => i + 4096, `shift ${shift}, ${length} bytes, stuffed at ${stuffed}`);
        images++;
      }
    }
  }
  assert.ok(images > 1000);
});

test("scanJpeg (the board's scan): the events at the fixture's first image, an empty range, and a record no scan leaves refused", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const scanner = new JpegScanner(port);
  const st = scanner.state;
  assert.is(scanner.scan(base, 0, base.length), 2, 'the SOI consumed');
  assert.is(scanner.event, JPEG_EVENT.SOI);
  const end = scanner.scan(base, 2, base.length);
  assert.is(scanner.event, JPEG_EVENT.EOI);
  assert.equal([scanner.width, scanner.height, st[JPEG_SCAN.STATE]], [320, 240, JPEG_STATE.SEEK]);
  assert.equal([base[end - 2], base[end - 1]], [0xff, 0xd9], 'the EOI ends the image');
  assert.is(scanner.scan(base, end, end), end, 'an empty range');
  assert.is(scanner.event, JPEG_EVENT.NONE);
  if (!board) return; // the record checks are the native's (the TypeScript scan trusts its own record)
  const rangeError = (call: () => unknown, what: string) => {
    let thrown: unknown;
    try {
      call();
    } catch (err) {
      thrown = err;
    }
    assert.ok(thrown instanceof RangeError, `${what}: ${String(thrown)}`);
  };
  const bad = (set: (s: Uint32Array) => void, what: string) => {
    const s = new Uint32Array(JPEG_SCAN.SIZE);
    set(s);
    rangeError(() => board.scanJpeg!(base, 0, 100, s), what);
  };
  bad((s) => (s[JPEG_SCAN.STATE] = 9), 'an unknown state');
  bad((s) => (s[JPEG_SCAN.HEAD_WANT] = 7), 'a capture past the record');
  bad((s) => ((s[JPEG_SCAN.HEAD_WANT] = 2), (s[JPEG_SCAN.HEAD_HAVE] = 3)), 'more captured than wanted');
  rangeError(() => board.scanJpeg!(base, 0, 100, new Uint32Array(JPEG_SCAN.SIZE - 1)), 'a short record');
  rangeError(() => board.scanJpeg!(base, 10, 5, new Uint32Array(JPEG_SCAN.SIZE)), 'a reversed range');
  rangeError(() => board.scanJpeg!(base, 0, base.length + 1, new Uint32Array(JPEG_SCAN.SIZE)), 'past the bytes');
});

test("pushJpeg without a batch (the board's read): the cursor committed as commit(n) does and the read scanned to the event, an image capped a slot from its start; bad counts refused untouched", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const random = prng(37);
  const pool = new FramePool({ slotCount: 2, slotBytes: 65536, maxFrames: 2, nalsPerFrame: 0 });
  const cursor = new StreamCursor(pool);
  const plain = new StreamCursor(pool);
  assert.is(cursor.prepare(), PREPARE.OK);
  assert.is(plain.prepare(), PREPARE.OK);
  const got = new JpegScanner(port);
  const want = new JpegScanner();
  const fields = (c: StreamCursor) => [c.targetOffset, c.targetSpace, c.position];
  const SLOT = 50000;
  const walk = new Float64Array(W.LENGTH);
  walk[W.SLOT_BYTES] = SLOT;
  let pos = 0;
  for (let k = 0; pos < 60000; k++) {
    const n = 1 + Math.floor(random() * 3000);
    const from = cursor.targetOffset;
    // Every third read inside an image whose cap falls inside it, at or before `from` now and then; else no cap.
    const stop = k % 3 === 0 ? from + Math.floor(random() * n) - (k % 9 === 0 ? 10 : 0) : from + n + 5;
    walk[W.ASSEMBLING] = k % 3 === 0 ? 1 : 0;
    walk[W.IMAGE_START] = stop + (cursor.position - from) - SLOT;
    const before = Array.from(walk);
    cursor.target.set(base.subarray(pos, pos + n), from);
    plain.target.set(base.subarray(pos, pos + n), from);
    const i = port.pushJpeg!(cursor, n, got.state, walk);
    assert.equal(Array.from(walk), before, 'without a batch the walk record is only read');
    plain.commit(n);
    const j = want.scan(plain.target, from, Math.min(from + n, Math.max(stop, from)));
    assert.equal([i, Array.from(got.state), fields(cursor)], [j, Array.from(want.state), fields(plain)], `read ${k} of ${n} bytes at ${from}, stop ${stop}`);
    // The rest of the read, as the reader goes on after an event.
    for (let r = j; r < from + n; ) {
      const a = got.scan(cursor.target, r, from + n);
      r = want.scan(plain.target, r, from + n);
      assert.equal([a, Array.from(got.state)], [r, Array.from(want.state)], `read ${k}: the scan after the event`);
    }
    pos += n;
  }
  const before = fields(cursor);
  const record = Array.from(got.state);
  walk[W.ASSEMBLING] = 0;
  for (const n of [0, -1, 1.5, Number.NaN, cursor.targetSpace + 1, '4' as unknown as number]) {
    assert.is(port.pushJpeg!(cursor, n, got.state, walk), -1, `n = ${String(n)}`);
  }
  assert.equal([fields(cursor), Array.from(got.state)], [before, record], 'nothing changed by a refused read');
  if (!board) return; // the record checks are the native's
  for (const [set, what] of [
    [(w: Float64Array) => (w[W.ASSEMBLING] = 2), 'assembling neither 0 nor 1'],
    [(w: Float64Array) => (w[W.SLOT_BYTES] = 0), 'no slot size'],
    [(w: Float64Array) => (w[W.BATCH] = -1), 'a negative batch'],
  ] as const) {
    const bad = new Float64Array(W.LENGTH);
    bad[W.SLOT_BYTES] = SLOT;
    set(bad);
    let thrown: unknown;
    try {
      board.pushJpeg!(cursor, 4, got.state, bad);
    } catch (err) {
      thrown = err;
    }
    assert.ok(thrown instanceof RangeError, `${what}: ${String(thrown)}`);
  }
  let short: unknown;
  try {
    board.pushJpeg!(cursor, 4, got.state, new Float64Array(W.LENGTH - 1));
  } catch (err) {
    short = err;
  }
  assert.ok(short instanceof RangeError, `a short walk record: ${String(short)}`);
  assert.equal([fields(cursor), Array.from(got.state)], [before, record], 'nothing changed by a refused record');
});

test("the reader with the board's scan: the images, errors and counters of the TypeScript scan, in reads of 1 B to 64 KiB, on damaged and cut copies", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const random = prng(22);
  const inputs: Uint8Array[] = [base, ...damagedCopies(base, 36, scaled(40))];
  for (const [k, data] of inputs.entries()) {
    for (const readSize of k === 0 ? (fullScale() ? [1, 7, 4096, 65536] : [4096, 65536]) : [1 + Math.floor(random() ** 3 * 65536)]) {
      for (const strict of [true, false]) {
        const want = run(data, { readSize, strict, byteScan: typescript });
        const got = run(data, { readSize, strict, byteScan: port });
        assert.equal(
          [got.frames.map((f) => Array.from(f)), got.formats, got.code, got.lastError, got.counters, got.frameTooLarge, got.poolFull],
          [want.frames.map((f) => Array.from(f)), want.formats, want.code, want.lastError, want.counters, want.frameTooLarge, want.poolFull],
          `input ${k} (${data.length} B), reads of ${readSize}, ${strict ? 'strict' : 'lenient'}`,
        );
      }
    }
  }
});

test("fillFrameRecord for images (the board's frame record), one image per call and in the walk's batch: every field and slot reference as the JS fill makes them, images across slots too", () => {
  const data = fixture('mjpeg-320x240-10fps.mjpeg');
  // Under Node the H.264 kit's TypeScript reference of the contract stands in for the board's records.c.
  const fillFrameRecord = board?.fillFrameRecord ?? referenceScanPort.fillFrameRecord!;
  // The walk's batch (pushJpeg with fillFrameRecord), counted; each image filled by its own call (no pushJpeg); JS.
  let completed = 0;
  const pushJpeg = port.pushJpeg!;
  const batched: ByteScanPort = {
    ...port,
    fillFrameRecord,
    pushJpeg: (cursor, n, state, walk, pool, batch) => {
      const i = pushJpeg(cursor, n, state, walk, pool, batch);
      completed += walk[W.BATCH]!;
      return i;
    },
  };
  const perImage: ByteScanPort = { ...port, fillFrameRecord, pushJpeg: undefined, readJpeg: undefined };
  const without: ByteScanPort = { ...port, fillFrameRecord: undefined };
  // Under QEMU (scaled runs) one configuration: images across slots at camera-sized reads.
  const configs = fullScale()
    ? ([
        [4096, 24 * 1024],
        [1000, 24 * 1024],
        [65536, 128 * 1024],
      ] as const)
    : ([[4096, 24 * 1024]] as const);
  for (const [readSize, slotBytes] of configs) {
    completed = 0;
    const runs = [batched, perImage, without].map((byteScan) => {
      const pool = new FramePool({ slotCount: 6, slotBytes, maxFrames: 4, nalsPerFrame: 0 });
      const records: string[] = [];
      let spanning = 0;
      const reader = new MjpegReader({
        pool,
        strict: false,
        byteScan,
        onFrame: (frame) => {
          if (frame.slotB) spanning++;
          records.push(frameRecord(frame, pool));
          dirtyFrame(frame);
          pool.freeFrame(frame);
        },
      });
      for (let pos = 0; pos < data.length; ) {
        assert.is(reader.prepare(), PREPARE.OK, 'pool has room');
        const n = Math.min(readSize, reader.cursor.targetSpace, data.length - pos);
        reader.cursor.target.set(data.subarray(pos, pos + n), reader.cursor.targetOffset);
        reader.push(n);
        pos += n;
      }
      reader.end();
      return { records, spanning, stats: JSON.stringify(pool.stats), frames: reader.counters.frames };
    });
    const what = `reads of ${readSize}, slots of ${slotBytes}`;
    const [batch, single, js] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    assert.ok(single.records.length > 10, `${what}: images`);
    assert.equal(single.records, js.records, `${what}: one fill per image`);
    assert.is(single.stats, js.stats, `${what}: pool`);
    // A batch's records are all taken before the first is handed out, so the slots' references at each callback
    // differ; the records themselves and the pool at the end may not.
    const ownFields = (r: string) => JSON.stringify((JSON.parse(r) as unknown[]).slice(0, 4));
    assert.equal(batch.records.map(ownFields), js.records.map(ownFields), `${what}: the walk's batch`);
    const inUse = (stats: string) => JSON.stringify((({ slotsInUse, framesInUse }) => [slotsInUse, framesInUse])(JSON.parse(stats) as Record<string, number>));
    assert.equal([inUse(batch.stats), batch.frames], [inUse(js.stats), js.frames], `${what}: the walk's batch, pool and counter`);
    // (A read of many images completes at most a batch of them, maxFrames 4 here; the reader's own loop takes the rest.)
    const least = readSize <= 4096 ? js.records.length / 2 : 4;
    assert.ok(completed >= least, `${what}: the walk completed ${completed} of ${js.records.length} images`);
    if (slotBytes < 65536) assert.ok(single.spanning > 0 && batch.spanning > 0, `${what}: some images span two slots`);
  }
});

test("the walk's batch: a callback that throws ends the reader, and the records not handed out go back to the pool", () => {
  const data = fixture('mjpeg-320x240-10fps.mjpeg');
  const byteScan: ByteScanPort = { ...port, fillFrameRecord: board?.fillFrameRecord ?? referenceScanPort.fillFrameRecord! };
  const pool = new FramePool({ slotCount: 4, slotBytes: 65536, maxFrames: 8, nalsPerFrame: 0 });
  let calls = 0;
  const reader = new MjpegReader({
    pool,
    byteScan,
    onFrame: (frame) => {
      pool.freeFrame(frame);
      if (++calls === 3) throw new Error('consumer failed');
    },
  });
  // The first image is the reader's own (its size is announced), then one read of ~10 images: the walk completes 8
  // (every free record) and the third callback, for the second of them, throws.
  const push = (from: number, to: number) => {
    assert.is(reader.prepare(), PREPARE.OK);
    reader.cursor.target.set(data.subarray(from, to), reader.cursor.targetOffset);
    reader.push(to - from);
  };
  push(0, 6000);
  assert.equal([calls, pool.stats.framesHighWater], [1, 1], 'the first image');
  let thrown: unknown;
  try {
    push(6000, 60000);
  } catch (err) {
    thrown = err;
  }
  assert.is((thrown as Error | undefined)?.message, 'consumer failed');
  assert.equal([calls, reader.counters.frames], [3, 3], 'no callback after the one that threw');
  assert.is(pool.stats.framesHighWater, 8, 'the walk took every free record');
  assert.equal([pool.stats.framesInUse, pool.stats.slotsInUse], [0, 0], 'every record back, every slot free');
});

test.run();
