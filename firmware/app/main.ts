// The firmware's entry on the device (bundled by `fieldcam build` into firmware.js and run by fieldcam-runtime):
//   fieldcam-runtime [memory flags] firmware.js --config device.json          (simulator, development)
//   fieldcam-runtime [memory flags] firmware.js --bundle DIR --board board.json [--state FILE] [--spool DIR] [--recorded]
//     (a provisioned device; FILE: the control channel's state, default control-state.cbor beside DIR; --spool: the
//     spool's folder, default spool/ beside FILE, else DIR.spool beside DIR (docs/spool.md); --recorded: the camera pipe replays a recording, as
//     the simulator's feeder does: the file's cadence and a clean end)
// It streams the camera (the configured fd) to Kinesis Video Streams until the camera ends or SIGINT/SIGTERM,
// printing JSON status lines, and exits with DEVICE_EXIT (runDevice.ts).
import { host } from '../boards/xs/native.ts';
import { xsBoard } from '../boards/xs/xsBoard.ts';
import { DEVICE_EXIT, runDevice } from './runDevice.ts';

const USAGE =
  'usage: fieldcam-runtime [memory flags] firmware.js (--config device.json | --bundle DIR --board board.json [--state FILE] [--spool DIR] [--recorded])';

function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : undefined;
}

function main(argv: readonly string[]): Promise<number> {
  const config = option(argv, '--config');
  const bundle = option(argv, '--bundle');
  const board = option(argv, '--board');
  const state = option(argv, '--state');
  const spool = option(argv, '--spool');
  if (config !== undefined && bundle === undefined) return runDevice(xsBoard, config);
  const recorded = argv.includes('--recorded') ? { recorded: true } : {};
  if (bundle !== undefined && board !== undefined && config === undefined)
    return runDevice(xsBoard, { bundle, board, ...(state !== undefined ? { state } : {}), ...(spool !== undefined ? { spool } : {}), ...recorded });
  const message =
    bundle !== undefined && board === undefined ? "--bundle needs --board (the image's board.json)" : 'give either --config or --bundle with --board';
  xsBoard.print(JSON.stringify({ type: 'error', code: 'CONFIG_INVALID', message, remedy: USAGE }));
  return Promise.resolve(DEVICE_EXIT.CONFIG);
}

// Started from a promise job, not from the bundle's top level: esbuild's IIFE keeps every module-level binding of
// the firmware in one frame on the XS stack while the script is evaluated, so a boot that signs its first
// requests synchronously inside that frame needs that many more stack slots (the ESP32 profile has 1024). The
// runtime drains promise jobs right after the script, with the script's frame gone.
void Promise.resolve(host().argv)
  .then(main)
  .then((code) => host().exit(code));
