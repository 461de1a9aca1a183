// The first-boot step of a flashed disk image: what install.sh does on the board, minus what `fieldcam flash
// --image` already did offline (files, modes, the unit enabled). It creates the system user (which needs the
// board's own useradd: uids are the OS's to pick), adds it to `video`, gives it the bundle, and re-checks the
// enable link. Run by fieldcam-firstboot.service, ordered before fieldcam.service, on every boot: it is
// idempotent, so after the first boot it only reports. With an argument it works on a stand-in root (useradd
// and usermod --root, numeric owners read from that root's /etc/passwd) — how the tests run it.
import type { ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { BUNDLE_DIR, IMAGE_DIR, SERVICE_USER, UNIT_FILE } from './deviceTree.ts';

export const FIRSTBOOT_SCRIPT = `${IMAGE_DIR}/firstboot`;
export const FIRSTBOOT_UNIT = 'etc/systemd/system/fieldcam-firstboot.service';
/** Where `systemctl enable` puts the links of units whose [Install] says WantedBy=multi-user.target. */
export const MULTI_USER_WANTS = 'etc/systemd/system/multi-user.target.wants';

export function renderFirstBootUnit(board: BoardManifest, image: ImageManifest): string {
  return `# fieldcam ${image.version} for ${board.name}, written by \`fieldcam flash --image\`.
[Unit]
Description=fieldcam first boot: service user, bundle owner, fieldcam.service enabled
Documentation=file:///${FIRSTBOOT_SCRIPT}
After=local-fs.target
Before=fieldcam.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/${FIRSTBOOT_SCRIPT}

[Install]
WantedBy=multi-user.target
`;
}

export function renderFirstBootScript(board: BoardManifest, image: ImageManifest): string {
  const u = SERVICE_USER;
  return `#!/bin/sh
# fieldcam ${image.version} (${board.name}) first boot, written by \`fieldcam flash --image\`; run by
# /${FIRSTBOOT_UNIT} before fieldcam.service on every boot. Idempotent: it changes only what is not
# yet right and says what it found. Usage: firstboot [ROOT]   (ROOT: a stand-in root; default /)
set -eu
ROOT=\${1:-}
say() { echo "fieldcam-firstboot: $*"; }
if [ "$(id -u)" -ne 0 ]; then echo "fieldcam-firstboot: run as root" >&2; exit 1; fi
field() { awk -F: -v name="$1" -v n="$2" '$1 == name { print $n }' "$ROOT/etc/$3"; }

if [ -n "$(field ${u} 1 passwd)" ]; then say "user ${u}: exists"
else
  if [ -n "$ROOT" ]; then set -- --root "$ROOT"; else set --; fi
  useradd "$@" --system --user-group --home-dir /var/lib/fieldcam --no-create-home --shell /usr/sbin/nologin ${u}
  say "user ${u}: created"
fi
if [ -z "$(field video 1 group)" ]; then say "warning: no group video: the camera devices may be out of reach"
else
  case ",$(field video 4 group)," in
    *,${u},*) say "user ${u}: in group video" ;;
    *) if [ -n "$ROOT" ]; then usermod --root "$ROOT" -a -G video ${u}; else usermod -a -G video ${u}; fi
       say "user ${u}: added to group video (camera devices)" ;;
  esac
fi

# The bundle holds the private key: the service user alone reads it (0600, as fieldcam doctor checks).
owner="$(field ${u} 3 passwd):$(field ${u} 4 passwd)"
bundle="$ROOT/${BUNDLE_DIR}"
if [ "$(stat -c %u:%g "$bundle" "$bundle/device.cbor" "$bundle/certificate.pem" "$bundle/private.key" "$bundle/ca.pem" | sort -u)" = "$owner" ]; then
  say "bundle /${BUNDLE_DIR}: owned by ${u}"
else
  chown -R "$owner" "$bundle"
  chmod 0700 "$bundle"
  chmod 0600 "$bundle/device.cbor" "$bundle/private.key"
  say "bundle /${BUNDLE_DIR}: given to ${u} (private.key 0600)"
fi

# Enabled = the link \`systemctl enable\` makes for WantedBy=multi-user.target (flash made it already).
link="$ROOT/${MULTI_USER_WANTS}/fieldcam.service"
if [ "$(readlink "$link" 2>/dev/null || true)" = "/${UNIT_FILE}" ]; then say "service: enabled"
else
  mkdir -p "$ROOT/${MULTI_USER_WANTS}"
  ln -sfn "/${UNIT_FILE}" "$link"
  say "service: enabled at boot"
fi

if [ -z "$ROOT" ]; then
  # Raspberry Pi OS keeps the radio blocked until a country is set; flash set it (cmdline.txt).
  if command -v rfkill >/dev/null 2>&1; then rfkill unblock wifi 2>/dev/null || true; fi
  # Queued, not waited for: it is ordered after this unit.
  if [ -d /run/systemd/system ]; then systemctl start --no-block fieldcam.service || true; fi
fi
`;
}
