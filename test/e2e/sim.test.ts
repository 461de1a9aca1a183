// `fieldcam sim` (and so `npm start`): the local cloud, the board image built on demand, and N booted boards
// in one command. The state it leaves is read back through a restarted cloud with the real AWS SDK-based CLI,
// and decoded by ffprobe. sim-x86 boots the image natively; the default board (pi-zero-w) under qemu-arm.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud } from '../../sim/cloud/startCloud.ts';
import { getMedia } from '../device/storedMedia.ts';
import { assert, suite } from '../harness/index.ts';
import { decodedFrameCount, decodeErrors, fieldcam, FIXTURES, frameHashes, ROOT, tempDir } from './tools.ts';

const test = suite('fieldcam sim (e2e)');
const tmp = tempDir('fieldcam-sim-');

/** Runs `fieldcam sim`; with `stopWhen`, SIGTERM goes `killAfterMs` after that file appears (the boards are booting then). */
function sim(args: string[], killAfterMs?: number, stopWhen?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), 'sim', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let kill: NodeJS.Timeout | undefined;
    const watch = killAfterMs
      ? setInterval(() => {
          if (stopWhen && !existsSync(stopWhen)) return;
          clearInterval(watch);
          kill = setTimeout(() => child.kill('SIGTERM'), killAfterMs);
        }, 50)
      : undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(guard);
      if (kill) clearTimeout(kill);
      if (watch) clearInterval(watch);
      resolve({ status, stdout, stderr });
    });
  });
}

test('--once with 2 cameras: every fragment PERSISTED; the state reads back as 100 decodable frames per camera', async () => {
  const stateDir = join(tmp.dir, 'once');
  const run = await sim(['--once', '--board', 'sim-x86', '--devices', '2', '--as-fast-as-possible', '--port', '0', '--state-dir', stateDir, '--json']);
  assert.is(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { ok: boolean; devices: { stream: string; framesIn: number; fragmentsPersisted: number }[] };
  assert.ok(summary.ok);
  assert.equal(
    summary.devices.map((d) => [d.stream, d.framesIn, d.fragmentsPersisted]),
    [
      ['sim-x86-1', 100, 10],
      ['sim-x86-2', 100, 10],
    ],
  );

  const cloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes] });
  try {
    const out = await getMedia(cloud, 'sim-x86-2', tmp.dir);
    assert.is(decodedFrameCount(out), 100);
    assert.is(decodeErrors(out), '');
  } finally {
    await cloud.close();
  }
});

test("H.265 through the real firmware (sim-x86 XS runtime): every fragment PERSISTED; GetMedia decodes to the input's pictures", async () => {
  const stateDir = join(tmp.dir, 'h265');
  const video = join(FIXTURES, 'h265-320x240-10fps-gop10.h265');
  const run = await sim(['--once', '--board', 'sim-x86', '--video', video, '--as-fast-as-possible', '--port', '0', '--state-dir', stateDir, '--json']);
  assert.is(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { ok: boolean; devices: { framesIn: number; fragmentsPersisted: number; framesDropped: number }[] };
  assert.ok(summary.ok);
  assert.equal(
    summary.devices.map((d) => [d.framesIn, d.fragmentsPersisted, d.framesDropped]),
    [[100, 10, 0]],
  );
  const cloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes] });
  try {
    const out = await getMedia(cloud, 'sim-x86-1', tmp.dir);
    assert.is(decodeErrors(out), '');
    assert.equal(frameHashes(out), frameHashes(video), "the 100 pictures decoded from KVS are the input's");
  } finally {
    await cloud.close();
  }
});

test('the default board (pi-zero-w under qemu-arm), camera in real time, stops cleanly on SIGTERM: what was sent is PERSISTED, exit 0', async () => {
  const stateDir = join(tmp.dir, 'loop');
  // SIGTERM 6 s after the board's configuration is written, i.e. once it boots, however long the build took.
  const run = await sim(['--devices', '1', '--port', '0', '--state-dir', stateDir, '--json'], 6000, join(stateDir, 'devices', 'pi-zero-w-1.json'));
  assert.is(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { ok: boolean; board: string; devices: { stream: string; fragmentsIn: number; fragmentsPersisted: number }[] };
  assert.ok(summary.ok, run.stdout);
  assert.is(summary.board, 'pi-zero-w');
  assert.is(summary.devices[0]!.stream, 'pi-zero-w-1');
  const d = summary.devices[0]!;
  assert.ok(d.fragmentsPersisted >= 1 && d.fragmentsPersisted === d.fragmentsIn, `every fragment captured before the stop PERSISTED: ${JSON.stringify(d)}`);
});

test('bad flags are usage errors', () => {
  assert.is(fieldcam(['sim', '--devices', '0']).status, 2);
  assert.is(fieldcam(['sim', '--board', 'toaster']).status, 1);
  assert.ok(fieldcam(['sim', '--help']).stdout.includes('--once'));
});

test.after(() => tmp.remove());

test.run();
