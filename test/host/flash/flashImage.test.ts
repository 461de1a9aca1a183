// Issue 17's proof: `fieldcam provision` (the real CLI, local cloud) → `fieldcam flash --image` into a
// Raspberry-Pi-OS-shaped disk image built with the same tools (raspiosImage.ts) → read back without mounting
// (`flash --verify`, `doctor --image`, sfdisk as a second MBR reader) → the root file system extracted with
// debugfs rdump and booted under qemu-arm -cpu arm1176 by `fieldcam sim --image`, as the unit starts it: every
// fragment PERSISTED. The first-boot step runs against that extracted root (real useradd/usermod --root):
// user created, unit enabled, a second run changes nothing. Refusals leave the input untouched and write no
// output: not Raspberry Pi OS, a root partition too small, a bundle for another board's camera, a missing
// Wi-Fi passphrase file, the ESP32 profile.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../firmware/core/cbor/encodeCbor.ts';
import { Ext4Image } from '../../../host/lib/flash/Ext4Image.ts';
import { FatImage } from '../../../host/lib/flash/FatImage.ts';
import { readMbr } from '../../../host/lib/flash/readMbr.ts';
import { BUNDLE_MODES, IMAGE_MODES } from '../../../host/lib/flash/verifyImage.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, ROOT, tempDir } from '../provision/provisionKit.ts';
import { buildRaspiosImage } from './raspiosImage.ts';

const test = suite('fieldcam flash --image: a Raspberry Pi OS image written without mounting, read back, its root booted under QEMU');
const work = tempDir('fieldcam-flash-image-');
const stateDir = join(work.dir, 'cloud');
const bundle = join(work.dir, 'yard-cam-1');
const raspios = join(work.dir, 'raspios.img');
const camera = join(work.dir, 'out', 'camera.img');
const pskFile = join(work.dir, 'wifi.psk');
const GOP10 = join(ROOT, 'test', 'fixtures', 'h264-320x240-10fps-gop10.h264');
const THING = 'Yard_Cam-1';
const PSK = 'correct horse; battery \\ staple';

type Row = { check: string; status: string; cause: string; fix?: string };

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

const ports = { kvs: await freePort(), credentials: await freePort() };
let cloud: RunningCloud | undefined = await startCloud({ stateDir, port: ports.kvs, credentialsPort: ports.credentials, routes: [...mediaRoutes] });
const caFile = cloud.caFile;
test.after(async () => {
  await cloud?.close();
  work.remove();
});
const fieldcam = (args: string[]) => cli({ caFile } as RunningCloud, work.dir, args);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

test('provision (CLI) writes the bundle; a Raspberry-Pi-OS-shaped image is built with sfdisk, mtools and mke2fs -d', async () => {
  const p = await fieldcam(['provision', '--thing', THING, '--out', bundle, '--endpoint-url', cloud!.endpoint, '--json']);
  assert.is(p.status, 0, p.stderr);
  buildRaspiosImage(raspios);
  mkdirSync(join(work.dir, 'out'));
  writeFileSync(pskFile, `${PSK}\n`, { mode: 0o600 });
});

test('flash --image -o writes fieldcam into the image: atomically, the input untouched, read back before the rename', async () => {
  const before = sha(raspios);
  const f = await fieldcam([
    'flash',
    '--bundle',
    bundle,
    '--board',
    'pi-zero-w',
    '--image',
    raspios,
    '-o',
    camera,
    '--wifi-ssid',
    'Yard Net',
    '--wifi-psk-file',
    pskFile,
    '--wifi-country',
    'gb',
    '--json',
  ]);
  assert.is(f.status, 0, f.stderr);
  const r = JSON.parse(f.stdout) as {
    board: string;
    thingName: string;
    hostname: string;
    wifi: { ssid: string; country: string };
    files: { path: string; mode: string }[];
    checks: Row[];
  };
  assert.is(r.board, 'pi-zero-w');
  assert.is(r.thingName, THING);
  assert.is(r.hostname, 'yard-cam-1');
  assert.equal(r.wifi, { ssid: 'Yard Net', country: 'GB' });
  assert.ok(!f.stdout.includes(PSK) && !f.stderr.includes(PSK), 'the passphrase is never printed');
  assert.equal(
    r.checks.filter((c) => c.status !== 'PASS'),
    [],
  );
  // The modes verify expects are the modes flash writes (one table per side, checked to agree here).
  const modes = Object.fromEntries(r.files.map((x) => [x.path, parseInt(x.mode, 8)]));
  for (const [p, m] of Object.entries(IMAGE_MODES)) assert.is(modes[p], m, p);
  for (const [p, m] of Object.entries(BUNDLE_MODES)) assert.is(modes[`etc/fieldcam/bundle/${p}`], m, p);
  assert.is(sha(raspios), before, 'the input image is unchanged');
  assert.equal(leftovers(join(work.dir, 'out')), []);
  assert.equal(leftovers(work.dir), []);
});

test('read back without mounting: the MBR (sfdisk agrees), modes and owners, the Wi-Fi keyfile, cmdline.txt, hostname, enable links', () => {
  const mbr = readMbr(camera);
  const sf = JSON.parse(spawnSync('sfdisk', ['-J', camera], { encoding: 'utf8' }).stdout) as {
    partitiontable: { partitions: { start: number; size: number; type: string }[] };
  };
  assert.equal(
    mbr.partitions.map((p) => [p.offset / 512, p.bytes / 512, p.type.toString(16)]),
    sf.partitiontable.partitions.map((p) => [p.start, p.size, p.type]),
  );
  const root = new Ext4Image(camera, mbr.partitions[1]!.offset);
  const boot = new FatImage(camera, mbr.partitions[0]!.offset);
  assert.is(root.stat('/etc/fieldcam/bundle')!.mode, 0o700);
  assert.equal(root.stat('/etc/fieldcam/bundle/private.key'), {
    type: 'regular',
    mode: 0o600,
    uid: 0,
    gid: 0,
    size: statSync(join(bundle, 'private.key')).size,
  });
  assert.ok(root.read('/etc/fieldcam/bundle/private.key')!.equals(readFileSync(join(bundle, 'private.key'))));
  assert.ok(root.read('/opt/fieldcam/fieldcam-runtime')!.equals(readFileSync(join(ROOT, 'dist', 'pi-zero-w', 'fieldcam-runtime'))));
  const wifi = root.stat('/etc/NetworkManager/system-connections/fieldcam-wifi.nmconnection')!;
  assert.equal([wifi.type, wifi.mode, wifi.uid, wifi.gid], ['regular', 0o600, 0, 0]);
  const keyfile = root.readText('/etc/NetworkManager/system-connections/fieldcam-wifi.nmconnection')!;
  for (const line of ['type=wifi', 'autoconnect=true', 'ssid=Yard Net', 'key-mgmt=wpa-psk', 'psk=correct horse; battery \\\\ staple', 'method=auto']) {
    assert.ok(keyfile.split('\n').includes(line), `${line} in\n${keyfile}`);
  }
  assert.is(
    boot.read('cmdline.txt')!.toString(),
    'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet cfg80211.ieee80211_regdom=GB\n',
  );
  assert.is(root.readText('/etc/hostname'), 'yard-cam-1\n');
  assert.ok(root.readText('/etc/hosts')!.includes('\n127.0.1.1\tyard-cam-1\n'));
  assert.ok(!root.readText('/etc/hosts')!.includes('raspberrypi'));
  assert.is(root.stat('/etc/systemd/system/multi-user.target.wants/fieldcam.service')!.target, '/etc/systemd/system/fieldcam.service');
  assert.is(root.stat('/etc/systemd/system/multi-user.target.wants/fieldcam-firstboot.service')!.target, '/etc/systemd/system/fieldcam-firstboot.service');
  assert.is(root.stat('/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service')!.target, '/lib/systemd/system/systemd-timesyncd.service');
  assert.ok(!root.readText('/etc/passwd')!.includes('fieldcam'), "the user is the first boot's to create");
  // e2fsck, read-only: the edited file system is consistent.
  const fsck = spawnSync('sh', ['-c', `dd if=${camera} of=${work.dir}/root.ext4 bs=1M skip=20 count=64 status=none && e2fsck -fn ${work.dir}/root.ext4`], {
    encoding: 'utf8',
  });
  assert.is(fsck.status, 0, fsck.stdout + fsck.stderr);
});

test('flash --verify and doctor --image: every check PASS, with the same rows', async () => {
  const v = await fieldcam(['flash', '--verify', camera]);
  assert.is(v.status, 0, v.stdout + v.stderr);
  for (const check of [
    'partitions',
    'operating system',
    'fieldcam files',
    'board',
    'bundle files',
    'bundle',
    'camera source',
    'service unit',
    'first boot',
    'Wi-Fi',
    'hostname',
    'clock (NTP)',
    'free space',
  ]) {
    assert.ok(new RegExp(`^PASS  ${check.replace(/[()]/g, '\\$&')}\\s`, 'm').test(v.stdout), `${check}\n${v.stdout}`);
  }
  assert.ok(/all 13 checks passed/.test(v.stdout), v.stdout);
  assert.ok(!v.stdout.includes('battery'), 'the passphrase is never printed');
  const d = await fieldcam(['doctor', '--image', camera, '--json']);
  assert.is(d.status, 0, d.stderr);
  assert.equal(
    (JSON.parse(d.stdout) as { checks: Row[] }).checks.map((c) => [c.check, c.status]),
    v.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => [l.slice(6).replace(/\s{2,}.*$/, ''), l.slice(0, 4)]),
  );
  // The plain Raspberry Pi OS image: the fieldcam checks fail, each with a cause and a fix.
  const plain = await fieldcam(['flash', '--verify', raspios]);
  assert.is(plain.status, 1);
  assert.ok(/^FAIL  fieldcam files\s+\/opt\/fieldcam\/fieldcam-runtime is missing/m.test(plain.stdout), plain.stdout);
  assert.ok(/^\s+fix: flash the image again/m.test(plain.stdout), plain.stdout);
  assert.ok(/^SKIP  Wi-Fi/m.test(plain.stdout), plain.stdout);
});

const standIn = join(work.dir, 'stand-in');

test('the root file system, extracted with debugfs rdump, boots under qemu-arm -cpu arm1176 via sim --image: every fragment PERSISTED', async () => {
  mkdirSync(standIn);
  const mbr = readMbr(camera);
  new Ext4Image(camera, mbr.partitions[1]!.offset).dumpTo('/', standIn);
  assert.is(statSync(join(standIn, 'etc/fieldcam/bundle/private.key')).mode & 0o777, 0o600);
  assert.is(statSync(join(standIn, 'opt/fieldcam/fieldcam-runtime')).mode & 0o777, 0o755);
  await cloud!.close();
  cloud = undefined;
  const r = await fieldcam(['sim', '--image', standIn, '--state-dir', stateDir, '--video', GOP10, '--once', '--as-fast-as-possible', '--json']);
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { board: string; devices: Record<string, unknown>[] };
  assert.is(out.board, 'pi-zero-w');
  assert.equal(
    out.devices.map((d) => [d.stream, d.exitCode, d.framesIn, d.fragmentsIn, d.fragmentsPersisted, d.framesDropped]),
    [[THING, 0, 100, 10, 10, 0]],
  );
  cloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes] });
  const record = cloud.ctx.streams.get(THING);
  assert.ok(record, 'the stream exists');
  assert.is(
    new Set(
      fragmentStoreFor(cloud.ctx, record!)
        .list()
        .map((f) => f.producerTimestampMs),
    ).size,
    10,
    'every fragment stored',
  );
});

test('first boot on the extracted root (real useradd/usermod --root): user created, in video, bundle given to it, unit enabled; a second run changes nothing', () => {
  const script = join(standIn, 'opt/fieldcam/firstboot');
  const first = spawnSync('sh', [script, standIn], { encoding: 'utf8' });
  assert.is(first.status, 0, first.stdout + first.stderr);
  for (const line of ['user fieldcam: created', 'user fieldcam: added to group video', 'bundle /etc/fieldcam/bundle: given to fieldcam', 'service: enabled']) {
    assert.ok(first.stdout.includes(line), `${line}\n${first.stdout}`);
  }
  const user = readFileSync(join(standIn, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('fieldcam:'))!
    .split(':');
  const uid = Number(user[2]);
  assert.ok(uid >= 100 && uid <= 999, `a system uid: ${uid}`);
  assert.is(user[5], '/var/lib/fieldcam');
  assert.is(user[6], '/usr/sbin/nologin');
  assert.ok(/^video:x:44:fieldcam$/m.test(readFileSync(join(standIn, 'etc/group'), 'utf8')));
  assert.ok(!/^pi:/m.test(readFileSync(join(standIn, 'etc/passwd'), 'utf8')));
  for (const name of ['', 'device.cbor', 'private.key', 'certificate.pem', 'ca.pem'])
    assert.is(statSync(join(standIn, 'etc/fieldcam/bundle', name)).uid, uid, name);
  assert.is(readlinkSync(join(standIn, 'etc/systemd/system/multi-user.target.wants/fieldcam.service')), '/etc/systemd/system/fieldcam.service');

  const snapshot = () =>
    JSON.stringify([
      ...['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'].map((p) => [p, sha(join(standIn, p)), statSync(join(standIn, p)).mtimeMs]),
      ...['', 'device.cbor', 'private.key', 'certificate.pem', 'ca.pem'].map((n) => {
        const s = statSync(join(standIn, 'etc/fieldcam/bundle', n));
        return [n, s.uid, s.gid, s.mode, s.ctimeMs];
      }),
      lstatSync(join(standIn, 'etc/systemd/system/multi-user.target.wants/fieldcam.service')).ctimeMs,
    ]);
  // systemd-analyze verify, when this machine has it: the first-boot unit as the board reads it, with only
  // ExecStart rebased so its script exists here.
  if (spawnSync('systemd-analyze', ['--version']).status === 0) {
    const dir = join(work.dir, 'verify-units');
    mkdirSync(dir);
    const unit = readFileSync(join(standIn, 'etc/systemd/system/fieldcam-firstboot.service'), 'utf8');
    writeFileSync(join(dir, 'fieldcam-firstboot.service'), unit.replace('ExecStart=/opt/fieldcam/firstboot', `ExecStart=${script}`));
    const v = spawnSync('systemd-analyze', ['verify', join(dir, 'fieldcam-firstboot.service')], { encoding: 'utf8' });
    assert.is(v.status, 0, v.stderr);
    assert.is(v.stderr.trim(), '', v.stderr);
  }
  const before = snapshot();
  const second = spawnSync('sh', [script, standIn], { encoding: 'utf8' });
  assert.is(second.status, 0, second.stderr);
  for (const line of ['user fieldcam: exists', 'user fieldcam: in group video', 'bundle /etc/fieldcam/bundle: owned by fieldcam', 'service: enabled'])
    assert.ok(second.stdout.includes(line), `${line}\n${second.stdout}`);
  assert.ok(!second.stdout.includes('created') && !second.stdout.includes('given to'), second.stdout);
  assert.is(snapshot(), before, 'nothing changed');
});

async function refused(args: string[], code: string, message: RegExp, input = raspios): Promise<void> {
  const before = sha(input);
  const out = join(work.dir, 'out', 'refused.img');
  const r = await fieldcam(['flash', '--board', 'pi-zero-w', '--image', input, '-o', out, ...args]);
  assert.is(r.status, code === 'CLI_USAGE' ? 2 : 1, r.stderr);
  assert.ok(new RegExp(`error ${code}: `).test(r.stderr), r.stderr);
  assert.ok(message.test(r.stderr), r.stderr);
  assert.is(sha(input), before, 'the input is untouched');
  assert.ok(!existsSync(out), 'no output');
  assert.equal(leftovers(join(work.dir, 'out')), []);
}

test('refusals, by name, image untouched: not Raspberry Pi OS, a root partition too small, a bundle for another board, no Wi-Fi passphrase file, the ESP32 profile', async () => {
  const noMbr = join(work.dir, 'random.img');
  writeFileSync(noMbr, createHash('sha512').update('not a disk').digest());
  await refused(
    ['--bundle', bundle],
    'FLASH_IMAGE_NOT_RASPIOS',
    /random\.img is not a Raspberry Pi OS disk image: it is 64 bytes, smaller than one sector/,
    noMbr,
  );
  const ubuntu = join(work.dir, 'ubuntu.img');
  buildRaspiosImage(ubuntu, { rootMiB: 16, osRelease: 'PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nVERSION_CODENAME=noble\n' });
  await refused(['--bundle', bundle], 'FLASH_IMAGE_NOT_RASPIOS', /its os-release says "Ubuntu 24\.04 LTS" \(ID=ubuntu\), not Raspbian/, ubuntu);
  const bullseye = join(work.dir, 'bullseye.img');
  buildRaspiosImage(bullseye, { rootMiB: 16, osRelease: 'PRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"\nID=raspbian\nVERSION_CODENAME=bullseye\n' });
  await refused(['--bundle', bundle], 'FLASH_IMAGE_NOT_RASPIOS', /\(bullseye\); fieldcam writes Bookworm's NetworkManager settings/, bullseye);
  const small = join(work.dir, 'small.img');
  buildRaspiosImage(small, { rootMiB: 6 });
  await refused(['--bundle', bundle], 'FLASH_IMAGE_TOO_SMALL', /the root partition of .*small\.img has [\d.]+ MiB free; fieldcam needs [\d.]+ MiB/, small);

  const mjpeg = join(work.dir, 'mjpeg-bundle');
  cpSync(bundle, mjpeg, { recursive: true });
  const doc = decodeCbor(readFileSync(join(mjpeg, 'device.cbor'))) as Record<string, unknown>;
  const buf = new Uint8Array(4096);
  writeFileSync(join(mjpeg, 'device.cbor'), buf.subarray(0, encodeCbor({ ...doc, camera: { codec: 'mjpeg', fps: 10 } }, buf)));
  await refused(
    ['--bundle', mjpeg],
    'FLASH_BUNDLE_WRONG_BOARD',
    /sets camera\.codec mjpeg, but the "h264" camera of this board .* is what the device captures/,
  );

  await refused(
    ['--bundle', bundle, '--wifi-ssid', 'Yard Net', '--wifi-psk-file', join(work.dir, 'nope.psk'), '--wifi-country', 'GB'],
    'FLASH_WIFI_INVALID',
    /--wifi-psk-file .*nope\.psk cannot be read: ENOENT/,
  );
  await refused(
    ['--bundle', bundle, '--wifi-ssid', 'Yard Net', '--wifi-country', 'GB'],
    'FLASH_WIFI_INVALID',
    /go together \(the passphrase is read from a file, never the command line\)/,
  );
  const r = await fieldcam(['flash', '--bundle', bundle, '--board', 'esp32-cam', '--image', raspios, '-o', join(work.dir, 'out', 'esp.img')]);
  assert.is(r.status, 2);
  assert.ok(/error CLI_USAGE: flash: esp32-cam is a memory profile run under QEMU, not a Linux board/.test(r.stderr), r.stderr);
});

test('--camera-source rtsp on pi-4 (aarch64): the URL (with its password) goes to the bundle, 0600, and nowhere else; a missing ffmpeg is a WARN', async () => {
  const urlFile = join(work.dir, 'camera.url');
  const secret = 'pa55-w0rd';
  const url = `rtsp://admin:${secret}@192.0.2.10:554/stream1`;
  writeFileSync(urlFile, `${url}\n`, { mode: 0o600 });
  const out = join(work.dir, 'out', 'ipcam.img');
  const missing = await fieldcam(['flash', '--bundle', bundle, '--board', 'pi-4', '--camera-source', 'rtsp', '--image', raspios, '-o', out]);
  assert.is(missing.status, 2, missing.stderr);
  assert.ok(/the rtsp camera needs its URL: --camera-url-file FILE/.test(missing.stderr), missing.stderr);
  const wrongKind = await fieldcam(['flash', '--bundle', bundle, '--board', 'pi-4', '--camera-url-file', urlFile, '--image', raspios, '-o', out]);
  assert.is(wrongKind.status, 2, wrongKind.stderr);
  assert.ok(/--camera-url-file goes with an rtsp or mjpeg-http camera; pi-4's is rpicam/.test(wrongKind.stderr), wrongKind.stderr);
  assert.ok(!existsSync(out));
  const f = await fieldcam([
    'flash',
    '--bundle',
    bundle,
    '--board',
    'pi-4',
    '--camera-source',
    'rtsp',
    '--camera-url-file',
    urlFile,
    '--image',
    raspios,
    '-o',
    out,
    '--json',
  ]);
  assert.is(f.status, 0, f.stderr);
  assert.ok(!f.stdout.includes(secret) && !f.stderr.includes(secret), 'the camera password is never printed');
  const checks = (JSON.parse(f.stdout) as { checks: Row[] }).checks;
  const row = (name: string) => checks.find((c) => c.check === name);
  assert.is(row('camera source')?.status, 'WARN');
  assert.ok(
    /ffmpeg not on the image/.test(row('camera source')!.cause) && row('camera source')!.fix === 'on the board: sudo apt install ffmpeg',
    JSON.stringify(row('camera source')),
  );
  assert.is(row('camera URL')?.status, 'PASS');
  assert.equal(
    checks.filter((c) => c.status === 'FAIL'),
    [],
  );
  const root = new Ext4Image(out, readMbr(out).partitions[1]!.offset);
  const st = root.stat('/etc/fieldcam/bundle/camera-url')!;
  assert.equal([st.mode, st.uid, root.readText('/etc/fieldcam/bundle/camera-url')], [0o600, 0, `${url}\n`]);
  assert.equal((JSON.parse(root.readText('/opt/fieldcam/board.json')!) as { camera: { source: unknown } }).camera.source, { kind: 'rtsp' });
  assert.is((JSON.parse(root.readText('/opt/fieldcam/image.json')!) as { target: string }).target, 'aarch64');
  const run = root.readText('/opt/fieldcam/run')!;
  assert.ok(
    run.includes('url=$(cat /etc/fieldcam/bundle/camera-url)') &&
      run.includes('ffmpeg -hide_banner -loglevel error -nostdin $transport -probesize 32 -i "$url" -an -c:v copy'),
    run,
  );
  for (const p of ['/opt/fieldcam/run', '/opt/fieldcam/board.json', '/opt/fieldcam/install.sh', '/etc/systemd/system/fieldcam.service'])
    assert.ok(!root.readText(p)!.includes(secret), p);
  const doctor = await fieldcam(['doctor', '--image', out, '--json']);
  assert.is(doctor.status, 0, doctor.stderr); // a WARN does not fail
  assert.ok(!doctor.stdout.includes(secret));
});

test('flash --image without -o replaces the image in place, atomically; a second flash keeps it valid', async () => {
  const copy = join(work.dir, 'out', 'inplace.img');
  cpSync(camera, copy);
  const f = await fieldcam(['flash', '--bundle', bundle, '--board', 'pi-zero-w', '--image', copy]);
  assert.is(f.status, 0, f.stderr);
  assert.ok(/all 13 checks passed/.test(f.stdout), f.stdout);
  assert.ok(/^SKIP  Wi-Fi|^PASS  Wi-Fi/m.test(f.stdout), f.stdout);
  assert.equal(leftovers(join(work.dir, 'out')), []);
  const other = await fieldcam(['flash', '--bundle', bundle, '--board', 'sim-x86', '--image', copy]);
  assert.is(other.status, 1, other.stderr);
  assert.ok(/error FLASH_TARGET_CONFLICT: flash: .*inplace\.img holds the pi-zero-w image, not sim-x86; pass --force/.test(other.stderr), other.stderr);
});

test('--count N --prefix: one image per bundle of a provision --count fleet, differing only in identity', async () => {
  const fleet = join(work.dir, 'fleet');
  const p = await fieldcam(['provision', '--count', '2', '--prefix', 'lot-', '--out', fleet, '--endpoint-url', cloud!.endpoint]);
  assert.is(p.status, 0, p.stderr);
  const images = join(work.dir, 'images');
  const wrong = await fieldcam(['flash', '--bundle', fleet, '--count', '3', '--prefix', 'lot-', '--board', 'pi-zero-w', '--image', raspios, '-o', images]);
  assert.is(wrong.status, 2, wrong.stderr);
  assert.ok(/error CLI_USAGE: flash: .*fleet holds 2 bundle\(s\) named lot-…, not --count 3 \(lot-001, lot-002\)/.test(wrong.stderr), wrong.stderr);
  assert.ok(!existsSync(images));
  const f = await fieldcam([
    'flash',
    '--bundle',
    fleet,
    '--count',
    '2',
    '--prefix',
    'lot-',
    '--board',
    'pi-zero-w',
    '--image',
    raspios,
    '-o',
    images,
    '--wifi-ssid',
    'Yard Net',
    '--wifi-psk-file',
    pskFile,
    '--wifi-country',
    'GB',
    '--json',
  ]);
  assert.is(f.status, 0, f.stderr);
  const r = JSON.parse(f.stdout) as { images: { thingName: string; output: string; hostname: string; files: { path: string }[]; checks: Row[] }[] };
  assert.equal(
    r.images.map((i) => [i.thingName, i.output, i.hostname]),
    [
      ['lot-001', join(images, 'lot-001.img'), 'lot-001'],
      ['lot-002', join(images, 'lot-002.img'), 'lot-002'],
    ],
  );
  for (const i of r.images)
    assert.equal(
      i.checks.filter((c) => c.status !== 'PASS'),
      [],
    );
  const [a, b] = r.images.map((i) => new Ext4Image(i.output, readMbr(i.output).partitions[1]!.offset));
  const differ = r.images[0]!.files.map((x) => x.path).filter((path) => !a!.read(`/${path}`)!.equals(b!.read(`/${path}`)!));
  assert.equal(differ, [
    'etc/fieldcam/bundle/device.cbor',
    'etc/fieldcam/bundle/certificate.pem',
    'etc/fieldcam/bundle/private.key',
    'etc/hostname',
    'etc/hosts',
  ]);
});

test.run();
