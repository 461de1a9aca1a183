// The Storage port's contract on the board that runs the suite: node:fs under Node, the C host's natives
// (firmware/runtime/storage.c) inside XS natively and under qemu-arm. Appends land at the end only, reads at an
// offset, truncation, durable rename and remove, sorted listings, free space, and named STORAGE_* errors.
import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { crc32 } from '../../../../firmware/core/spool/crc32.ts';
import { assert, boardStorage, suite } from '../../../harness/index.ts';

const test = suite('Storage port: append, read at offset, sync, truncate, rename, list, free space, STORAGE_* errors');

const bytes = (...values: number[]) => new Uint8Array(values);

function folder(name: string): string {
  const { port, scratch } = boardStorage();
  const dir = `${scratch}/${name}`;
  port.makeDirectory(dir);
  return dir;
}

function clean(dir: string): void {
  const { port } = boardStorage();
  for (const n of port.list(dir)) port.remove(`${dir}/${n}`);
}

test('append goes to the end, read at any offset, size follows; truncate cuts the tail', () => {
  const { port } = boardStorage();
  const dir = folder('append');
  const f = port.open(`${dir}/a.seg`);
  assert.is(f.size, 0);
  f.append(bytes(9, 1, 2, 3, 9), 1, 3);
  f.append(bytes(4, 5), 0, 2);
  f.sync();
  assert.is(f.size, 5);
  const into = new Uint8Array(8);
  assert.is(f.read(1, into, 2, 3), 3);
  assert.equal([...into.subarray(2, 5)], [2, 3, 4]);
  assert.is(f.read(3, into, 0, 8), 2, 'short read at the end of the file');
  f.truncate(2);
  assert.is(f.size, 2);
  f.append(bytes(7), 0, 1);
  assert.is(f.read(0, into, 0, 8), 3);
  assert.equal([...into.subarray(0, 3)], [1, 2, 7], 'an append after a truncate goes at the new end');
  f.close();
  f.close(); // idempotent
  assert.throws(() => f.append(bytes(1), 0, 1), /closed/);
  const again = port.open(`${dir}/a.seg`);
  assert.is(again.size, 3, 'reopened: the bytes are there');
  again.close();
  clean(dir);
});

test('rename, remove and a sorted listing; free space is a positive number', () => {
  const { port } = boardStorage();
  const dir = folder('names');
  for (const n of ['c.seg', 'a.seg', 'b.tmp']) port.open(`${dir}/${n}`).close();
  port.rename(`${dir}/b.tmp`, `${dir}/b.seg`);
  assert.equal(port.list(dir), ['a.seg', 'b.seg', 'c.seg']);
  port.remove(`${dir}/a.seg`);
  assert.equal(port.list(dir), ['b.seg', 'c.seg']);
  assert.ok(port.freeBytes(dir) > 0, 'free bytes');
  port.makeDirectory(dir); // exists: fine
  clean(dir);
  assert.equal(port.list(dir), []);
});

test('failures are STORAGE_* codes: missing file or folder, a file where a folder should be', () => {
  const { port } = boardStorage();
  const dir = folder('errors');
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      return isFieldcamError(err) ? err.code : `not a FieldcamError: ${String(err)}`;
    }
    return 'no error';
  };
  assert.is(
    code(() => port.list(`${dir}/missing`)),
    'STORAGE_NOT_FOUND',
  );
  assert.is(
    code(() => port.remove(`${dir}/missing.seg`)),
    'STORAGE_NOT_FOUND',
  );
  assert.is(
    code(() => port.open(`${dir}/missing/x.seg`)),
    'STORAGE_NOT_FOUND',
  );
  port.open(`${dir}/file`).close();
  assert.is(
    code(() => port.makeDirectory(`${dir}/file`)),
    'STORAGE_NOT_DIRECTORY',
  );
  assert.is(
    code(() => port.list(`${dir}/file`)),
    'STORAGE_NOT_DIRECTORY',
  );
  clean(dir);
});

test("crc32, where the board has it, equals the core's CRC-32 on any range and continues across pieces", () => {
  const { port } = boardStorage();
  const bytes = new Uint8Array(70_001);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  // The check value of CRC-32/ISO-HDLC: "123456789" → 0xCBF43926.
  const nine = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]);
  assert.is(crc32(0, nine, 0, 9), 0xcbf43926);
  if (!port.crc32) return; // Node: the core's loop is the board's
  assert.is(port.crc32(0, nine, 0, 9), 0xcbf43926);
  for (const [offset, length] of [
    [0, 0],
    [0, 1],
    [5, 100],
    [1, 70_000],
    [70_000, 1],
  ] as const) {
    assert.is(port.crc32(0, bytes, offset, length), crc32(0, bytes, offset, length), `range ${offset}+${length}`);
  }
  const whole = port.crc32(0, bytes, 0, bytes.length);
  assert.is(port.crc32(port.crc32(0, bytes, 0, 12_345), bytes, 12_345, bytes.length - 12_345), whole, 'continued');
  let threw = false;
  try {
    port.crc32(0, bytes, 70_000, 2);
  } catch (err) {
    threw = err instanceof RangeError;
  }
  assert.ok(threw, 'a range past the end is a RangeError');
});

test.run();
