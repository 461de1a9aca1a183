// Issue 5's proof: `fieldcam provision` (the real CLI) against a local cloud in this process → `fieldcam flash`
// into a temporary board root → that tree booted under qemu-arm -cpu arm1176 exactly as its systemd unit
// starts it, the fixture as camera → IoT credentials over mTLS → every fragment PERSISTED, checked from the
// stored fragments. Plus: flash refuses a bundle that would not boot (target untouched), a re-flash changes
// nothing, another board's tree is refused without --force, and the unit, run script and install.sh are valid.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { DEVICE_EXIT } from '../../../firmware/app/runDevice.ts';
import { deviceCommand, treePaths } from '../../../host/lib/flash/deviceTree.ts';
import { bootBoard, bootCommand } from '../../../sim/board/bootBoard.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../firmware/core/cbor/encodeCbor.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, ROOT, tempDir } from '../provision/provisionKit.ts';

const test = suite('fieldcam flash: provision → flash → boot the tree under QEMU → PERSISTED (local cloud)');
const work = tempDir('fieldcam-flash-');
const stateDir = join(work.dir, 'cloud');
const bundle = join(work.dir, 'flash-cam-1');
const board = join(work.dir, 'board-root');
const GOP10 = join(ROOT, 'test', 'fixtures', 'h264-320x240-10fps-gop10.h264');
const THING = 'flash-cam-1';

type Rec = Record<string, unknown>;
interface FlashJson {
  board: string;
  unchanged: boolean;
  thingName: string;
  files: { path: string; bytes: number; mode: string; action: string }[];
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

// Fixed ports: the bundle names them, and `sim --image` later starts its own cloud on the same ones.
const ports = { kvs: await freePort(), credentials: await freePort() };
let cloud: RunningCloud | undefined = await startCloud({ stateDir, port: ports.kvs, credentialsPort: ports.credentials, routes: [...mediaRoutes] });
const running = () => cloud!;
const caFile = cloud.caFile;

test.after(async () => {
  await cloud?.close();
  work.remove();
});

/** The CLI as a child process (AWS_CA_BUNDLE: this cloud's CA, which stays in the state dir when it stops). */
const fieldcam = (args: string[]) => cli({ caFile } as RunningCloud, work.dir, args);

function storedFragments(c: RunningCloud, stream: string): number {
  const record = c.ctx.streams.get(stream);
  assert.ok(record, `stream ${stream} exists`);
  return new Set(
    fragmentStoreFor(c.ctx, record!)
      .list()
      .map((f) => f.producerTimestampMs),
  ).size;
}

test('provision (CLI) writes the bundle; flash (CLI) writes the tree with its modes', async () => {
  const p = await fieldcam(['provision', '--thing', THING, '--out', bundle, '--endpoint-url', running().endpoint, '--json']);
  assert.is(p.status, 0, p.stderr);
  mkdirSync(board);
  const f = await fieldcam(['flash', '--bundle', bundle, '--board', 'pi-zero-w', '--target', board, '--json']);
  assert.is(f.status, 0, f.stderr);
  const r = JSON.parse(f.stdout) as FlashJson;
  assert.is(r.board, 'pi-zero-w');
  assert.is(r.thingName, THING);
  assert.is(r.unchanged, false);
  const modes = Object.fromEntries(r.files.map((x) => [x.path, x.mode]));
  assert.equal(modes, {
    'opt/fieldcam/fieldcam-runtime': '0755',
    'opt/fieldcam/firmware.js': '0644',
    'opt/fieldcam/board.json': '0644',
    'opt/fieldcam/image.json': '0644',
    'opt/fieldcam/VERSION': '0644',
    'opt/fieldcam/run': '0755',
    'opt/fieldcam/install.sh': '0755',
    'etc/fieldcam/bundle/device.cbor': '0600',
    'etc/fieldcam/bundle/certificate.pem': '0644',
    'etc/fieldcam/bundle/private.key': '0600',
    'etc/fieldcam/bundle/ca.pem': '0644',
    'etc/systemd/system/fieldcam.service': '0644',
  });
  for (const x of r.files) {
    assert.is(x.action, 'written', x.path);
    const st = statSync(join(board, x.path));
    assert.is(`0${(st.mode & 0o777).toString(8)}`, x.mode, x.path);
    assert.is(st.size, x.bytes, x.path);
  }
  assert.is(statSync(join(board, 'etc/fieldcam/bundle')).mode & 0o777, 0o700);
  assert.ok(readFileSync(join(board, 'etc/fieldcam/bundle/private.key')).equals(readFileSync(join(bundle, 'private.key'))));
});

test('the flashed tree boots under qemu-arm -cpu arm1176 as its unit starts it: credentials, every fragment PERSISTED', async () => {
  const p = treePaths(board);
  const image = JSON.parse(readFileSync(p.imageJson, 'utf8')) as { runtimeFlags: string[]; qemuCpu?: string };
  assert.is(image.qemuCpu, 'arm1176');
  const boot = {
    image: { dir: p.imageDir, runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu },
    config: { bundle: p.bundle, board: p.board, state: p.state },
  };
  // The same argv as the board's run script, with every path rebased under the tree (a camera, as on the board).
  const { command, args } = bootCommand(boot.image, { ...boot.config, recorded: false });
  assert.is(command, 'qemu-arm');
  assert.equal(args, ['-cpu', 'arm1176', ...deviceCommand(image, board)]);
  // The boot below feeds a file as fast as the board reads: the one difference is `--recorded` (keep the file's
  // cadence and its whole last frame), which a flashed unit never passes.
  assert.equal(bootCommand(boot.image, boot.config).args, [...args, '--recorded']);
  const onBoard = deviceCommand(image, '/').join(' ');
  assert.ok(readFileSync(join(p.imageDir, 'run'), 'utf8').includes(`| ${onBoard}\n`), onBoard);
  assert.equal(
    deviceCommand(image, board).map((a) => (a.startsWith(board) ? `/${relative(board, a)}` : a)),
    deviceCommand(image, '/'),
  );

  const records: Rec[] = [];
  const booted = bootBoard({ ...boot, video: GOP10, loop: false, bytesPerSecond: 0, cwd: work.dir, onRecord: (r) => records.push(r) });
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 60_000);
  const { code, stderr } = await booted.exited;
  clearTimeout(guard);
  const notStatus = JSON.stringify(records.filter((r) => r.type !== 'status'));
  assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${notStatus}`);
  assert.ok(
    records.some((r) => r.event === 'credentials'),
    `credentials event: ${notStatus}`,
  );
  const s = records.find((r) => r.type === 'summary')!;
  assert.equal([s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped], [100, 10, 10, 0]);
  assert.is(storedFragments(running(), THING), 10, 'every fragment stored');
});

test('a second flash with the same inputs changes nothing and says so', async () => {
  const before = readdirSync(join(board, 'opt/fieldcam')).map((n) => statSync(join(board, 'opt/fieldcam', n)).mtimeMs);
  const f = await fieldcam(['flash', '--bundle', bundle, '--board', 'pi-zero-w', '--target', board]);
  assert.is(f.status, 0, f.stderr);
  assert.ok(/unchanged: the target already holds this tree/.test(f.stdout), f.stdout);
  assert.ok(/opt\/fieldcam\/fieldcam-runtime\s+[\d.]+ MiB\s+0755\s+unchanged/.test(f.stdout), f.stdout);
  assert.equal(
    readdirSync(join(board, 'opt/fieldcam')).map((n) => statSync(join(board, 'opt/fieldcam', n)).mtimeMs),
    before,
  );
});

test('a bundle that would not boot is refused by name and the target is left untouched', async () => {
  const bad = join(work.dir, 'bad-bundle');
  const target = join(work.dir, 'untouched');
  mkdirSync(target);
  cpSync(bundle, bad, { recursive: true });
  writeFileSync(join(bad, 'device.cbor'), Uint8Array.of(0xbf, 0x61)); // an indefinite map cut short
  let r = await fieldcam(['flash', '--bundle', bad, '--board', 'pi-zero-w', '--target', target]);
  assert.is(r.status, 1, r.stderr);
  assert.ok(
    /error FLASH_BUNDLE_INVALID: flash: the bundle .*bad-bundle would not boot: bundle: .*device\.cbor is not a valid CBOR document/.test(r.stderr),
    r.stderr,
  );
  cpSync(join(bundle, 'device.cbor'), join(bad, 'device.cbor'));
  rmSync(join(bad, 'private.key'));
  r = await fieldcam(['flash', '--bundle', bad, '--board', 'pi-zero-w', '--target', target]);
  assert.is(r.status, 1, r.stderr);
  assert.ok(/error FLASH_BUNDLE_INVALID: flash: .* would not boot: bundle: cannot read private key .*private\.key/.test(r.stderr), r.stderr);
  assert.equal(readdirSync(target), []);
});

test('a bundle with camera.audio: refused without --audio-source (named), flashed with it: FIFO, encoder, fd 3, RuntimeDirectory', async () => {
  const withAudio = join(work.dir, 'audio-bundle');
  cpSync(bundle, withAudio, { recursive: true });
  const doc = decodeCbor(readFileSync(join(bundle, 'device.cbor'))) as Record<string, unknown>;
  const out = new Uint8Array(8192);
  const n = encodeCbor({ ...doc, camera: { ...(doc.camera as object | undefined), audio: { codec: 'alaw', fd: 3 } } }, out);
  writeFileSync(join(withAudio, 'device.cbor'), out.subarray(0, n), { mode: 0o600 });
  const target = join(work.dir, 'audio-root');
  mkdirSync(target);
  let r = await fieldcam(['flash', '--bundle', withAudio, '--board', 'pi-zero-w', '--target', target]);
  assert.is(r.status, 1, r.stderr);
  assert.ok(
    /error FLASH_AUDIO_SOURCE_MISSING: flash: the bundle .*audio-bundle has camera\.audio \(alaw, fd 3\) but no --audio-source was given/.test(r.stderr),
    r.stderr,
  );
  assert.equal(readdirSync(target), []);
  r = await fieldcam(['flash', '--bundle', bundle, '--board', 'pi-zero-w', '--target', target, '--audio-source', 'alsa:hw:1']);
  assert.ok(r.status !== 0 && /--audio-source goes with a bundle whose device\.cbor has camera\.audio/.test(r.stderr), r.stderr);
  r = await fieldcam(['flash', '--bundle', withAudio, '--board', 'pi-zero-w', '--target', target, '--audio-source', 'alsa:hw:1;reboot']);
  assert.ok(r.status !== 0 && /--audio-source alsa:hw:1;reboot: want alsa or alsa:DEVICE/.test(r.stderr), r.stderr);
  assert.equal(readdirSync(target), []);
  r = await fieldcam(['flash', '--bundle', withAudio, '--board', 'pi-zero-w', '--target', target, '--audio-source', 'alsa:plughw:1,0']);
  assert.is(r.status, 0, r.stderr);
  const run = readFileSync(join(target, 'opt/fieldcam/run'), 'utf8');
  assert.ok(
    run.includes(
      '[ -p /run/fieldcam/audio ] || mkfifo -m 0600 /run/fieldcam/audio\n' +
        '{ ffmpeg -hide_banner -loglevel error -nostdin -f alsa -ac 1 -ar 8000 -i plughw:1,0 -ac 1 -ar 8000 -c:a pcm_alaw -f alaw -y /run/fieldcam/audio \\\n',
    ),
    run,
  );
  assert.ok(/--state \/var\/lib\/fieldcam\/control-state\.cbor 3< \/run\/fieldcam\/audio\n$/.test(run), run);
  const install = readFileSync(join(target, 'opt/fieldcam/install.sh'), 'utf8');
  assert.ok(install.includes('no ffmpeg for the alsa microphone: sudo apt install ffmpeg') && install.includes('flashed: plughw:1,0'), install);
  for (const script of ['run', 'install.sh']) assert.is(spawnSync('sh', ['-n', join(target, 'opt/fieldcam', script)]).status, 0, script);
  const unit = readFileSync(join(target, 'etc/systemd/system/fieldcam.service'), 'utf8').split('\n');
  for (const line of ['RuntimeDirectory=fieldcam', 'RuntimeDirectoryMode=0700', 'SupplementaryGroups=video audio'])
    assert.ok(unit.includes(line), `${line} in the unit`);
});

test('the unit, the run script and install.sh', () => {
  const unit = readFileSync(join(board, 'etc/systemd/system/fieldcam.service'), 'utf8');
  for (const line of [
    'ExecStart=/opt/fieldcam/run',
    'Restart=always',
    'RestartSec=5',
    'User=fieldcam',
    'SupplementaryGroups=video',
    'StateDirectory=fieldcam',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'WantedBy=multi-user.target',
  ]) {
    assert.ok(unit.split('\n').includes(line), `${line} in the unit`);
  }
  for (const breaksCamera of ['PrivateDevices=', 'DevicePolicy=', 'DeviceAllow=', 'ProtectClock=', 'SystemCallArchitectures=']) {
    assert.ok(!unit.split('\n').some((l) => l.startsWith(breaksCamera)), `${breaksCamera} would hide the camera or the 32-bit runtime`);
  }
  const run = readFileSync(join(board, 'opt/fieldcam/run'), 'utf8');
  assert.ok(
    /"\$capture" -t 0 -n --codec h264 --inline --intra 15 --width 640 --height 480 --framerate 15 --bitrate 1000000 --flush -o - \\\n  \| \/opt\/fieldcam\/fieldcam-runtime --heap-limit 8388608 .* \/opt\/fieldcam\/firmware\.js --bundle \/etc\/fieldcam\/bundle --board \/opt\/fieldcam\/board\.json --state \/var\/lib\/fieldcam\/control-state\.cbor\n/.test(
      run,
    ),
    run,
  );
  const install = readFileSync(join(board, 'opt/fieldcam/install.sh'), 'utf8');
  assert.ok(install.startsWith('#!/bin/sh\n') && install.includes('\nset -eu\n'));
  for (const want of [
    'rpicam-vid libcamera-vid',
    'useradd --system',
    'usermod -a -G video fieldcam',
    'systemctl enable fieldcam.service',
    'chmod 0600 /etc/fieldcam/bundle/device.cbor /etc/fieldcam/bundle/private.key',
  ]) {
    assert.ok(install.includes(want), want);
  }
  for (const script of ['run', 'install.sh']) {
    const r = spawnSync('sh', ['-n', join(board, 'opt/fieldcam', script)], { encoding: 'utf8' });
    assert.is(r.status, 0, `${script}: ${r.stderr}`);
  }
  // systemd-analyze verify when this machine has it (nothing is installed for it): the unit as the board
  // reads it, with only ExecStart rebased so the run script exists.
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) {
    const dir = join(work.dir, 'verify');
    mkdirSync(dir);
    writeFileSync(join(dir, 'fieldcam.service'), unit.replace('ExecStart=/opt/fieldcam/run', `ExecStart=${join(board, 'opt/fieldcam/run')}`));
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'fieldcam.service')], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr.trim(), '', r.stderr);
  }
});

test('install.sh on a stand-in Raspberry Pi OS: does what it says, and a second run changes nothing', () => {
  // Stub commands on PATH record what install.sh asks of the system; the paths it touches are absolute
  // (/etc/fieldcam, /opt/fieldcam), so chown/chmod are stubs too. State: whether the user exists and is in video.
  const bin = join(work.dir, 'stubs');
  const log = join(work.dir, 'stubs.log');
  const state = join(work.dir, 'stubs.state');
  mkdirSync(bin);
  writeFileSync(state, '');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('id', `case "$1" in -u) echo 0 ;; -nG) grep -q video ${state} && echo "fieldcam video" || echo fieldcam ;; *) grep -q user ${state} ;; esac`);
  stub('useradd', `echo user >> ${state}`);
  stub('usermod', `echo video >> ${state}`);
  stub('rpicam-vid', 'echo "0 : imx219 [3280x2464 10-bit RGGB]"');
  stub('systemctl', `case "$1" in is-enabled) grep -q enabled ${state} ;; enable) echo enabled >> ${state} ;; esac`);
  stub('chown', '');
  stub('chmod', '');
  stub('uname', 'echo armv6l');
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const first = spawnSync('sh', [join(board, 'opt/fieldcam/install.sh')], { encoding: 'utf8', env });
  assert.is(first.status, 0, first.stderr);
  for (const line of ['camera: detected', 'machine: armv6l', 'user fieldcam: created', 'added to group video', 'service: enabled at boot'])
    assert.ok(first.stdout.includes(line), `${line}\n${first.stdout}`);
  const calls = readFileSync(log, 'utf8');
  assert.ok(calls.includes('useradd --system --user-group --home-dir /var/lib/fieldcam --no-create-home --shell /usr/sbin/nologin fieldcam'), calls);
  assert.ok(calls.includes('chown -R fieldcam:fieldcam /etc/fieldcam/bundle'), calls);
  writeFileSync(log, '');
  const second = spawnSync('sh', [join(board, 'opt/fieldcam/install.sh')], { encoding: 'utf8', env });
  assert.is(second.status, 0, second.stderr);
  for (const line of ['user fieldcam: exists', 'user fieldcam: in group video', 'service: already enabled'])
    assert.ok(second.stdout.includes(line), `${line}\n${second.stdout}`);
  const again = readFileSync(log, 'utf8');
  assert.ok(!/^(useradd|usermod|systemctl enable)/m.test(again), again);
  // No camera tool: refused by name before anything changes.
  rmSync(join(bin, 'rpicam-vid'));
  writeFileSync(log, '');
  const none = spawnSync('sh', [join(board, 'opt/fieldcam/install.sh')], { encoding: 'utf8', env });
  assert.is(none.status, 1);
  assert.ok(/no rpicam-vid or libcamera-vid for the rpicam camera: sudo apt install rpicam-apps/.test(none.stderr), none.stderr);
  assert.ok(!/^(useradd|usermod|chown|systemctl)/m.test(readFileSync(log, 'utf8')));
});

test("another board's tree is refused without --force", async () => {
  const other = join(work.dir, 'other-root');
  cpSync(board, other, { recursive: true });
  const r = await fieldcam(['flash', '--bundle', bundle, '--board', 'sim-x86', '--target', other]);
  assert.is(r.status, 1, r.stderr);
  assert.ok(/error FLASH_TARGET_CONFLICT: flash: .*other-root holds the pi-zero-w image, not sim-x86; pass --force/.test(r.stderr), r.stderr);
  const forced = await fieldcam(['flash', '--bundle', bundle, '--board', 'sim-x86', '--target', other, '--force', '--json']);
  assert.is(forced.status, 0, forced.stderr);
  const json = JSON.parse(forced.stdout) as FlashJson;
  assert.is(json.board, 'sim-x86');
  assert.is(json.files.find((f) => f.path === 'etc/fieldcam/bundle/private.key')!.action, 'unchanged');
  assert.is(json.files.find((f) => f.path === 'opt/fieldcam/fieldcam-runtime')!.action, 'updated');
});

test("sim --image boots the tree as the board would, against the cloud on the bundle's ports; a foreign state dir is refused", async () => {
  await running().close();
  cloud = undefined;
  const wrong = await fieldcam(['sim', '--image', board, '--state-dir', join(work.dir, 'empty-state'), '--once']);
  assert.is(wrong.status, 2, wrong.stderr);
  assert.ok(
    /error CLI_USAGE: sim --image: the state directory .*empty-state holds no local cloud \(no ca\.pem\).*pass the --state-dir of the cloud fieldcam provision ran against/.test(
      wrong.stderr,
    ),
    wrong.stderr,
  );
  const other = await startCloud({ stateDir: join(work.dir, 'other-cloud'), port: 0 });
  await other.close();
  const foreign = await fieldcam(['sim', '--image', board, '--state-dir', join(work.dir, 'other-cloud'), '--once']);
  assert.is(foreign.status, 2, foreign.stderr);
  assert.ok(/the bundle's ca\.pem is not the CA of the local cloud in .*other-cloud/.test(foreign.stderr), foreign.stderr);
  const port = await fieldcam(['sim', '--image', board, '--state-dir', stateDir, '--port', '1', '--once']);
  assert.is(port.status, 2, port.stderr);
  assert.ok(
    new RegExp(`--port 1, but the bundle's endpoints are https://127\\.0\\.0\\.1:${ports.kvs} \\(credentials 127\\.0\\.0\\.1:${ports.credentials}\\)`).test(
      port.stderr,
    ),
    port.stderr,
  );

  const r = await fieldcam(['sim', '--image', board, '--state-dir', stateDir, '--video', GOP10, '--once', '--as-fast-as-possible', '--json']);
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { endpoint: string; board: string; ok: boolean; devices: Rec[] };
  assert.is(out.endpoint, `https://127.0.0.1:${ports.kvs}`);
  assert.is(out.board, 'pi-zero-w');
  assert.equal(
    out.devices.map((d) => [d.stream, d.exitCode, d.framesIn, d.fragmentsIn, d.fragmentsPersisted, d.framesDropped]),
    [[THING, 0, 100, 10, 10, 0]],
  );
  cloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes] });
  assert.is(storedFragments(running(), THING), 20, "the first boot's 10 fragments and the simulator's 10, in the same state");
});

test.run();
