// board.json has one validator (firmware/app/BoardDocument.ts): the device reads its image's copy with it and the
// host's loadBoardManifest (doctor, flash, build, sim, profile) runs it and adds only the host's fields. So both
// sides take every committed manifest to the same values, refuse a bad one with the same message, and the device
// accepts what flash writes into an image (the camera and microphone adapters it does not read).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoardDocument } from '../../firmware/app/BoardDocument.ts';
import { loadDeviceBundle } from '../../firmware/app/DeviceBundle.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { BOARDS_DIR, listBoards, loadBoardManifest, readBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('app: board.json read by one validator on the device and the host');
const tmp = tempDir('fieldcam-board-document-');

/** What the device makes of `file` (its bundle is missing: the board is read first, so its errors come first). */
function deviceError(file: string): string {
  try {
    loadDeviceBundle(nodeBoard({ print: () => {}, onStop: () => {} }), { bundle: join(tmp.dir, 'no-bundle'), board: file });
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
}

test('every committed manifest: the device values equal the host values, less the host-only camera.source', () => {
  for (const name of listBoards()) {
    const file = join(BOARDS_DIR, `${name}.json`);
    const host = loadBoardManifest(name);
    const { source: _source, ...camera } = host.camera;
    assert.equal(parseBoardDocument(JSON.parse(readFileSync(file, 'utf8')), file), { ...host, camera }, name);
    assert.ok(/cannot read .*no-bundle\/device\.cbor/.test(deviceError(file)), `${name}: the device reads the board, then wants the bundle`);
  }
});

test('a bad board.json: the device and the host refuse it with the same CONFIG_INVALID message', () => {
  const good = JSON.parse(readFileSync(join(BOARDS_DIR, 'pi-zero-w.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  const cases: [string, unknown][] = [
    ['pool.bufferSeconds', { ...good, pool: { ...good.pool, bufferSeconds: 0 } }],
    ['stream.fragmentMS', { ...good, stream: { ...good.stream, fragmentMS: 500 } }],
    ['memory.poolBudgetBytes', { ...good, memory: { ...good.memory, poolBudgetBytes: 1.5 } }],
    ['camera.codec', { ...good, camera: { ...good.camera, codec: 'vp8' } }],
    ['net.tlsMs', { ...good, net: { tlsMs: 1 } }],
  ];
  for (const [field, content] of cases) {
    const file = join(tmp.dir, 'pi-zero-w.json');
    writeFileSync(file, JSON.stringify(content));
    const onDevice = deviceError(file);
    assert.ok(onDevice.startsWith(`${file}: ${field} must be `), `${field}: ${onDevice}`);
    let onHost = '';
    try {
      loadBoardManifest('pi-zero-w', tmp.dir);
    } catch (err) {
      onHost = (err as Error).message;
    }
    assert.is(onHost, onDevice, field);
    assert.throws(() => loadBoardManifest('pi-zero-w', tmp.dir), 'CONFIG_INVALID');
  }
});

test("an image's board.json with flash's camera and microphone adapters: the device ignores them, the host checks them", () => {
  const good = JSON.parse(readFileSync(join(BOARDS_DIR, 'pi-4.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  const file = join(tmp.dir, 'board.json');
  writeFileSync(file, JSON.stringify({ ...good, camera: { ...good.camera, audioSource: { kind: 'alsa', device: 'hw:1' } } }));
  assert.ok(/cannot read .*device\.cbor/.test(deviceError(file)), 'the board is accepted');
  assert.equal(readBoardManifest(file).camera.audioSource, { kind: 'alsa', device: 'hw:1' });
  writeFileSync(file, JSON.stringify({ ...good, camera: { ...good.camera, audioSource: { kind: 'alsa', device: 'hw:1; reboot' } } }));
  assert.throws(() => readBoardManifest(file), /camera\.audioSource must be/);
});

test.after(() => tmp.remove());

test.run();
