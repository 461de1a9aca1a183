// `fieldcam flash --verify IMAGE` and `fieldcam doctor --image IMAGE`: reads a flashed Raspberry Pi OS image
// back without mounting it (readMbr, mtools, debugfs) and checks what the board will meet at boot, each row
// PASS/FAIL/SKIP with a cause and, under a FAIL, a fix. `fieldcam flash --image` runs it on its temporary
// image before the rename: an image that fails here is never left at the output path.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFieldcamError } from '../../shared/hostErrors.ts';
import { cameraToolsRow, TOOL_DIRS } from '../doctor/cameraToolsRow.ts';
import type { CheckRow } from '../doctor/runDoctor.ts';
import { CAMERA_SOURCES, CAMERA_URL_FILE, readCameraSource, type CameraSource } from '../../shared/cameraSource.ts';
import { BUNDLE_DIR, IMAGE_DIR, SERVICE_USER, UNIT_FILE } from './deviceTree.ts';
import type { Ext4Image } from './Ext4Image.ts';
import { validateBundle } from './flashTree.ts';
import { camerasOf } from './flashCameras.ts';
import { FIRSTBOOT_LINK, SERVICE_LINK, TIMESYNCD_LINK, TIMESYNCD_MASK, TIMESYNCD_UNIT } from './imageFiles.ts';
import { openRaspiosImage, type RaspiosImage } from './openRaspiosImage.ts';
import { FIRSTBOOT_SCRIPT, FIRSTBOOT_UNIT } from './renderFirstBoot.ts';
import { hostnameFor, REGDOM, WIFI_CONNECTION } from './renderWifi.ts';

/** Modes of what flash writes (flashTree.ts treeFiles and imageFiles.ts; test/host/flash checks they agree). */
export const IMAGE_MODES: Readonly<Record<string, number>> = Object.freeze({
  [`${IMAGE_DIR}/fieldcam-runtime`]: 0o755,
  [`${IMAGE_DIR}/firmware.js`]: 0o644,
  [`${IMAGE_DIR}/board.json`]: 0o644,
  [`${IMAGE_DIR}/image.json`]: 0o644,
  [`${IMAGE_DIR}/VERSION`]: 0o644,
  [`${IMAGE_DIR}/run`]: 0o755,
  [`${IMAGE_DIR}/install.sh`]: 0o755,
  [FIRSTBOOT_SCRIPT]: 0o755,
  [UNIT_FILE]: 0o644,
  [FIRSTBOOT_UNIT]: 0o644,
});
export const BUNDLE_MODES: Readonly<Record<string, number>> = Object.freeze({
  'device.cbor': 0o600,
  'certificate.pem': 0o644,
  'private.key': 0o600,
  'ca.pem': 0o644,
});

const REFLASH = 'flash the image again: fieldcam flash --bundle DIR --board <name> --image <the Raspberry Pi OS image> -o <this image>';
const oct = (m: number) => `0${m.toString(8)}`;
const pass = (check: string, cause: string): CheckRow => ({ check, status: 'PASS', cause });

/**
 * A bundle with several cameras (device.cbor `cameras`): each camera's adapter (its tools in the image) and, for an
 * RTSP/HTTP camera, its camera-url-<camera> (0600); none for a one-camera bundle (the rows above cover it).
 */
function cameraRows(fs: Ext4Image, boardJson: string | undefined, source: CameraSource, owners: Set<number>): CheckRow[] {
  const camera = (JSON.parse(boardJson ?? 'null') as { camera?: { codec?: string; fps?: number } } | null)?.camera;
  let cameras;
  try {
    cameras = camerasOf({ camera: { codec: camera?.codec ?? 'h264', fps: camera?.fps ?? 30, source } }, `/${BUNDLE_DIR}`, (file) => {
      const bytes = fs.read(`/${BUNDLE_DIR}/${file}`, 64 * 1024);
      if (!bytes) throw Object.assign(new Error(`${file} is missing`), { code: 'ENOENT' });
      return bytes;
    });
  } catch (err) {
    if (!isFieldcamError(err)) return []; // an unreadable device.cbor is the bundle row's FAIL
    return [fail('camera source', err.message.replace(/^flash: /, ''), err.remedy)];
  }
  return (cameras ?? []).flatMap((c) => {
    const find = (tool: string) => TOOL_DIRS.map((d) => `${d}/${tool}`).find((p) => fs.stat(p) !== undefined);
    const tools = { ...cameraToolsRow({ camera: { source: c.source } }, find, 'the image'), check: `camera source ${c.name}` };
    if (!c.url) return [tools];
    const st = fs.stat(`/${BUNDLE_DIR}/${c.url.file}`);
    return [
      tools,
      st && (st.mode !== 0o600 || !owners.has(st.uid))
        ? fail(`camera URL ${c.name}`, `/${BUNDLE_DIR}/${c.url.file} is ${oct(st.mode)} uid ${st.uid}, not 0600 (it may hold the camera's password)`, REFLASH)
        : pass(`camera URL ${c.name}`, `/${BUNDLE_DIR}/${c.url.file} (0600; not shown)`),
    ];
  });
}
const fail = (check: string, cause: string, fix: string): CheckRow => ({ check, status: 'FAIL', cause, fix });
const skip = (check: string, cause: string): CheckRow => ({ check, status: 'SKIP', cause });
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function verifyImage(path: string): CheckRow[] {
  let img: RaspiosImage;
  try {
    img = openRaspiosImage(path);
  } catch (err) {
    if (!isFieldcamError(err)) throw err;
    return [fail('Raspberry Pi OS', err.message.replace(/^flash: /, ''), err.remedy)];
  }
  const rows: CheckRow[] = [];
  const { bootPartition: b, rootPartition: r } = img;
  rows.push(pass('partitions', `MBR: boot FAT partition ${b.number} (${mib(b.bytes)}), root ext4 partition ${r.number} (${mib(r.bytes)})`));
  const os = img.os.prettyName.includes(img.os.codename) ? img.os.prettyName : `${img.os.prettyName || img.os.id} (${img.os.codename})`;
  rows.push(pass('operating system', `${os}; config.txt and cmdline.txt on the boot partition`));
  const fs = img.root;
  const passwd = fs.readText('/etc/passwd') ?? '';
  const userLine = passwd.split('\n').find((l) => l.startsWith(`${SERVICE_USER}:`));
  const serviceUid = userLine ? Number(userLine.split(':')[2]) : undefined;

  // The image's files: present, regular, owned by root, with their modes.
  const wrong: string[] = [];
  for (const [p, mode] of Object.entries(IMAGE_MODES)) {
    const st = fs.stat(`/${p}`);
    if (!st) wrong.push(`/${p} is missing`);
    else if (st.type !== 'regular') wrong.push(`/${p} is a ${st.type}`);
    else if (st.mode !== mode || st.uid !== 0 || st.gid !== 0) wrong.push(`/${p} is ${oct(st.mode)} ${st.uid}:${st.gid}, not ${oct(mode)} root:root`);
  }
  rows.push(
    wrong.length === 0
      ? pass('fieldcam files', `/${IMAGE_DIR} (runtime, firmware, run, firstboot), the units: modes and owner root as written`)
      : fail('fieldcam files', wrong.join('; '), REFLASH),
  );

  let boardName: string | undefined;
  const imageJson = fs.readText(`/${IMAGE_DIR}/image.json`);
  const boardJson = fs.readText(`/${IMAGE_DIR}/board.json`);
  try {
    const image = JSON.parse(imageJson ?? 'null') as { board?: string; version?: string; target?: string } | null;
    const board = JSON.parse(boardJson ?? 'null') as { name?: string } | null;
    if (!image || !board) throw new Error('image.json or board.json is missing');
    if (image.board !== board.name) throw new Error(`image.json names board ${image.board}, board.json ${board.name}`);
    boardName = board.name;
    rows.push(pass('board', `${board.name} (fieldcam ${image.version}, runtime ${image.target})`));
  } catch (err) {
    rows.push(fail('board', `/${IMAGE_DIR}: ${(err as Error).message}`, REFLASH));
  }

  // The bundle: modes (root's until the first boot, the service user's after), then the device's own reader.
  const bundleWrong: string[] = [];
  const dirSt = fs.stat(`/${BUNDLE_DIR}`);
  const owners = new Set([0, ...(serviceUid !== undefined ? [serviceUid] : [])]);
  if (!dirSt || dirSt.type !== 'directory') bundleWrong.push(`/${BUNDLE_DIR} is missing`);
  else if (dirSt.mode !== 0o700 || !owners.has(dirSt.uid)) bundleWrong.push(`/${BUNDLE_DIR} is ${oct(dirSt.mode)} uid ${dirSt.uid}, not 0700`);
  for (const [name, mode] of Object.entries(BUNDLE_MODES)) {
    const st = fs.stat(`/${BUNDLE_DIR}/${name}`);
    if (!st || st.type !== 'regular') bundleWrong.push(`${name} is missing`);
    else if (st.mode !== mode || !owners.has(st.uid)) bundleWrong.push(`${name} is ${oct(st.mode)} uid ${st.uid}, not ${oct(mode)}`);
  }
  rows.push(
    bundleWrong.length === 0
      ? pass('bundle files', `/${BUNDLE_DIR}: folder 0700, private.key and device.cbor 0600`)
      : fail('bundle files', bundleWrong.join('; '), REFLASH),
  );
  let thingName: string | undefined;
  if (bundleWrong.length === 0 && boardJson !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'fieldcam-verify-'));
    try {
      mkdirSync(join(dir, 'bundle'), { mode: 0o700 });
      for (const name of Object.keys(BUNDLE_MODES))
        writeFileSync(join(dir, 'bundle', name), fs.read(`/${BUNDLE_DIR}/${name}`) ?? new Uint8Array(0), { mode: 0o600 });
      writeFileSync(join(dir, 'board.json'), boardJson);
      const s = validateBundle(join(dir, 'bundle'), join(dir, 'board.json'));
      thingName = s.thingName;
      rows.push(
        pass(
          'bundle',
          `thing ${s.thingName}, stream ${s.streamName}, KVS ${s.kvs.host}:${s.kvs.port}: valid for ${boardName ?? 'the board'} (the device's own reader)`,
        ),
      );
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      rows.push(fail('bundle', err.message.replace(/^flash: /, '').replace(dir, BUNDLE_DIR), err.remedy));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    rows.push(skip('bundle', 'not read: its files are not all there'));
  }

  // The camera adapter board.json names: its tools in the image, and its URL file (0600) when it needs one.
  let source: CameraSource | undefined;
  try {
    const camera = (JSON.parse(boardJson ?? 'null') as { camera?: { source?: unknown } } | null)?.camera;
    source = readCameraSource(camera?.source, (field, want) => {
      throw new Error(`board.json ${field} must be ${want}`);
    });
  } catch (err) {
    rows.push(fail('camera source', `/${IMAGE_DIR}/${(err as Error).message}`, REFLASH));
  }
  // A bundle with several cameras: a row per camera (its own adapter) in place of the board's one.
  const perCamera = source ? cameraRows(fs, boardJson, source, owners) : [];
  if (perCamera.length > 0) rows.push(...perCamera);
  else if (source) {
    rows.push(cameraToolsRow({ camera: { source } }, (tool) => TOOL_DIRS.map((d) => `${d}/${tool}`).find((p) => fs.stat(p) !== undefined), 'the image'));
    if (CAMERA_SOURCES[source.kind].url) {
      const st = fs.stat(`/${BUNDLE_DIR}/${CAMERA_URL_FILE}`);
      rows.push(
        !st || st.type !== 'regular' || st.size === 0
          ? fail(
              'camera URL',
              `/${BUNDLE_DIR}/${CAMERA_URL_FILE} is missing or empty: the ${source.kind} camera has no address`,
              'flash again with --camera-url-file FILE',
            )
          : st.mode !== 0o600 || !owners.has(st.uid)
            ? fail('camera URL', `/${BUNDLE_DIR}/${CAMERA_URL_FILE} is ${oct(st.mode)} uid ${st.uid}, not 0600 (it may hold the camera's password)`, REFLASH)
            : pass('camera URL', `/${BUNDLE_DIR}/${CAMERA_URL_FILE} (0600; not shown: it may hold the camera's password)`),
      );
    }
  }

  rows.push(enabled(fs, 'service unit', SERVICE_LINK, `/${UNIT_FILE}`, 'fieldcam.service is enabled (multi-user.target), ExecStart=/opt/fieldcam/run'));
  const unit = fs.readText(`/${UNIT_FILE}`) ?? '';
  if (!unit.split('\n').includes(`ExecStart=/${IMAGE_DIR}/run`))
    rows[rows.length - 1] = fail('service unit', `/${UNIT_FILE} does not start /${IMAGE_DIR}/run`, REFLASH);
  rows.push(
    enabled(
      fs,
      'first boot',
      FIRSTBOOT_LINK,
      `/${FIRSTBOOT_UNIT}`,
      userLine
        ? `fieldcam-firstboot.service enabled; user ${SERVICE_USER} exists (uid ${serviceUid})`
        : `fieldcam-firstboot.service is enabled: it creates the user ${SERVICE_USER} at boot`,
    ),
  );

  const conn = fs.stat(`/${WIFI_CONNECTION}`);
  const cmdline = img.cmdline;
  const country = new RegExp(`(?:^|\\s)${REGDOM.replace(/\./g, '\\.')}=([A-Z]{2})(?:\\s|$)`).exec(cmdline)?.[1];
  if (!conn) rows.push(skip('Wi-Fi', 'no fieldcam Wi-Fi connection: the board uses Ethernet (or a connection configured otherwise)'));
  else if (conn.type !== 'regular' || conn.mode !== 0o600 || conn.uid !== 0) {
    rows.push(fail('Wi-Fi', `/${WIFI_CONNECTION} is ${oct(conn.mode)} uid ${conn.uid}: NetworkManager ignores a keyfile that is not 0600 root`, REFLASH));
  } else {
    const text = fs.readText(`/${WIFI_CONNECTION}`) ?? '';
    const ssid = /^ssid=(.*)$/m.exec(text)?.[1];
    const psk = /^psk=.+$/m.test(text);
    if (!ssid || !psk) rows.push(fail('Wi-Fi', `/${WIFI_CONNECTION} has no ${ssid ? 'psk' : 'ssid'}`, REFLASH));
    else if (!country)
      rows.push(
        fail('Wi-Fi', `no ${REGDOM}= on cmdline.txt: Raspberry Pi OS keeps the radio off until a country is set`, 'flash again with --wifi-country XX'),
      );
    else rows.push(pass('Wi-Fi', `NetworkManager connection for SSID ${ssid} (0600 root, passphrase not shown), country ${country}`));
  }

  const hostname = (fs.readText('/etc/hostname') ?? '').trim();
  const hosts = fs.readText('/etc/hosts') ?? '';
  const want = thingName !== undefined ? hostnameFor(thingName) : undefined;
  if (want === undefined) rows.push(skip('hostname', `${hostname || '(none)'}: the thing name is unknown (the bundle is not valid)`));
  else if (hostname !== want) rows.push(fail('hostname', `/etc/hostname says ${hostname || '(nothing)'}, not ${want} (the thing name)`, REFLASH));
  else if (!new RegExp(`^127\\.0\\.1\\.1\\s+${want}\\s*$`, 'm').test(hosts))
    rows.push(fail('hostname', `/etc/hosts has no "127.0.1.1 ${want}" line (sudo would complain)`, REFLASH));
  else rows.push(pass('hostname', `${want} (the thing name), in /etc/hostname and /etc/hosts`));

  const mask = fs.stat(`/${TIMESYNCD_MASK}`);
  if (mask?.type === 'symlink' && mask.target === '/dev/null') rows.push(fail('clock (NTP)', 'systemd-timesyncd is masked', REFLASH));
  else
    rows.push(
      enabled(
        fs,
        'clock (NTP)',
        TIMESYNCD_LINK,
        TIMESYNCD_UNIT,
        'systemd-timesyncd is enabled (sysinit.target): NTP sets the clock; fieldcam corrects skew anyway',
      ),
    );

  rows.push(pass('free space', `${mib(fs.freeBytes())} free on the root file system (it grows to the card on first boot)`));
  return rows;
}

function enabled(fs: Ext4Image, check: string, link: string, target: string, ok: string): CheckRow {
  // Bookworm's /lib is a link to usr/lib; the enable links name /lib/systemd/system/<unit>.
  const unit = fs.stat(target) ?? (target.startsWith('/lib/') ? fs.stat(`/usr${target}`) : undefined);
  if (!unit || unit.type !== 'regular') return fail(check, `${target} is missing`, REFLASH);
  const st = fs.stat(`/${link}`);
  if (!st || st.type !== 'symlink' || st.target !== target)
    return fail(check, `/${link} ${st ? `is a ${st.type}${st.target ? ` to ${st.target}` : ''}` : 'is missing'}: the unit is not enabled`, REFLASH);
  return pass(check, ok);
}
