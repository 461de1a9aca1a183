// What `fieldcam flash --image` writes into a Raspberry Pi OS root file system: the tree of the directory
// target (flashTree.ts treeFiles: image, bundle, unit), the first-boot step, the links `systemctl enable` would
// make (fieldcam.service, fieldcam-firstboot.service; systemd-timesyncd for NTP), the hostname and, when asked,
// the Wi-Fi connection. Everything is owned by root; the first boot gives the bundle to the service user.
import type { AudioSource } from '../../shared/audioSource.ts';
import type { ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { BUNDLE_DIR, IMAGE_DIR, UNIT_FILE } from './deviceTree.ts';
import { treeFiles, type Planned } from './flashTree.ts';
import { FIRSTBOOT_SCRIPT, FIRSTBOOT_UNIT, MULTI_USER_WANTS, renderFirstBootScript, renderFirstBootUnit } from './renderFirstBoot.ts';
import { renderWifiConnection, WIFI_CONNECTION, withHostname, type WifiSettings } from './renderWifi.ts';

/** Where Debian's systemd keeps its units (Bookworm: /lib, a link to /usr/lib) and where timesyncd is wanted. */
export const TIMESYNCD_UNIT = '/lib/systemd/system/systemd-timesyncd.service';
export const TIMESYNCD_LINK = 'etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service';
/** A unit masked by the administrator: a link to /dev/null in /etc/systemd/system. */
export const TIMESYNCD_MASK = 'etc/systemd/system/systemd-timesyncd.service';
export const FIRSTBOOT_LINK = `${MULTI_USER_WANTS}/fieldcam-firstboot.service`;
export const SERVICE_LINK = `${MULTI_USER_WANTS}/fieldcam.service`;

export interface ImagePlan {
  /** Directories fieldcam owns, with their modes (others are made 0755 when missing). */
  readonly dirs: readonly { readonly path: string; readonly mode: number }[];
  readonly files: readonly Planned[];
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

export function imageFiles(o: {
  board: BoardManifest;
  image: ImageManifest;
  bundle: string;
  hostname: string;
  hosts: string;
  wifi?: WifiSettings;
  cameraUrl?: string;
  /** flash --audio-source CAMERA=…: the microphones of a device with several cameras. */
  microphones?: Readonly<Record<string, AudioSource>>;
}): ImagePlan {
  const text = (s: string) => new TextEncoder().encode(s);
  const files: Planned[] = [
    ...treeFiles(o.board, o.image, o.bundle, o.cameraUrl, o.microphones),
    { path: FIRSTBOOT_SCRIPT, data: text(renderFirstBootScript(o.board, o.image)), mode: 0o755 },
    { path: FIRSTBOOT_UNIT, data: text(renderFirstBootUnit(o.board, o.image)), mode: 0o644 },
    { path: 'etc/hostname', data: text(`${o.hostname}\n`), mode: 0o644 },
    { path: 'etc/hosts', data: text(withHostname(o.hosts, o.hostname)), mode: 0o644 },
    ...(o.wifi ? [{ path: WIFI_CONNECTION, data: text(renderWifiConnection(o.wifi)), mode: 0o600 }] : []),
  ];
  return {
    dirs: [
      { path: IMAGE_DIR, mode: 0o755 },
      { path: 'etc/fieldcam', mode: 0o755 },
      { path: BUNDLE_DIR, mode: 0o700 },
    ],
    files,
    links: [
      { path: SERVICE_LINK, target: `/${UNIT_FILE}` },
      { path: FIRSTBOOT_LINK, target: `/${FIRSTBOOT_UNIT}` },
      { path: TIMESYNCD_LINK, target: TIMESYNCD_UNIT },
    ],
  };
}
