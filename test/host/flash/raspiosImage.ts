// A Raspberry-Pi-OS-shaped disk image for the flash tests, built with the tools flash itself uses and
// without mounting anything: an MBR (sfdisk) with a FAT boot partition (mtools: mformat, then config.txt and
// cmdline.txt) at 4 MiB as Raspberry Pi OS lays it out, and an ext4 root (mke2fs -d, written straight into
// the image at the partition's offset with `-E offset=`) holding /etc (os-release: Raspbian bookworm,
// rpi-issue, a user database without `pi`, hostname, hosts, login.defs), /usr with a systemd tree and rpicam-vid
// (systemd-timesyncd.service, multi-user.target) and Bookworm's merged-usr links (/lib → usr/lib ...).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const MIB = 1024 * 1024;
const BOOT_START = 4 * MIB;

export interface RaspiosShape {
  readonly bootMiB?: number;
  readonly rootMiB?: number;
  /** /etc/os-release text (default: Raspberry Pi OS 32-bit Bookworm). */
  readonly osRelease?: string;
  /**
   * Programs in /usr/bin, as an image with their packages installed has them (default: rpicam-vid, of
   * rpicam-apps). Only their presence is read (flash --verify's camera source row); none is ever run.
   */
  readonly tools?: readonly string[];
}

export const RASPBIAN_BOOKWORM = `PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"
NAME="Raspbian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=raspbian
ID_LIKE=debian
HOME_URL="http://www.raspbian.org/"
`;

/** The users and groups of a fresh Bookworm Lite image before its first boot: no `pi` (since April 2022). */
const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin
systemd-timesync:x:997:997:systemd Time Synchronization:/:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
shadow:x:42:
video:x:44:
plugdev:x:46:
nogroup:x:65534:
messagebus:x:107:
systemd-network:x:998:
systemd-timesync:x:997:
`;
const shadowOf = (db: string) =>
  db
    .trim()
    .split('\n')
    .map((l) => `${l.split(':')[0]}:*:19700:0:99999:7:::`)
    .join('\n') + '\n';
const gshadowOf = (db: string) =>
  db
    .trim()
    .split('\n')
    .map((l) => `${l.split(':')[0]}:*::`)
    .join('\n') + '\n';
const LOGIN_DEFS =
  'UID_MIN 1000\nUID_MAX 60000\nSYS_UID_MIN 100\nSYS_UID_MAX 999\nGID_MIN 1000\nGID_MAX 60000\nSYS_GID_MIN 100\nSYS_GID_MAX 999\nUSERGROUPS_ENAB yes\n';
const TIMESYNCD =
  '[Unit]\nDescription=Network Time Synchronization\n\n[Service]\nExecStart=!!/lib/systemd/systemd-timesyncd\n\n[Install]\nWantedBy=sysinit.target\n';

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

/** Writes the image to `path` (sparse). */
export function buildRaspiosImage(path: string, shape: RaspiosShape = {}): void {
  const bootBytes = (shape.bootMiB ?? 16) * MIB;
  const rootBytes = (shape.rootMiB ?? 64) * MIB;
  const rootStart = BOOT_START + bootBytes;
  const stage = mkdtempSync(join(tmpdir(), 'fieldcam-raspios-'));
  try {
    const file = (p: string, text: string, mode = 0o644, gid = 0) => {
      mkdirSync(dirname(join(stage, p)), { recursive: true });
      writeFileSync(join(stage, p), text);
      chmodSync(join(stage, p), mode);
      chownSync(join(stage, p), 0, gid);
    };
    file('etc/os-release', shape.osRelease ?? RASPBIAN_BOOKWORM);
    file('etc/rpi-issue', 'Raspberry Pi reference 2024-11-19\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen\n');
    file('etc/passwd', PASSWD);
    file('etc/group', GROUP);
    file('etc/shadow', shadowOf(PASSWD), 0o640, 42);
    file('etc/gshadow', gshadowOf(GROUP), 0o640, 42);
    file('etc/login.defs', LOGIN_DEFS);
    file('etc/hostname', 'raspberrypi\n');
    file('etc/hosts', '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\traspberrypi\n');
    file('usr/lib/systemd/system/systemd-timesyncd.service', TIMESYNCD);
    file('usr/lib/systemd/system/multi-user.target', '[Unit]\nDescription=Multi-User System\n');
    for (const d of ['usr/bin', 'usr/sbin', 'var/lib', 'etc/systemd/system/multi-user.target.wants', 'etc/NetworkManager/system-connections', 'root', 'tmp'])
      mkdirSync(join(stage, d), { recursive: true });
    for (const l of ['bin', 'sbin', 'lib']) symlinkSync(`usr/${l}`, join(stage, l));
    for (const t of shape.tools ?? ['rpicam-vid']) file(`usr/bin/${t}`, '#!/bin/sh\n# stands for the packaged program: present, never run\nexit 1\n', 0o755);
    writeFileSync(path, '');
    run('truncate', ['-s', String(rootStart + rootBytes), path]);
    const table = `label: dos\nunit: sectors\nstart=${BOOT_START / 512}, size=${bootBytes / 512}, type=c\nstart=${rootStart / 512}, size=${rootBytes / 512}, type=83\n`;
    const r = spawnSync('sfdisk', ['-q', path], { input: table, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sfdisk: ${r.stderr}`);
    run('mformat', ['-i', `${path}@@${BOOT_START}`, '-T', String(bootBytes / 512), '-h', '16', '-s', '32', '-v', 'bootfs', '::']);
    const boot = join(stage, '.boot');
    mkdirSync(boot);
    writeFileSync(
      join(boot, 'config.txt'),
      '# For more options and information see http://rptl.io/configtxt\ndtparam=audio=on\ncamera_auto_detect=1\ndisplay_auto_detect=1\n',
    );
    writeFileSync(join(boot, 'cmdline.txt'), 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n');
    run('mcopy', ['-i', `${path}@@${BOOT_START}`, join(boot, 'config.txt'), join(boot, 'cmdline.txt'), '::/']);
    rmSync(boot, { recursive: true });
    run('mke2fs', ['-q', '-t', 'ext4', '-L', 'rootfs', '-d', stage, '-E', `offset=${rootStart}`, path, `${rootBytes / 1024}k`]);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
