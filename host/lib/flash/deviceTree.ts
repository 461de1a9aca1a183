// The deployable tree `fieldcam flash` writes into a board's root (an SD card's root file system, or a
// directory standing for one), and the one command line that starts it — shared by the systemd unit's run
// script (paths under /) and `fieldcam sim --image` (the same paths rebased under the tree's directory).
import { posix } from 'node:path';

/** Where the image lives on the board. */
export const IMAGE_DIR = 'opt/fieldcam';
/** Where the device bundle lives on the board (docs/device-bundle.md). */
export const BUNDLE_DIR = 'etc/fieldcam/bundle';
/**
 * The control channel's state file (desired settings, command log): under the unit's StateDirectory, the one
 * writable place of a ProtectSystem=strict service (the bundle beside which the firmware would put it by default
 * is read-only there).
 */
export const STATE_FILE = 'var/lib/fieldcam/control-state.cbor';
/** The service unit. */
export const UNIT_FILE = 'etc/systemd/system/fieldcam.service';
export const SERVICE_USER = 'fieldcam';

/** What the firmware needs of image.json to be started (host/lib/buildImage.ts ImageManifest). */
export interface StartImage {
  readonly runtimeFlags: readonly string[];
}

/** The tree's paths under `root` ('/' on the board; the tree's directory in the simulator). */
export function treePaths(root: string): {
  imageDir: string;
  runtime: string;
  firmware: string;
  board: string;
  imageJson: string;
  bundle: string;
  state: string;
  unit: string;
} {
  const at = (p: string) => posix.join(root, p);
  return {
    imageDir: at(IMAGE_DIR),
    runtime: at(`${IMAGE_DIR}/fieldcam-runtime`),
    firmware: at(`${IMAGE_DIR}/firmware.js`),
    board: at(`${IMAGE_DIR}/board.json`),
    imageJson: at(`${IMAGE_DIR}/image.json`),
    bundle: at(BUNDLE_DIR),
    state: at(STATE_FILE),
    unit: at(UNIT_FILE),
  };
}

/**
 * The device's command line: `fieldcam-runtime <runtimeFlags> firmware.js --bundle <bundle> --board <board.json>
 * --state <control-state.cbor>` with every path under `root`. sim/board/bootBoard.ts builds exactly this argv
 * (under qemu-arm for ARM) from `{ dir: <root>/opt/fieldcam, runtimeFlags }` and `{ bundle, board, state }`.
 */
export function deviceCommand(image: StartImage, root: string): string[] {
  const p = treePaths(root);
  return [p.runtime, ...image.runtimeFlags, p.firmware, '--bundle', p.bundle, '--board', p.board, '--state', p.state];
}
