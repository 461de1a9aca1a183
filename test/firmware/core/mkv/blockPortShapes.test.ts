// The native block writer (block.c) finds a frame's and a view list's fields through fields.c's shape cache: per
// call site, the positions where the fields were last time, checked by ID on the next call, with the full search
// on any difference. Objects of other shapes through the same call sites (fields in another order, an extra field
// in front, a field deleted and added back at the end), alternating with the core's own Frame and ViewList, must
// give exactly what the core's objects give, and a missing field its TypeError, never a read of another slot.
// Only the XS board has the native; under Node there is nothing of this to test.
import { Frame } from '../../../../firmware/core/media/Frame.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { BLOCK_STATE } from '../../../../firmware/core/mkv/blockState.ts';
import { Slot } from '../../../../firmware/core/pool/Slot.ts';
import { assert, boardMkvBlock, suite } from '../../../harness/index.ts';

const test = suite('MkvWriter block port: field shapes');
const port = boardMkvBlock();

/** A frame of 40 payload bytes: 30 in slot 0 from offset 10, 10 in slot 1 from 0; two NAL units. */
function frame(): Frame {
  const f = new Frame(4);
  const a = new Slot(
    0,
    Uint8Array.from({ length: 64 }, (_, i) => i),
  );
  const b = new Slot(
    1,
    Uint8Array.from({ length: 64 }, (_, i) => 200 - i),
  );
  f.slotA = a;
  f.startA = 10;
  f.endA = 40;
  f.slotB = b;
  f.startB = 0;
  f.endB = 10;
  f.pts = 1000;
  f.dts = 1000;
  f.duration = 100;
  f.key = true;
  f.nalCount = 2;
  f.nalOffset.set([4, 24]);
  f.nalLength.set([16, 16]);
  f.nalPrefix.set([4, 4]);
  f.nalType.set([5, 5]);
  return f;
}

/** The frame's own fields as a plain object, in reverse order (other positions, same values). */
function reversed(f: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(f).reverse()) out[key] = (f as unknown as Record<string, unknown>)[key];
  return out;
}

/** pushBlock's outcome on a fresh list: the ranges, the header and the result, as comparable data. */
function push(f: object, list?: object): unknown {
  const out = new ViewList(16);
  const header = Uint8Array.of(0xa3, 0, 0, 0, 0, 0x81, 0, 0, 0);
  const target = list ?? out;
  const written = port!.pushBlock(f as Frame, target as ViewList, header, 7, null);
  const l = target as ViewList;
  return {
    written,
    header: Array.from(header),
    count: l.count,
    byteLength: l.byteLength,
    offsets: Array.from(l.offsets.subarray(0, l.count)),
    lengths: Array.from(l.lengths.subarray(0, l.count)),
    sources: l.sources.slice(0, l.count).map((s) => s.byteLength),
  };
}

test('frames of other shapes through the same call site give what the core Frame gives', () => {
  if (!port) return;
  const f = frame();
  const want = push(f);
  assert.equal((want as { count: number }).count, 3, 'header and two pieces');
  for (let round = 0; round < 3; round++) {
    assert.equal(push(f), want, `Frame, round ${round}`);
    assert.equal(push(reversed(f)), want, `reversed fields, round ${round}`);
    assert.equal(push({ extra: 1, another: 'x', ...reversed(f) }), want, `two fields in front, round ${round}`);
    assert.equal(push(Object.assign(Object.create({ key: false }), f)), want, `own fields over an inherited key, round ${round}`);
  }
});

test('a field deleted is a TypeError at the same call site; added back at the end it is found again', () => {
  if (!port) return;
  const f = frame();
  const want = push(f);
  const copy = reversed(f);
  assert.equal(push(copy), want, 'the copy, recorded');
  delete copy.key;
  assert.throws(() => push(copy), /frame\.key must be a boolean/);
  assert.equal(push(f), want, 'the Frame after the miss');
  copy.key = true;
  assert.equal(push(copy), want, 'key added back at the end');
  delete copy.startA;
  assert.throws(() => push(copy), /must be a number/);
  copy.startA = 10;
  assert.equal(push(copy), want, 'startA added back');
  // Same positions, another field: `endA` replaced by `endX` where it was is no endA.
  const renamed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(reversed(f))) renamed[k === 'endA' ? 'endX' : k] = v;
  assert.equal(push(reversed(f)), want);
  assert.throws(() => push(renamed), /must be a number/);
  // A value changed in place keeps the shape and is read anew.
  const g = frame();
  g.key = false;
  assert.equal((push(g) as { header: number[] }).header[8], 0, 'key flag cleared');
  g.key = true;
  assert.equal(push(g), want);
});

test('view lists of other shapes (mkvBlock) and frames through writeBlock alternate with the core objects', () => {
  if (!port) return;
  const f = frame();
  const want = push(f);
  for (let round = 0; round < 3; round++) {
    const core = new ViewList(16);
    const plain = { byteLength: 0, count: 0, lengths: new Uint32Array(16), offsets: new Uint32Array(16), sources: new Array(16).fill(null), capacity: 16 };
    assert.equal(push(f, core), want, `ViewList, round ${round}`);
    assert.equal(push(reversed(f), plain), want, `plain list in another order, round ${round}`);
  }
  // writeBlock finds the frame's fields once for its checks and the block: the same for every shape.
  const write = (g: object) => {
    const state = new Float64Array(BLOCK_STATE.LENGTH);
    state[BLOCK_STATE.CLUSTER] = 990;
    state[BLOCK_STATE.MAX_MS] = 10_000;
    state[BLOCK_STATE.MAX_BYTES] = 1 << 20;
    state[BLOCK_STATE.OPEN] = 1;
    const out = new ViewList(16);
    const header = Uint8Array.of(0xa3, 0, 0, 0, 0, 0x81, 0, 0, 0);
    const written = port.writeBlock!(g as Frame, out, header, null, state);
    return { written, header: Array.from(header), state: Array.from(state), count: out.count };
  };
  const wantWrite = write(f);
  assert.ok(wantWrite.written > 0, 'written');
  for (let round = 0; round < 3; round++) {
    assert.equal(write(reversed(f)), wantWrite, `reversed, round ${round}`);
    assert.equal(write(f), wantWrite, `Frame, round ${round}`);
    const late = reversed(f);
    late.pts = 5000; // 4010 ms after the cluster: still within the 10 s limit, another relative timecode
    late.dts = 5000; // the first block of a cluster wants pts === dts
    assert.is((write(late).header as number[])[7], (5000 - 990) & 0xff, 'pts read from the new shape');
  }
});

test.run();
