// The board's access-unit walk completing access units itself (AU_WALK.CLOSE; accessunits.c with records.c inside
// XS, natively and under qemu-arm; the reference port under Node): several frames per native call, handed to onFrame
// in one loop, against the same port returning every access unit to the reader's closedAu one by one. The records
// (every field), seqs, parameter-set announcements and drops must be the same, at read sizes from 1 byte to 64 KiB,
// through a drop and the key frame it waits for, a parameter-set change, a pool with no free record, and a callback
// that throws in the middle of a batch.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { AU_WALK } from '../../../../firmware/core/h264/accessUnitWalk.ts';
import { H264Reader } from '../../../../firmware/core/h264/H264Reader.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, suite } from '../../../harness/index.ts';
import { dirtyFrame, frameRecord } from '../media/frameRecordKit.ts';
import { concat, referenceScanPort } from './h264TestKit.ts';

const test = suite('h264/H264Reader with the walk completing access units (batch)');

const board: ByteScanPort = boardByteScan() ?? referenceScanPort;

/** What a port's walk did: records it completed itself, the largest batch of one call, the calls. */
interface WalkCounts {
  completed: number;
  largest: number;
  calls: number;
  /** The batch size after the last call (what the reader is handing out now). */
  last: number;
}

/** The board's port, counting what its walk completes (`batch`: cursor, pool and batch passed on, or not). */
function counted(batch: boolean): { port: ByteScanPort; counts: WalkCounts } {
  const counts: WalkCounts = { completed: 0, largest: 0, calls: 0, last: 0 };
  const note = (state: Float64Array, before: number, result: number) => {
    const n = state[AU_WALK.BATCH] as number;
    counts.calls++;
    counts.completed += n - before;
    counts.last = n;
    if (n > counts.largest) counts.largest = n;
    return result;
  };
  const port: ByteScanPort = {
    ...board,
    closeAccessUnit(bytes, from, to, base, state, table, sps, pps, cursor, pool, list) {
      const before = state[AU_WALK.BATCH] as number;
      const result = batch
        ? board.closeAccessUnit!(bytes, from, to, base, state, table, sps, pps, cursor, pool, list)
        : board.closeAccessUnit!(bytes, from, to, base, state, table, sps, pps);
      return note(state, before, result);
    },
    pushAccessUnits(cursor, n, state, table, sps, pps, pool, list) {
      const before = state[AU_WALK.BATCH] as number;
      const result = batch ? board.pushAccessUnits!(cursor, n, state, table, sps, pps, pool, list) : board.pushAccessUnits!(cursor, n, state, table, sps, pps);
      return note(state, before, result);
    },
  };
  return { port, counts };
}

interface Drive {
  readonly reads: number;
  readonly strict?: boolean;
  readonly maxFrames?: number;
  readonly slotBytes?: number;
  /** Called with each frame after it is recorded; owns it (default: frees it). */
  readonly onFrame?: (frame: Frame, pool: FramePool, index: number) => void;
  /** Called before each read (the reader is READY). */
  readonly beforeRead?: (reader: H264Reader, index: number) => void;
}

/** Everything a run delivers, in order: each frame record (every field, no slot counts) and each parameter-set announcement. */
function drive(data: Uint8Array, byteScan: ByteScanPort, o: Drive): { events: string[]; pool: FramePool; reader: H264Reader; error?: unknown } {
  const pool = new FramePool({ slotCount: 4, slotBytes: o.slotBytes ?? 65536 * 2, maxFrames: o.maxFrames ?? 8 });
  const events: string[] = [];
  let frames = 0;
  const reader = new H264Reader({
    pool,
    strict: o.strict ?? true,
    byteScan,
    onFrame(frame) {
      // frameRecord's last entry is every slot's references, which the batch's records still hold: left out.
      events.push(`frame ${JSON.stringify((JSON.parse(frameRecord(frame, pool)) as unknown[]).slice(0, 4))}`);
      const index = frames++;
      if (o.onFrame) o.onFrame(frame, pool, index);
      else {
        dirtyFrame(frame);
        pool.freeFrame(frame);
      }
    },
    onParameterSets(ps) {
      events.push(`parameter sets ${ps.sps.width}x${ps.sps.height} sps ${ps.spsBytes.length} B pps ${ps.ppsBytes.length} B`);
    },
  });
  try {
    for (let offset = 0, index = 0; offset < data.length; index++) {
      o.beforeRead?.(reader, index);
      assert.is(reader.prepare(), PREPARE.OK);
      const n = Math.min(o.reads, reader.cursor.targetSpace, data.length - offset);
      reader.cursor.target.set(data.subarray(offset, offset + n), reader.cursor.targetOffset);
      reader.push(n);
      offset += n;
    }
    reader.end();
  } catch (error) {
    events.push(`error ${error instanceof FieldcamError ? error.code : ''}: ${(error as Error).message}`);
    return { events, pool, reader, error };
  }
  events.push(`drops ${JSON.stringify(pool.drops)} corrupt ${reader.corruptDrops} free ${pool.freeFrameCount} slots ${pool.slotsHeld}`);
  return { events, pool, reader };
}

/** The run with the walk's batch and the run one by one: equal events; returns the batch run's counts. */
function same(data: Uint8Array, o: Drive, what: string): { events: string[]; counts: WalkCounts } {
  const batch = counted(true);
  const oneByOne = counted(false);
  const got = drive(data, batch.port, o).events;
  const want = drive(data, oneByOne.port, o).events;
  assert.equal(got, want, what);
  assert.is(oneByOne.counts.completed, 0, `${what}: one by one completes nothing in the walk`);
  return { events: got, counts: batch.counts };
}

const FIXTURES = ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264', 'h264-bframes.h264'];

test('every fixture, strict and lenient, reads of 1 B to 64 KiB: the same records, seqs and drops as one by one; several per call in large reads', () => {
  for (const name of FIXTURES) {
    const data = fixture(name);
    for (const reads of fullScale() ? [1, 7, 1000, 4096, 65536] : [7, 4096, 65536]) {
      if (reads === 1 && data.length > 30000) continue; // byte at a time adds minutes and nothing here
      for (const strict of [true, false]) {
        const what = `${name}, reads of ${reads}, ${strict ? 'strict' : 'lenient'}`;
        const { events, counts } = same(data, { reads, strict }, what);
        const frames = events.filter((e) => e.startsWith('frame ')).length;
        assert.ok(frames > 0, `${what}: frames`);
        // Small reads hand a start code over now and then; camera-sized and larger ones are the walk's.
        if (reads >= 4096) assert.ok(counts.completed >= frames / 2, `${what}: ${counts.completed} of ${frames} completed in the walk`);
        if (reads === 65536 && data.length >= 2 * 65536) assert.ok(counts.largest >= 2, `${what}: several records per call (${counts.largest})`);
      }
    }
  }
});

test('a drop, then frames resume at the next key frame (awaitKey): the same drops and records as one by one', () => {
  const data = fixture('h264-320x240-10fps-gop10.h264');
  for (const reads of [1000, 4096, 65536]) {
    // abandonFrame drops the access unit being assembled and skips what follows; the test goes on with the next
    // bytes as if the camera had lost them, so the reader waits for a key frame.
    const drops = new Set(reads === 65536 ? [1] : [3, 9, 10]);
    const what = `reads of ${reads}`;
    const { events } = same(
      data,
      {
        reads,
        strict: false,
        beforeRead: (reader, index) => {
          if (drops.has(index)) reader.abandonFrame();
        },
      },
      what,
    );
    const last = events[events.length - 1]!;
    assert.ok(/"awaitKeyFrame":[1-9]/.test(last), `${what}: frames dropped while a key frame was awaited: ${last}`);
    assert.ok(/"poolFull":[1-9]/.test(last), `${what}: the abandoned frames counted: ${last}`);
  }
});

test('a parameter-set change mid-stream: announced before the first frame that uses it, as one by one', () => {
  // Two streams back to back: the second's SPS/PPS differ from the first's, so the key frame that brings them must
  // go through closedAu (the announcement) and the walk completes frames again after it.
  const a = fixture('h264-320x240-10fps-gop10.h264');
  const b = fixture('h264-1080p-30fps.h264');
  for (const reads of [1, 4096, 65536]) {
    if (reads === 1 && !fullScale()) continue;
    const data = concat(a, b, a.subarray(0, 30000));
    const what = `reads of ${reads}`;
    const { events, counts } = same(data, { reads, strict: false, slotBytes: 65536 * 4 }, what);
    const announced = events.map((e, i) => (e.startsWith('parameter sets') ? i : -1)).filter((i) => i >= 0);
    assert.ok(announced.length >= 3, `${what}: three announcements, got ${announced.length}: ${events.filter((e) => e.startsWith('parameter')).join('; ')}`);
    for (const i of announced)
      assert.ok(events[i + 1]?.startsWith('frame ') && events[i + 1]!.includes('"key",true'), `${what}: a key frame right after event ${i}`);
    if (reads >= 4096) assert.ok(counts.completed > 0, `${what}: the walk completes frames between the changes`);
  }
});

test('a pool with no free record: the walk returns the access unit to the reader, which drops it (poolFull) and waits for a key frame, as one by one', () => {
  const data = fixture('h264-320x240-10fps-gop10.h264');
  for (const reads of [4096, 65536]) {
    // The consumer holds every frame and lets all go every 12th: the 5th held one finds no record.
    const held: Frame[] = [];
    const what = `reads of ${reads}`;
    const { events, counts } = same(
      data,
      {
        reads,
        strict: false,
        maxFrames: 4,
        onFrame(frame, pool, index) {
          held.push(frame);
          if (index % 12 === 11) while (held.length > 0) pool.freeFrame(held.pop()!);
        },
      },
      what,
    );
    held.length = 0;
    const last = events[events.length - 1]!;
    assert.ok(/"poolFull":[1-9]/.test(last) && /"awaitKeyFrame":[1-9]/.test(last), `${what}: no record, then a key frame awaited: ${last}`);
    assert.ok(counts.completed > 0, `${what}: the walk completed frames while records were free`);
  }
});

test('a callback that throws in the middle of a batch: the error ends the reader, the records not handed out go back to the pool, later calls are CALL_ORDER', () => {
  const data = fixture('h264-320x240-10fps-gop10.h264');
  const { port, counts } = counted(true);
  const failure = new Error('the test consumer gives up');
  let callSeen = -1;
  let inBatch = 0;
  let batchAtThrow = 0;
  const result = drive(data, port, {
    reads: 65536,
    onFrame(frame, pool) {
      pool.freeFrame(frame);
      if (counts.calls !== callSeen) {
        callSeen = counts.calls;
        inBatch = 0;
      }
      inBatch++;
      // The 2nd record of the first batch of at least 3.
      if (batchAtThrow === 0 && counts.last >= 3 && inBatch === 2) {
        batchAtThrow = counts.last;
        throw failure;
      }
    },
  });
  assert.is(result.error, failure, 'the callback error comes out of push');
  assert.ok(batchAtThrow >= 3, `thrown in a batch of ${batchAtThrow}`);
  // Records: the consumer freed the ones it got; the batch's others went back when the reader shut down. Slots: the
  // cursor's released.
  assert.is(result.pool.freeFrameCount, 8, 'every record free');
  assert.is(result.pool.slotsHeld, 0, 'no slot held');
  for (const call of [() => result.reader.prepare(), () => result.reader.push(1), () => result.reader.end()]) assert.throws(call, 'H264_CALL_ORDER');
});

test.run();
