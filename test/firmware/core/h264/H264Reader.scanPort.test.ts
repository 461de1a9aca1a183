// The H.264 reader with the board's start-code scan (ByteScanPort.findStartCodes: the C host's word-at-a-time
// scan inside XS, natively and under qemu-arm; a plain reference under Node), with the board's NAL walk
// (ByteScanPort.classifyNals, scan.c) and with the board's access-unit walk (ByteScanPort.closeAccessUnit,
// accessunits.c) against the reader's own JS loop: the same frame records (NAL offsets, lengths, prefixes, types,
// bytes), the same errors, the same drops, on every fixture, on fuzzed and cut copies, at read sizes from 1 byte
// to 64 KiB.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { BitReader } from '../../../../firmware/core/h264/BitReader.ts';
import { SliceHeader } from '../../../../firmware/core/h264/SliceHeader.ts';
import { PREPARE, StreamCursor } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, scaled, suite } from '../../../harness/index.ts';
import { AU_WALK } from '../../../../firmware/core/h264/accessUnitWalk.ts';
import { prng, readH264, referenceClassifyNals, referenceCloseAccessUnit, referencePushAccessUnits, referenceScanPort } from './h264TestKit.ts';
import { dirtyFrame, frameRecord } from '../media/frameRecordKit.ts';

const test = suite('h264/H264Reader with the board scan');

const port: ByteScanPort = boardByteScan() ?? referenceScanPort;
/** The same port without the NAL walk: the reader's scanner loop over the board's start-code search. */
const scanOnly: ByteScanPort = { indexOfByte: port.indexOfByte, findStartCodes: port.findStartCodes! };
/** The same port without the access-unit walk: the NAL walk (classifyNals) and the scanner loop. */
const nalWalk: ByteScanPort = { indexOfByte: port.indexOfByte, findStartCodes: port.findStartCodes!, classifyNals: port.classifyNals! };
/** The same port without fillFrameRecord: the reader fills each frame record in JS (cursor.fillFrame, copyNalTable). */
const jsRecords: ByteScanPort = { ...port, fillFrameRecord: undefined };
/**
 * The same port with the walk's own completion off (no cursor, pool and batch passed on): every complete access unit
 * goes back to the reader's closedAu (AU_WALK.FRAME), one per call, as before the batch existed.
 */
const oneByOne: ByteScanPort = {
  ...port,
  closeAccessUnit: (bytes, from, to, base, state, table, sps, pps) => port.closeAccessUnit!(bytes, from, to, base, state, table, sps, pps),
  pushAccessUnits: (cursor, n, state, table, sps, pps) => port.pushAccessUnits!(cursor, n, state, table, sps, pps),
};

/** Everything the reader delivers or throws, as comparable data. */
function outcome(data: Uint8Array, strict: boolean, reads: number | ((i: number) => number), byteScan?: ByteScanPort): unknown {
  try {
    const r = readH264(data, { strict, reads, slotBytes: 65536 * 2, ...(byteScan ? { byteScan } : {}) });
    // Not framesHighWater: the walk's batch holds several records at once before the reader hands them out.
    const { slotsInUse, slotHighWater, framesInUse } = r.pool.stats;
    const pool = { slotsInUse, slotHighWater, framesInUse, free: r.pool.freeFrameCount, drops: r.pool.drops };
    return { frames: r.frames, pool, corrupt: r.reader.corruptDrops, last: r.reader.lastError?.message };
  } catch (err) {
    if (!(err instanceof FieldcamError)) throw err;
    return { code: err.code, message: err.message };
  }
}

const FIXTURES = ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264', 'h264-bframes.h264'];

test('every fixture, strict and lenient, in reads of 1 B to 64 KiB: identical frame records and errors', () => {
  for (const name of FIXTURES) {
    const data = fixture(name);
    for (const reads of fullScale() ? [1, 3, 4096, 65536] : [4096, 65536]) {
      if (reads === 1 && data.length > 30000) continue; // byte at a time costs minutes under QEMU and adds nothing here
      for (const strict of [true, false]) {
        const want = outcome(data, strict, reads);
        assert.equal(outcome(data, strict, reads, port), want, `${name}, reads of ${reads}, ${strict ? 'strict' : 'lenient'}`);
        assert.equal(outcome(data, strict, reads, oneByOne), want, `${name}, reads of ${reads}, ${strict ? 'strict' : 'lenient'}, one by one`);
        assert.equal(outcome(data, strict, reads, nalWalk), want, `${name}, reads of ${reads}, ${strict ? 'strict' : 'lenient'}, NAL walk`);
        assert.equal(outcome(data, strict, reads, scanOnly), want, `${name}, reads of ${reads}, ${strict ? 'strict' : 'lenient'}, scan only`);
      }
    }
  }
});

test('fuzzed and cut copies of the fixtures, irregular reads: identical outcomes', () => {
  const random = prng(12);
  const bases = FIXTURES.slice(0, 3).map((name) => fixture(name));
  for (let i = 0; i < scaled(120); i++) {
    const base = bases[i % bases.length]!;
    let data: Uint8Array = base.slice(0, 1 + Math.floor(random() * base.length)); // cut anywhere
    for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
      const at = Math.floor(random() * data.length);
      const kind = Math.floor(random() * 3);
      if (kind === 0) data[at] = Math.floor(random() * 256);
      else if (kind === 1)
        data[at] = random() < 0.5 ? 0 : 1; // plant start-code material
      else data = data.slice(0, at); // cut again
    }
    const sizes = Array.from({ length: 16 }, () => 1 + Math.floor(random() ** 4 * 65536));
    const reads = (index: number) => sizes[index % sizes.length]!;
    for (const strict of [true, false]) {
      const want = outcome(data, strict, reads);
      assert.equal(outcome(data, strict, reads, port), want, `case ${i}, ${data.length} B, ${strict ? 'strict' : 'lenient'}`);
      assert.equal(outcome(data, strict, reads, oneByOne), want, `case ${i}, ${data.length} B, ${strict ? 'strict' : 'lenient'}, one by one`);
      assert.equal(outcome(data, strict, reads, nalWalk), want, `case ${i}, ${data.length} B, ${strict ? 'strict' : 'lenient'}, NAL walk`);
      assert.equal(outcome(data, strict, reads, scanOnly), want, `case ${i}, ${data.length} B, ${strict ? 'strict' : 'lenient'}, scan only`);
    }
  }
});

test("classifyNals (the board's NAL walk): the reference's records at every alignment, range, carried zeros and table size", () => {
  const random = prng(21);
  const noise = new Uint8Array(3000);
  for (let i = 0; i < noise.length; i++) noise[i] = random() < 0.3 ? 0 : random() < 0.15 ? 1 : random() < 0.2 ? 0x80 : Math.floor(random() * 256);
  const inputs = [
    noise,
    fixture('h264-aud-sei-3byte.h264').subarray(0, 5000),
    new Uint8Array(200),
    new Uint8Array([0, 0, 1, 0x65, 0x88, 0, 0, 0, 1, 0x41, 0x9a, 0, 0, 1, 9, 0x10, 0, 0, 1, 0x41]),
    new Uint8Array([1, 0x41, 0x80]),
    new Uint8Array([0, 1, 0x67]),
    new Uint8Array(0),
  ];
  for (const data of inputs) {
    for (let shift = 0; shift < 4; shift++) {
      const buffer = new Uint8Array(data.length + 8);
      buffer.set(data, shift);
      for (let trial = 0; trial < scaled(10); trial++) {
        const from = trial === 0 ? shift : shift + Math.floor(random() * (data.length + 1));
        const to = trial === 0 ? shift + data.length : from + Math.floor(random() * (shift + data.length - from + 1));
        const zeros = [0, 1, 2, 3, 7][trial % 5]!;
        for (const records of [1, 3, 16]) {
          for (const hasVcl of [false, true]) {
            const got = new Uint32Array(1 + 4 * records).fill(7);
            const want = new Uint32Array(1 + 4 * records).fill(7);
            const n = port.classifyNals!(buffer, from, to, zeros, hasVcl, got);
            const m = referenceClassifyNals(buffer, from, to, zeros, hasVcl, want);
            const what = `${data.length} B at +${shift}, ${from}..${to}, ${zeros} zeros, ${records} records, hasVcl ${hasVcl}`;
            assert.is(n, m, what);
            assert.equal(Array.from(got.subarray(1, 1 + 4 * n)), Array.from(want.subarray(1, 1 + 4 * n)), what);
            const complete = n < records && (n === 0 || want[4 * n - 1] !== 255);
            if (complete) assert.is(got[0], want[0], `${what}: zeros at the end`);
          }
        }
      }
    }
  }
});

test("fillFrameRecord (the board's frame record): every field and slot reference as the JS fill makes them, frames across slots too", () => {
  for (const name of FIXTURES) {
    const data = fixture(name);
    // 48 KiB slots: frames begin in one slot's tail and go on in the next (piece B).
    // Under QEMU (scaled runs) one configuration: frames across slots at camera-sized reads.
    const configs = fullScale()
      ? ([
          [4096, 48 * 1024],
          [1000, 48 * 1024],
          [65536, 256 * 1024],
        ] as const)
      : ([[4096, 48 * 1024]] as const);
    for (const [reads, slotBytes] of configs) {
      // One by one: with the walk's batch, more records hold the slots while the first is handed out (the batch's own
      // test compares those records without the slots' counts).
      const runs = [oneByOne, jsRecords].map((byteScan) => {
        const records: string[] = [];
        let spanning = 0;
        const r = readH264(data, {
          reads,
          slotBytes,
          slotCount: 6,
          byteScan,
          strict: false,
          onFrame(frame, pool) {
            if (frame.slotB) spanning++;
            records.push(frameRecord(frame, pool));
            dirtyFrame(frame);
            pool.freeFrame(frame);
          },
        });
        return { records, spanning, stats: JSON.stringify(r.pool.stats) };
      });
      const what = `${name}, reads of ${reads}, slots of ${slotBytes}`;
      assert.ok(runs[0]!.records.length > 0, `${what}: frames`);
      assert.equal(runs[0]!.records, runs[1]!.records, what);
      assert.is(runs[0]!.stats, runs[1]!.stats, `${what}: pool`);
      if (slotBytes < 65536 && data.length > 4 * slotBytes) assert.ok(runs[0]!.spanning > 0, `${what}: some frames span two slots`);
    }
  }
});

test('closeAccessUnit carries the steady state: most frames of every fixture are completed by it in camera-sized reads', () => {
  // (Tiny reads are the NAL walk's: a start code whose header byte is not in the same read is always handed over.)
  for (const name of ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264']) {
    const data = fixture(name);
    for (const reads of [1024, 4096, 65536]) {
      const results = [0, 0, 0, 0];
      let completed = 0; // records the walk filled itself (AU_WALK.CLOSE)
      const count = (state: Float64Array, before: number, result: number) => {
        if (result >= 0) results[result]!++;
        completed += (state[AU_WALK.BATCH] as number) - before;
        return result;
      };
      const counting: ByteScanPort = {
        ...port,
        closeAccessUnit(bytes, from, to, base, state, table, sps, pps, cursor, pool, batch) {
          const before = state[AU_WALK.BATCH] as number;
          return count(state, before, port.closeAccessUnit!(bytes, from, to, base, state, table, sps, pps, cursor, pool, batch));
        },
        // The steady-state read (commit and walk in one call) counts the same way.
        ...(port.pushAccessUnits
          ? {
              pushAccessUnits(cursor, n, state, table, sps, pps, pool, batch) {
                const before = state[AU_WALK.BATCH] as number;
                return count(state, before, port.pushAccessUnits!(cursor, n, state, table, sps, pps, pool, batch));
              },
            }
          : {}),
      };
      const r = readH264(data, { reads, slotBytes: 65536 * 2, byteScan: counting });
      const frames = r.frames.length;
      // Every access unit but the first (begun by the NAL walk), the key frames' whose parameter sets are announced
      // (none here after the first) and the last (closed by end()) can be completed in C; a slot change or a start
      // code cut by a read's end hands one over now and then, and a read that completes more access units than the
      // pool has free records (8 here) returns the next one to the reader.
      const what = `${name}, reads of ${reads}: ${frames} frames, ${completed} completed in C, ${results[AU_WALK.FRAME]} returned, ${results[AU_WALK.HANDOVER]} handed over`;
      assert.ok(completed + results[AU_WALK.FRAME]! >= frames * 0.8, what);
      assert.ok(completed >= frames * (reads > 4096 ? 0.6 : 0.8), what);
      assert.ok(results[AU_WALK.HANDOVER]! <= 1 + frames * 0.2, what);
    }
  }
});

test("closeAccessUnit reads a NAL unit begun in the cursor's previous slot: a slot change hands nothing over", () => {
  // A frame read across two slots has its slices' first bytes in the older slot; the walk reads them there (as the
  // reader's cursor.byteAt does) instead of handing the start code over. So small slots (a slot change every few
  // frames) cost no more hand-overs than slots the whole clip fits in, and give the same records.
  for (const name of ['h264-320x240-10fps-gop10.h264', 'h264-1080p-30fps.h264']) {
    const data = fixture(name);
    const handovers = (slotBytes: number) => {
      let n = 0;
      const counting: ByteScanPort = {
        ...port,
        closeAccessUnit(bytes, from, to, base, state, table, sps, pps, cursor, pool, batch) {
          const result = port.closeAccessUnit!(bytes, from, to, base, state, table, sps, pps, cursor, pool, batch);
          if (result === AU_WALK.HANDOVER) n++;
          return result;
        },
        ...(port.pushAccessUnits
          ? {
              pushAccessUnits(cursor, n2, state, table, sps, pps, pool, batch) {
                const result = port.pushAccessUnits!(cursor, n2, state, table, sps, pps, pool, batch);
                if (result === AU_WALK.HANDOVER) n++;
                return result;
              },
            }
          : {}),
      };
      const r = readH264(data, { reads: 4096, slotBytes, slotCount: 4, byteScan: counting });
      return { handovers: n, frames: r.frames };
    };
    const whole = handovers(2 * data.length);
    // Slots of about four frames each (room for the largest and a 4 KiB read), so most slot changes fall inside a frame.
    const largest = Math.max(...whole.frames.map((f) => f.size));
    const small = Math.max(4096 + largest, 4 * Math.ceil(data.length / whole.frames.length));
    const split = handovers(small);
    const what = `${name}: ${whole.handovers} hand-overs in one slot, ${split.handovers} in ${small}-byte slots (${Math.ceil(data.length / small)} slot changes)`;
    assert.ok(data.length / small >= 2, `${what}: the clip spans several slots`);
    assert.equal(split.frames, whole.frames, `${what}: records`);
    assert.is(split.handovers, whole.handovers, what);
  }
});

test("closeAccessUnit: the reference's results, state and table from random states over fixtures and noise", () => {
  const random = prng(31);
  const clip = fixture('h264-aud-sei-3byte.h264');
  const noise = new Uint8Array(3000);
  for (let i = 0; i < noise.length; i++) noise[i] = random() < 0.3 ? 0 : random() < 0.15 ? 1 : random() < 0.2 ? 0x80 : Math.floor(random() * 256);
  // Parameter sets: the fixture's own (found by the reader) or a few random bytes.
  const ps = readH264(clip).parameterSets[0]!;
  for (let trial = 0; trial < scaled(3000); trial++) {
    const source = trial % 3 === 0 ? noise : clip;
    const shift = trial % 4;
    const length = 1 + Math.floor(random() * Math.min(source.length, 9000));
    const start = Math.floor(random() * (source.length - length + 1));
    const buffer = new Uint8Array(length + 8);
    buffer.set(source.subarray(start, start + length), shift);
    const from = shift + Math.floor(random() * (length + 1));
    const to = from + Math.floor(random() * (shift + length - from + 1));
    const base = Math.floor(random() * 1e6) * (trial % 5 === 0 ? 1e6 : 1);
    const state = new Float64Array(AU_WALK.LENGTH);
    state[AU_WALK.ZEROS] = [0, 0, 1, 2, 3, 5][trial % 6]!;
    const header = base + Math.floor(random() * (from + 1)) - (trial % 7 === 0 ? 8 : 0);
    state[AU_WALK.NAL_START] = header - 4;
    state[AU_WALK.NAL_HEADER] = header;
    state[AU_WALK.NAL_PREFIX] = 3 + (trial & 1);
    state[AU_WALK.NAL_TYPE] = [1, 5, 6, 7, 8, 9, 12, 0][Math.floor(random() * 8)]!;
    state[AU_WALK.AU_END] = header - 4;
    state[AU_WALK.AU_START] = header - 4 - Math.floor(random() * 3000);
    state[AU_WALK.AU_COUNT] = random() < 0.1 ? 32 : Math.floor(random() * 31);
    state[AU_WALK.AU_HAS_VCL] = random() < 0.5 ? 1 : 0;
    state[AU_WALK.AU_KEY] = random() < 0.5 ? 1 : 0;
    state[AU_WALK.PIC_SIZE] = random() < 0.1 ? 0 : random() < 0.5 ? ps.sps.picSizeInMbs : 1 + Math.floor(random() * 8000);
    state[AU_WALK.PPS_ID] = random() < 0.8 ? 0 : Math.floor(random() * 4);
    const sps = random() < 0.8 ? ps.spsBytes : random() < 0.5 ? new Uint8Array(0) : ps.spsBytes.subarray(0, ps.spsBytes.length - 1);
    const pps = random() < 0.8 ? ps.ppsBytes : new Uint8Array([0x68, 0xff]);
    const gotState = state.slice();
    const wantState = state.slice();
    const gotTable = new Float64Array(128).fill(-1);
    const wantTable = new Float64Array(128).fill(-1);
    const what = `trial ${trial}: ${length} B at +${shift}, ${from}..${to}, base ${base}, state ${Array.from(state).join(',')}`;
    // Like the reader, go on after each access unit until the read is walked or handed over.
    for (let at = from, calls = 0; ; calls++) {
      const got = port.closeAccessUnit!(buffer, at, to, base, gotState, gotTable, sps, pps);
      const want = referenceCloseAccessUnit(buffer, at, to, base, wantState, wantTable, sps, pps);
      assert.is(got, want, `${what}, call ${calls}`);
      assert.equal(Array.from(gotState), Array.from(wantState), `${what}, call ${calls}: state`);
      assert.equal(Array.from(gotTable), Array.from(wantTable), `${what}, call ${calls}: table`);
      if (got !== AU_WALK.FRAME) break;
      at = (gotState[AU_WALK.STOP] as number) + 1;
      // The walk began the next access unit itself (AU_START = its start code, count 0, no slice yet).
      assert.is(gotState[AU_WALK.AU_COUNT], 0, `${what}, call ${calls}: next access unit begun`);
      assert.is(gotState[AU_WALK.AU_START], gotState[AU_WALK.NAL_START], `${what}, call ${calls}: next access unit's start`);
      assert.is(gotState[AU_WALK.ZEROS], 0, `${what}, call ${calls}: no zeros carried past the 01`);
    }
  }
});

test("pushAccessUnits: the cursor's commit and the reference walk, from random states; reads it does not take leave everything as it was", () => {
  const random = prng(37);
  const clip = fixture('h264-aud-sei-3byte.h264');
  const ps = readH264(clip).parameterSets[0]!;
  for (let trial = 0; trial < scaled(600); trial++) {
    const slotBytes = 64 + Math.floor(random() * 9000);
    const pools = [0, 1].map(() => new FramePool({ slotCount: 2, slotBytes, maxFrames: 2 }));
    const cursors = pools.map((pool) => new StreamCursor(pool));
    // The same bytes before the read in both cursors' slots (earlier reads), then one read of n.
    const before = Math.floor(random() * slotBytes);
    const start = Math.floor(random() * (clip.length - slotBytes));
    for (const c of cursors) {
      assert.is(c.prepare(), PREPARE.OK);
      c.target.set(clip.subarray(start, start + slotBytes));
      if (before > 0) c.commit(before);
    }
    const space = cursors[0]!.targetSpace;
    const n = trial % 10 === 0 ? [0, space + 1, 1.5, Number.NaN, -1][trial % 5]! : 1 + Math.floor(random() * space);
    const state = new Float64Array(AU_WALK.LENGTH);
    const base = before; // the cursor's logical offset of target[0] is 0
    state[AU_WALK.ZEROS] = [0, 0, 1, 2, 3][trial % 5]!;
    const header = Math.floor(random() * (before + 1));
    state[AU_WALK.NAL_START] = header - 4;
    state[AU_WALK.NAL_HEADER] = header;
    state[AU_WALK.NAL_PREFIX] = 4;
    state[AU_WALK.NAL_TYPE] = [1, 5, 6, 7, 8, 9][Math.floor(random() * 6)]!;
    state[AU_WALK.AU_START] = header - 4;
    state[AU_WALK.AU_END] = header - 4;
    state[AU_WALK.AU_HAS_VCL] = random() < 0.5 ? 1 : 0;
    state[AU_WALK.PIC_SIZE] = ps.sps.picSizeInMbs;
    state[AU_WALK.PPS_ID] = 0;
    const states = [state.slice(), state.slice()];
    const tables = [new Float64Array(128).fill(-1), new Float64Array(128).fill(-1)];
    const got = port.pushAccessUnits!(cursors[0]!, n, states[0]!, tables[0]!, ps.spsBytes, ps.ppsBytes);
    const want = referencePushAccessUnits(cursors[1]!, n, states[1]!, tables[1]!, ps.spsBytes, ps.ppsBytes);
    const what = `trial ${trial}: slot ${slotBytes}, ${before} B before, n ${n}, base ${base}`;
    assert.is(got, want, what);
    assert.equal(Array.from(states[0]!), Array.from(states[1]!), `${what}: state`);
    assert.equal(Array.from(tables[0]!), Array.from(tables[1]!), `${what}: table`);
    for (const field of ['targetOffset', 'targetSpace', 'position'] as const) assert.is(cursors[0]![field], cursors[1]![field], `${what}: ${field}`);
    if (got < 0) {
      assert.is(cursors[0]!.position, before, `${what}: not taken, not committed`);
      assert.equal(Array.from(states[0]!), Array.from(state), `${what}: not taken, state as it was`);
    } else {
      assert.is(cursors[0]!.position, before + n, `${what}: committed`);
    }
  }
});

test("SliceHeader: the fields read from one 32-bit word are the bit reader's, for every kind of first bytes", () => {
  const random = prng(13);
  const header = new SliceHeader();
  const bits = new BitReader();
  for (let i = 0; i < scaled(20000); i++) {
    const length = 2 + Math.floor(random() * 8);
    const nal = new Uint8Array(length);
    for (let k = 0; k < length; k++) nal[k] = random() < 0.2 ? 0 : random() < 0.1 ? 3 : Math.floor(random() * 256);
    const source = {
      byteAt: (at: number) => nal[at] as number,
      wordAt: (at: number) => ((nal[at]! << 24) | (nal[at + 1]! << 16) | (nal[at + 2]! << 8) | nal[at + 3]!) >>> 0,
    };
    let want: unknown;
    try {
      const r = bits.reset(nal, 1, Math.min(length - 1, 32), 'slice header', 'H264_SLICE_INVALID');
      want = [r.ue(), r.ue(), r.ue()];
    } catch (err) {
      want = (err as FieldcamError).message;
    }
    let got: unknown;
    try {
      header.read(source, 0, length);
      got = [header.firstMbInSlice, header.sliceType, header.ppsId];
    } catch (err) {
      got = (err as FieldcamError).message;
    }
    assert.equal(got, want, Array.from(nal).join(' '));
  }
});

test('StreamCursor.wordAt: the four bytes byteAt reads, inside a slot and across two', () => {
  const pool = new FramePool({ slotCount: 4, slotBytes: 16, maxFrames: 4 });
  const cursor = new StreamCursor(pool);
  const random = prng(7);
  for (let filled = 0; filled < 28; ) {
    assert.equal(cursor.prepare(), PREPARE.OK);
    const n = Math.min(5, cursor.targetSpace);
    for (let k = 0; k < n; k++) cursor.target[cursor.targetOffset + k] = Math.floor(random() * 256);
    cursor.commit(n);
    filled += n;
    cursor.keepFrom = cursor.position - 20 > 0 ? cursor.position - 20 : 0;
    for (let at = cursor.position - 20 > 0 ? cursor.position - 20 : 0; at + 4 <= cursor.position; at++) {
      const want = ((cursor.byteAt(at) << 24) | (cursor.byteAt(at + 1) << 16) | (cursor.byteAt(at + 2) << 8) | cursor.byteAt(at + 3)) >>> 0;
      assert.equal(cursor.wordAt(at), want, `offset ${at}, position ${cursor.position}`);
    }
  }
});

test.run();
