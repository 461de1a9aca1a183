// provision --recording (issue 15, event clips): the bundle's recording map written from the flags, checked by the
// device's own rule before any AWS call, kept by a re-run that gives no --recording, and read back by the device's
// bundle reader, which checks the pre-roll against the board's pool (as flash and the device at boot do).
import { ListThingsCommand } from '@aws-sdk/client-iot';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDeviceDocument } from '../../../firmware/app/DeviceBundle.ts';
import { parseDeviceBoard } from '../../../firmware/app/DeviceConfig.ts';
import { maxPreRollMs } from '../../../firmware/app/RecordingConfig.ts';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { loadBoardManifest } from '../../../host/shared/loadBoardManifest.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, clients, startLocalCloud, tempDir } from './provisionKit.ts';

const test = suite("provision --recording: the bundle's recording mode (local cloud)");
const state = tempDir('fieldcam-recording-state-');
const work = tempDir('fieldcam-recording-');
const cloud = await startLocalCloud(state.dir);
const url = ['--endpoint-url', cloud.endpoint];
const sdk = clients(cloud);
const THING = 'yard';
const deviceCbor = () => readFileSync(join(work.dir, THING, 'device.cbor'));

test.after(async () => {
  sdk.destroy();
  await cloud.close();
  state.remove();
  work.remove();
});

/** The device's reader of device.cbor with a board's camera, fragment and pool limits. */
function readOnBoard(bytes: Uint8Array, boardName: string) {
  const manifest = loadBoardManifest(boardName) as unknown as Record<string, unknown>;
  const board = parseDeviceBoard(manifest, 'board', undefined);
  return readDeviceDocument(bytes, 'device.cbor', {
    codec: 'h264',
    fps: () => 30,
    fragmentMs: board.stream.fragmentMs,
    maxFragmentMs: board.stream.maxFragmentMs,
    name: board.name,
    maxPreRollMs: maxPreRollMs(board),
  });
}

test('refused before any AWS call: a flag without --recording event, an unknown mode, a bad duration, a relative trigger', async () => {
  const runs: [string[], number, RegExp][] = [
    [['--pre', '10s'], 2, /error CLI_USAGE: provision: --pre goes with --recording event/],
    [['--recording', 'continuous', '--post', '5s'], 2, /error CLI_USAGE: provision: --post goes with --recording event/],
    [['--recording', 'motion'], 2, /error CLI_USAGE: provision: --recording is continuous or event/],
    [['--recording', 'event', '--pre', '10 s'], 1, /error EVENT_DURATION_INVALID: --pre "10 s" is not a duration/],
    [['--recording', 'event', '--post', '11m'], 1, /error EVENT_DURATION_INVALID: --post 11m is longer than 600000 ms/],
    [['--recording', 'event', '--trigger', 'events.fifo'], 1, /error CONFIG_INVALID: config recording.trigger must be a string matching/],
  ];
  for (const [flags, status, message] of runs) {
    const r = await cli(cloud, work.dir, ['provision', '--thing', THING, ...flags, ...url]);
    assert.is(r.status, status, `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(message.test(r.stderr), `${flags.join(' ')}: ${r.stderr}`);
  }
  assert.equal((await sdk.iot.send(new ListThingsCommand({}))).things ?? [], []);
});

test('--recording event --pre 10s --post 20s --trigger: the map in device.cbor, read by the device as event mode; a re-run keeps it', async () => {
  const r = await cli(cloud, work.dir, [
    'provision',
    '--thing',
    THING,
    '--recording',
    'event',
    '--pre',
    '10s',
    '--post',
    '20s',
    '--trigger',
    '/run/fieldcam/events',
    ...url,
  ]);
  assert.is(r.status, 0, r.stderr);
  const doc = decodeCbor(deviceCbor()) as Record<string, unknown>;
  assert.equal(doc.recording, { mode: 'event', preRollMs: 10_000, postMs: 20_000, trigger: '/run/fieldcam/events' });
  assert.equal(readOnBoard(deviceCbor(), 'pi-zero-w').recording, { mode: 'event', preRollMs: 10_000, postMs: 20_000, trigger: '/run/fieldcam/events' });
  // esp32-cam's 8 s pool keeps at most 6 s: the device (and flash, with the same reader) refuses this bundle, naming the key.
  assert.throws(() => readOnBoard(deviceCbor(), 'esp32-cam'), /recording\.preRollMs must be a whole number of ms in \[0, 6000\] \(board esp32-cam/);
  // A re-run without --recording: the bundle is up to date, the camera still records events.
  const again = await cli(cloud, work.dir, ['provision', '--thing', THING, ...url]);
  assert.is(again.status, 0, again.stderr);
  assert.ok(/bundle .*: up to date/.test(again.stdout), again.stdout);
  assert.equal((decodeCbor(deviceCbor()) as Record<string, unknown>).recording, doc.recording);
});

test("--recording event alone: the device's defaults; --recording continuous switches back", async () => {
  const r = await cli(cloud, work.dir, ['provision', '--thing', THING, '--recording', 'event', ...url]);
  assert.is(r.status, 0, r.stderr);
  assert.equal((decodeCbor(deviceCbor()) as Record<string, unknown>).recording, { mode: 'event' });
  assert.equal(readOnBoard(deviceCbor(), 'esp32-cam').recording, { mode: 'event', preRollMs: 6000, postMs: 20_000 });
  const back = await cli(cloud, work.dir, ['provision', '--thing', THING, '--recording', 'continuous', ...url]);
  assert.is(back.status, 0, back.stderr);
  assert.equal((decodeCbor(deviceCbor()) as Record<string, unknown>).recording, { mode: 'continuous' });
  assert.is(readOnBoard(deviceCbor(), 'pi-zero-w').recording?.mode, 'continuous');
});

test.run();
