// The `recording` map of a device configuration (docs/events.md): defaults, the pre-roll bounded by what the board's
// pool holds (its buffer less two fragments), every bad value refused by name (CONFIG_INVALID); and the camera refuses
// stream.metadata that would leave clip fragments past KVS's 10 metadata items.
import { parseDeviceConfig } from '../../firmware/app/DeviceConfig.ts';
import { CameraUploader } from '../../firmware/app/CameraUploader.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { isFieldcamError } from '../../firmware/core/errors.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('device configuration: recording mode, pre-roll within the pool, named errors');

const config = (recording: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: 1,
    board: { name: 'tiny', pool: { bitrateKbps: 1000, bufferSeconds: 8, fps: 10, maxFrameBytes: 65536 }, stream: { fragmentMs: 1000, maxFragmentMs: 10000 } },
    stream: { name: 'cam', region: 'us-east-1', ...extra },
    endpoint: { host: '127.0.0.1', port: 443, caFile: 'ca.pem' },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    camera: { fd: 0, codec: 'h264', live: true },
    ...(recording === undefined ? {} : { recording }),
  });

function refused(json: string, message: RegExp): void {
  try {
    parseDeviceConfig(json);
  } catch (err) {
    assert.ok(isFieldcamError(err, 'CONFIG_INVALID'), String(err));
    assert.ok(message.test((err as Error).message), (err as Error).message);
    return;
  }
  assert.ok(false, `accepted: ${json}`);
}

test('absent: continuous; event: the defaults, the pre-roll capped by the pool (8 s less two 1 s fragments)', () => {
  assert.is(parseDeviceConfig(config(undefined)).recording, undefined);
  assert.equal(parseDeviceConfig(config({ mode: 'event' })).recording, { mode: 'event', preRollMs: 6000, postMs: 20_000 });
  assert.equal(parseDeviceConfig(config({ mode: 'event', preRollMs: 6000, postMs: 0, trigger: '/run/fieldcam/events' })).recording, {
    mode: 'event',
    preRollMs: 6000,
    postMs: 0,
    trigger: '/run/fieldcam/events',
  });
});

test('bad values are refused by name', () => {
  refused(config({ mode: 'events' }), /recording\.mode/);
  refused(config({ mode: 'event', preRollMs: 6001 }), /recording\.preRollMs.*board tiny/);
  refused(config({ mode: 'event', preRollMs: 1.5 }), /recording\.preRollMs/);
  refused(config({ mode: 'event', postMs: 600_001 }), /recording\.postMs/);
  refused(config({ mode: 'event', trigger: 'relative/path' }), /recording\.trigger/);
  refused(config({ mode: 'event', preRoll: 1 }), /unknown key recording\.preRoll/);
});

test('event mode leaves clip tags room: more than 3 persistent metadata items are refused at boot', () => {
  const meta = (n: number) => ({ metadata: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])) });
  const board = nodeBoard({ print: () => {} });
  const ok = parseDeviceConfig(config({ mode: 'event' }, meta(3)));
  assert.ok(new CameraUploader({ ...board, readText: () => '' }, ok).gate);
  const tooMany = parseDeviceConfig(config({ mode: 'event' }, meta(4)));
  assert.throws(() => new CameraUploader({ ...board, readText: () => '' }, tooMany), 'CONFIG_INVALID');
  assert.is(new CameraUploader({ ...board, readText: () => '' }, parseDeviceConfig(config(undefined, meta(4)))).gate, undefined);
});

test.run();
