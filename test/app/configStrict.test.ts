// Issue 11 item 9. (1) The JSON device configuration refuses an unknown or misspelt key by name at every level, as
// device.cbor does (one validator, CONFIG_INVALID); a valid configuration still parses. (2) A crash in the middle of
// an atomic write leaves `<file>.tmp-<pid>` beside the file: at boot the device removes exactly those, on the Node
// board and in the XS host (firmware/runtime/files.c), and leaves everything else in the folder alone.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeviceConfig } from '../../firmware/app/DeviceConfig.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { isFieldcamError } from '../../firmware/core/errors.ts';
import { tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { runScript } from '../runtime/support.ts';

const test = suite('device configuration: unknown keys refused; stale atomic-write temporaries removed at boot');
const tmp = tempDir('fieldcam-config-strict-');
test.after(() => tmp.remove());

const valid = () => ({
  version: 1,
  board: {
    name: 'pi-zero-w',
    pool: { bitrateKbps: 1000, bufferSeconds: 10, fps: 15, maxFrameBytes: 262144 },
    stream: { fragmentMs: 1000, maxFragmentMs: 10000 },
  },
  stream: { name: 'cam', region: 'us-east-1' },
  endpoint: { host: '127.0.0.1', port: 443, caFile: 'ca.pem' },
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  camera: { fd: 0, codec: 'h264', live: true, fps: { num: 15, den: 1 } },
  statusIntervalMs: 1000,
  pin: { startTimeMs: 1, segmentUid: '0123456789abcdef0123456789abcdef' },
  control: { host: 'localhost', port: 8883, thingName: 'cam', certFile: 'c', keyFile: 'k', stateFile: 's' },
});

test('a valid configuration with every section parses', () => {
  assert.is(parseDeviceConfig(JSON.stringify(valid())).stream.name, 'cam');
});

test('an unknown key is refused by name at every level (CONFIG_INVALID), as device.cbor refuses them', () => {
  const cases: [(c: ReturnType<typeof valid>) => void, RegExp][] = [
    [(c) => ((c as Record<string, unknown>).statusIntervalMS = 5), /unknown key statusIntervalMS/],
    [(c) => ((c.board as Record<string, unknown>).fragmentMs = 5), /unknown key board\.fragmentMs/],
    [(c) => ((c.board.pool as Record<string, unknown>).bufferSecs = 5), /unknown key board\.pool\.bufferSecs/],
    [(c) => ((c.board.stream as Record<string, unknown>).fragmentMS = 5), /unknown key board\.stream\.fragmentMS/],
    [(c) => ((c.stream as Record<string, unknown>).retentionHours = 5), /unknown key stream\.retentionHours/],
    [(c) => ((c.endpoint as Record<string, unknown>).url = 'x'), /unknown key endpoint\.url/],
    [(c) => ((c.credentials as Record<string, unknown>).secretKey = 'x'), /unknown key credentials\.secretKey/],
    [(c) => ((c.camera as Record<string, unknown>).codecs = 'h264'), /unknown key camera\.codecs/],
    [(c) => ((c.camera.fps as Record<string, unknown>).rate = 1), /unknown key camera\.fps\.rate/],
    [(c) => ((c.pin as Record<string, unknown>).start = 1), /unknown key pin\.start/],
    [(c) => ((c.control as Record<string, unknown>).keepAlive = 60), /unknown key control\.keepAlive/],
  ];
  for (const [mutate, message] of cases) {
    const c = valid();
    mutate(c);
    try {
      parseDeviceConfig(JSON.stringify(c));
      assert.ok(false, `accepted ${String(message)}`);
    } catch (err) {
      assert.ok(isFieldcamError(err, 'CONFIG_INVALID'), String(err));
      assert.ok(message.test((err as Error).message), (err as Error).message);
      assert.ok(/^config: /.test((err as Error).message), (err as Error).message);
    }
  }
});

/** A folder as a crash leaves it: our temporaries (another pid), our own live one, and files that are not ours. */
function crashedFolder(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const f of [
    'state.cbor',
    'state.cbor.tmp-4242',
    'state.cbor.tmp-7',
    'state.cbor.tmp-',
    'state.cbor.tmp-12x',
    'other.cbor.tmp-99',
    'state.cbor.bak',
    'notes.txt',
  ])
    writeFileSync(join(dir, f), 'x');
  return dir;
}
const LEFT = ['notes.txt', 'other.cbor.tmp-99', 'state.cbor', 'state.cbor.bak', 'state.cbor.tmp-', 'state.cbor.tmp-12x'];

test('Node board: removeStaleTemps removes exactly <file>.tmp-<digits> beside the file; a missing folder is 0', () => {
  const dir = crashedFolder('node');
  const board = nodeBoard({ print: () => {}, onStop: () => {} });
  assert.is(board.removeStaleTemps(join(dir, 'state.cbor')), 2);
  assert.equal(readdirSync(dir).sort(), LEFT);
  assert.is(board.removeStaleTemps(join(dir, 'missing', 'state.cbor')), 0);
  board.writeBytesAtomic(join(dir, 'state.cbor'), new Uint8Array([1]));
  assert.equal(readdirSync(dir).sort(), LEFT, 'the atomic write leaves no temporary file');
});

test('XS host: native.removeStaleTemps does the same (x86_64 runtime)', async () => {
  const dir = crashedFolder('xs');
  const r = await runScript(
    `
const [dir] = native.argv;
native.print(String(native.removeStaleTemps(dir + '/state.cbor')));
native.print(String(native.removeStaleTemps(dir + '/missing/state.cbor')));`,
    { args: [dir] },
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, ['2', '0']);
  assert.equal(readdirSync(dir).sort(), LEFT);
});

test.run();
