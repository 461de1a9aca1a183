// SpoolLog on the board's real Storage (node:fs under Node; the C host's natives inside XS and under qemu-arm):
// records survive a reopen byte for byte; a file cut at ANY byte opens with exactly the complete records before
// the cut and none after; a flipped byte cuts from its record on; the RELEASED watermark survives a reopen and
// fully released segments disappear.
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { crc32 } from '../../../../firmware/core/spool/crc32.ts';
import { SpoolLog } from '../../../../firmware/core/spool/SpoolLog.ts';
import { assert, boardStorage, stride, suite } from '../../../harness/index.ts';

const test = suite('SpoolLog: append-only segments, CRC-32 records, torn tails cut on open, RELEASED watermark');

let dirs = 0;
function freshDir(): string {
  const { port, scratch } = boardStorage();
  const dir = `${scratch}/spool-${dirs++}`;
  port.makeDirectory(dir);
  return dir;
}

function removeAll(dir: string): void {
  const { port } = boardStorage();
  for (const n of port.list(dir)) port.remove(`${dir}/${n}`);
}

function log(dir: string, segmentBytes = 1 << 20): SpoolLog {
  return new SpoolLog({ storage: boardStorage().port, dir, segmentBytes, maxRecords: 64, maxRecordBytes: 4096 });
}

/** Payload of record k: length 1 + (k * 37) % 300, bytes (k + i) & 0xff, in two views (as a fragment's frames are). */
function payload(k: number): ViewList {
  const bytes = new Uint8Array(1 + ((k * 37) % 300));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (k + i) & 0xff;
  const views = new ViewList(2);
  const half = bytes.length >> 1;
  views.push(bytes, 0, half);
  views.push(bytes, half, bytes.length - half);
  return views;
}

function checkRecord(spool: SpoolLog, i: number, k: number): void {
  const into = new Uint8Array(4096);
  const n = spool.read(i, into, 0);
  assert.is(n, 1 + ((k * 37) % 300), `record ${i} length`);
  let bad = -1;
  for (let b = 0; b < n && bad < 0; b++) if (into[b] !== ((k + b) & 0xff)) bad = b;
  assert.is(bad, -1, `record ${i}: first wrong byte`);
  assert.is(spool.timecodeAt(i), 1000 * k, `record ${i} timecode`);
}

test('records survive a reopen byte for byte, in order, across segment files', () => {
  const dir = freshDir();
  const a = log(dir, 700);
  a.open();
  for (let k = 0; k < 12; k++) a.append(1000 * k, payload(k));
  a.close();
  assert.ok(boardStorage().port.list(dir).length > 2, 'several segments');
  const b = log(dir, 700);
  const report = b.open();
  assert.equal(report, { records: 12, cutBytes: 0, cutRecords: 0, segmentsRemoved: 0 });
  for (let i = 0; i < 12; i++) checkRecord(b, i, i);
  b.close();
  removeAll(dir);
});

test('a segment cut at any byte opens with exactly the complete records before the cut', () => {
  const { port } = boardStorage();
  const source = freshDir();
  const a = log(source);
  a.open();
  const ends: number[] = [];
  let end = 0;
  for (let k = 0; k < 4; k++) {
    a.append(1000 * k, payload(k));
    end += 32 + a.lengthAt(k);
    ends.push(end);
  }
  a.close();
  const [name] = port.list(source);
  const file = port.open(`${source}/${name}`);
  const bytes = new Uint8Array(file.size);
  file.read(0, bytes, 0, bytes.length);
  file.close();
  removeAll(source);
  const dir = freshDir();
  for (let cut = 0; cut <= bytes.length; cut += stride()) {
    const torn = port.open(`${dir}/${name}`);
    torn.append(bytes, 0, cut);
    torn.close();
    const b = log(dir);
    const report = b.open();
    const complete = ends.filter((e) => e <= cut).length;
    const kept = complete > 0 ? ends[complete - 1]! : 0;
    assert.is(report.records, complete, `cut at ${cut}: ${complete} complete records`);
    assert.is(report.cutBytes, cut - kept, `cut at ${cut}: torn bytes`);
    for (let i = 0; i < complete; i++) checkRecord(b, i, i);
    if (complete > 0) b.release(b.seqAt(complete - 1)); // exercise the watermark too, then start over
    b.close();
    removeAll(dir);
  }
});

test('a flipped byte cuts its record and the rest of that segment; appends go on after it', () => {
  const { port } = boardStorage();
  const dir = freshDir();
  const a = log(dir);
  a.open();
  for (let k = 0; k < 3; k++) a.append(1000 * k, payload(k));
  const secondAt = 32 + a.lengthAt(0);
  a.close();
  const [name] = port.list(dir);
  // Rebuild the file with one payload byte of record 1 changed.
  const file = port.open(`${dir}/${name}`);
  const bytes = new Uint8Array(file.size);
  file.read(0, bytes, 0, bytes.length);
  file.truncate(0);
  bytes[secondAt + 32 + 1]! ^= 0x40;
  file.append(bytes, 0, bytes.length);
  file.close();
  const b = log(dir);
  const report = b.open();
  assert.is(report.records, 1, 'only the record before the damage');
  assert.is(report.cutRecords, 1);
  assert.is(report.cutBytes, bytes.length - secondAt);
  const seq = b.append(5000, payload(5));
  assert.ok(seq > b.seqAt(0));
  b.close();
  const c = log(dir);
  assert.is(c.open().records, 2, 'the append after the cut is kept');
  checkRecord(c, 1, 5);
  c.close();
  removeAll(dir);
});

test('release: the watermark survives a reopen, released records are not returned, their segments are removed', () => {
  const { port } = boardStorage();
  const dir = freshDir();
  const a = log(dir, 700);
  a.open();
  for (let k = 0; k < 10; k++) a.append(1000 * k, payload(k));
  const segmentsBefore = port.list(dir).filter((n) => n.endsWith('.seg')).length;
  a.release(a.seqAt(5)); // records 0-5 PERSISTED
  assert.is(a.count, 4);
  assert.ok(port.list(dir).filter((n) => n.endsWith('.seg')).length < segmentsBefore, 'fully released segments removed');
  a.close();
  const b = log(dir, 700);
  const report = b.open();
  assert.is(report.records, 4);
  for (let i = 0; i < 4; i++) checkRecord(b, i, i + 6);
  b.release(b.seqAt(3));
  assert.is(b.count, 0);
  b.close();
  const c = log(dir, 700);
  assert.is(c.open().records, 0);
  assert.equal(
    port.list(dir).filter((n) => n.endsWith('.seg')),
    [],
    'no segment left once everything is released',
  );
  const seq = c.append(99_000, payload(1));
  assert.ok(seq > 9, `sequence numbers go on after the watermark (${seq})`);
  c.close();
  removeAll(dir);
});

/**
 * A record header as a given format writes it: magic "FCS" + `version`, length, seq, timecode, CRC-32, and in bytes
 * 28-31 format 1's u32 frame count (format 2: frames u16, packets u16).
 */
function rawRecord(version: string, seq: number, body: Uint8Array, frames: number): Uint8Array {
  const out = new Uint8Array(32 + body.length);
  const v = new DataView(out.buffer);
  out.set([0x46, 0x43, 0x53, version.charCodeAt(0)], 0);
  v.setUint32(4, body.length, true);
  v.setFloat64(8, seq, true);
  v.setFloat64(16, 1_700_000_000_000 + seq * 1000, true);
  v.setUint32(28, frames, true);
  v.setUint32(24, crc32(crc32(crc32(0, out, 0, 24), out, 28, 4), body, 0, body.length), true);
  out.set(body, 32);
  return out;
}

function writeSegment(dir: string, bytes: Uint8Array): void {
  const file = boardStorage().port.open(`${dir}/0000000000000000.seg`);
  file.append(bytes, 0, bytes.length);
  file.sync();
  file.close();
}

test('a format-1 spool (written before clip tags and audio) still opens: its records read back, 0 audio packets', () => {
  const dir = freshDir();
  const body = new Uint8Array(40).map((_, i) => i);
  writeSegment(dir, rawRecord('P', 0, body, 7));
  const spool = log(dir);
  const report = spool.open();
  assert.is(report.records, 1);
  assert.is(report.cutRecords, 0);
  assert.is(spool.formatAt(0), 1);
  assert.is(spool.framesAt(0), 7);
  assert.is(spool.packetsAt(0), 0);
  const into = new Uint8Array(64);
  assert.is(spool.read(0, into, 0), 40);
  assert.equal(Array.from(into.subarray(0, 40)), Array.from(body));
  // A new record after it is format 2, in the same spool.
  spool.append(1_700_000_005_000, payload(3), 4, 9);
  assert.is(spool.formatAt(1), 2);
  assert.is(spool.packetsAt(1), 9);
  spool.close();
  const again = log(dir);
  assert.is(again.open().records, 2);
  assert.is(again.formatAt(0), 1);
  assert.is(again.formatAt(1), 2);
  assert.is(again.framesAt(1), 4);
  assert.is(again.packetsAt(1), 9);
  again.close();
  removeAll(dir);
});

test('a record of an unknown format (a newer firmware) is refused with STORAGE_VERSION, the spool left untouched', () => {
  const dir = freshDir();
  const records = [rawRecord('2', 0, new Uint8Array(20), 1), rawRecord('9', 1, new Uint8Array(30), 1)];
  const bytes = new Uint8Array(records[0]!.length + records[1]!.length);
  bytes.set(records[0]!, 0);
  bytes.set(records[1]!, records[0]!.length);
  writeSegment(dir, bytes);
  const spool = log(dir);
  let code = 'opened';
  let message = '';
  try {
    spool.open();
  } catch (err) {
    code = isFieldcamError(err) ? err.code : String(err);
    message = err instanceof Error ? err.message : '';
  }
  spool.close();
  assert.is(code, 'STORAGE_VERSION');
  assert.ok(message.includes('FCS9'), message);
  const file = boardStorage().port.open(`${dir}/0000000000000000.seg`);
  assert.is(file.size, bytes.length, 'nothing cut');
  file.close();
  removeAll(dir);
});

test.run();
