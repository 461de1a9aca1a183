// A fragment through the spool and back (issue 15, the record SpoolFragmentSource will write): the frames of a
// real H.264 fragment in the pool — some split across two slots — are encoded zero-copy into a record, appended
// to a SpoolLog on the board's storage, read back after a reopen and decoded; MkvWriter then writes exactly the
// same Matroska bytes from the decoded frames as from the pool frames. A record whose table does not fit is
// STORAGE_CORRUPT.
import { Frame, MAX_NALS_PER_FRAME } from '../../../../firmware/core/media/Frame.ts';
import { FrameInput } from '../../../../firmware/core/media/FrameInput.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { MkvWriter } from '../../../../firmware/core/mkv/MkvWriter.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { FragmentRecord } from '../../../../firmware/core/spool/FragmentRecord.ts';
import { Slot } from '../../../../firmware/core/pool/Slot.ts';
import { SpoolLog } from '../../../../firmware/core/spool/SpoolLog.ts';
import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { assert, boardStorage, fixture, suite } from '../../../harness/index.ts';
import { concatBytes } from '../../../harness/support.ts';

const test = suite('FragmentRecord: a pool fragment through a spool record and back writes identical Matroska');

const GOP10 = fixture('h264-320x240-10fps-gop10.h264');
const UID = new Uint8Array(16).fill(7);

function flatten(views: ViewList): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < views.count; i++) parts.push(views.sources[i]!.slice(views.offsets[i]!, views.offsets[i]! + views.lengths[i]!));
  return concatBytes(parts);
}

/** Every entry of `record` (its head parsed) as a frame record over `bytes`, the record's payload read whole. */
function decodeAll(record: FragmentRecord, format: number, bytes: Uint8Array, length: number): Frame[] {
  const got = Math.min(record.headCapacity, length);
  record.head.set(bytes.subarray(0, got));
  const count = record.parse(format, length, got);
  const slot = new Slot(-1, bytes);
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) {
    const f = new Frame(MAX_NALS_PER_FRAME);
    record.fill(i, f);
    f.slotA = slot;
    f.startA = record.payloadOffset(i);
    f.endA = f.startA + record.payloadSize(i);
    frames.push(f);
  }
  return frames;
}

function matroska(input: FrameInput, frames: readonly Frame[]): Uint8Array {
  const writer = new MkvWriter({ track: input.trackSpec(), segmentUid: UID });
  const out = new ViewList(1024);
  const parts: Uint8Array[] = [];
  writer.header(out);
  out.clear();
  writer.startFragment(frames[0]!.pts, out);
  for (const f of frames) {
    writer.block(f, out);
    parts.push(flatten(out));
    out.clear();
  }
  return concatBytes(parts);
}

test('pool frames → record → SpoolLog → reopen → decoded frames: the same Matroska blocks', () => {
  // Small slots, so frames straddle two slots (piece B) as they do on a device.
  const pool = new FramePool({ slotCount: 64, slotBytes: 8192, maxFrames: 128 });
  const input = new FrameInput({ codec: 'h264', pool, fps: { num: 10, den: 1 }, fragmentMs: 1000, startTimecode: 1_700_000_000_000, onQueued: () => {} });
  for (let at = 0; at < GOP10.length; ) {
    input.prepare();
    const n = Math.min(input.targetSpace, GOP10.length - at);
    input.target.set(GOP10.subarray(at, at + n), input.targetOffset);
    input.push(n);
    at += n;
  }
  input.end();
  const queue = input.queue;
  const fragment: Frame[] = [queue.at(0)];
  for (let i = 1; i < queue.length && !queue.at(i).fragmentStart; i++) fragment.push(queue.at(i));
  assert.is(fragment.length, 10, 'one GOP');
  assert.ok(
    fragment.some((f) => f.slotB !== null),
    'a frame split across two slots',
  );

  const record = new FragmentRecord(64);
  const views = new ViewList(2 + 2 * 64);
  const tags = new Uint8Array([0x12, 0x54, 0xc3, 0x67, 0x80]); // stands for a clip's Tags element: carried as bytes
  assert.ok(record.encode(fragment.length, (i) => fragment[i]!, tags, views));
  const { port, scratch } = boardStorage();
  const dir = `${scratch}/record`;
  const spool = new SpoolLog({ storage: port, dir, segmentBytes: 1 << 20, maxRecords: 8, maxRecordBytes: 1 << 20 });
  spool.open();
  spool.append(fragment[0]!.pts, views, fragment.length);
  spool.close();
  const expected = matroska(input, fragment);

  const again = new SpoolLog({ storage: port, dir, segmentBytes: 1 << 20, maxRecords: 8, maxRecordBytes: 1 << 20 });
  assert.is(again.open().records, 1);
  const buffer = new Uint8Array(1 << 20);
  const length = again.read(0, buffer, 0);
  assert.is(again.formatAt(0), 2, 'written in format 2');
  assert.is(again.framesAt(0), 10);
  assert.is(again.packetsAt(0), 0);
  const frames = decodeAll(record, again.formatAt(0), buffer, length);
  const count = frames.length;
  assert.is(count, 10);
  assert.equal(Array.from(record.tags()!), Array.from(tags), 'the clip tags come back with the record');
  for (let i = 0; i < count; i++) {
    assert.is(frames[i]!.pts, fragment[i]!.pts, `frame ${i} pts`);
    assert.is(frames[i]!.key, fragment[i]!.key, `frame ${i} key`);
  }
  const decoded = matroska(input, frames);
  assert.is(decoded.length, expected.length, 'same Matroska length');
  let differ = -1;
  for (let i = 0; i < expected.length && differ < 0; i++) if (decoded[i] !== expected[i]) differ = i;
  assert.is(differ, -1, 'byte-identical Matroska');
  again.release(again.seqAt(0));
  again.close();
  for (const n of port.list(dir)) port.remove(`${dir}/${n}`);
});

test('a record whose table claims more than it holds is STORAGE_CORRUPT, never a frame past the buffer', () => {
  const record = new FragmentRecord(4);
  const bytes = new Uint8Array(64);
  const v = new DataView(bytes.buffer);
  const code = (length: number): string => {
    try {
      decodeAll(record, 1, bytes, length); // format 1: count, then 30-byte entries
      return 'decoded';
    } catch (err) {
      return isFieldcamError(err) ? err.code : String(err);
    }
  };
  v.setUint32(0, 9, true); // 9 frames, room for 4
  assert.is(code(64), 'STORAGE_CORRUPT');
  v.setUint32(0, 1, true);
  v.setUint32(4 + 24, 1000, true); // a 1000-byte frame in a 64-byte record
  assert.is(code(64), 'STORAGE_CORRUPT');
  v.setUint32(4 + 24, 4, true);
  v.setUint8(4 + 29, 200); // 200 NAL units
  assert.is(code(64), 'STORAGE_CORRUPT');
  assert.is(code(2), 'STORAGE_CORRUPT');
});

test('entry tables hold NAL tables for maxVideoFrames only: a record that would not fit is refused, never written past', () => {
  // 4 entries, NAL tables for 1 frame of 2 NAL units (156 bytes): one video frame and three audio packets fit exactly;
  // four video frames with their NAL tables (216 bytes) do not.
  const record = new FragmentRecord(4, 2, 0, 1);
  const frame = (track: number): Frame => {
    const f = new Frame(2);
    f.track = track;
    f.nalCount = track === 0 ? 2 : 0;
    return f;
  };
  const views = new ViewList(16);
  const av = [frame(0), frame(1), frame(1), frame(1)];
  assert.ok(
    record.encode(4, (i) => av[i]!, undefined, views),
    'one video frame and three packets',
  );
  views.clear();
  const vv = [frame(0), frame(0), frame(0), frame(0)];
  assert.is(
    record.encode(4, (i) => vv[i]!, undefined, views),
    false,
    'four video frames with NAL tables',
  );
  views.clear();
  assert.is(
    record.encode(1, () => frame(0), new Uint8Array(1), views),
    false,
    'tags beyond maxTagBytes',
  );
});

test.run();
