// The firmware's entry on the device (bundled by `fieldcam build` into firmware.js and run by fieldcam-runtime):
//   fieldcam-runtime [memory flags] firmware.js --config device.json          (simulator, development)
//   fieldcam-runtime [memory flags] firmware.js --bundle DIR --board board.json [--state FILE]  (a provisioned device;
//     FILE: the control channel's state, default control-state.cbor beside DIR)
// It streams the camera (the configured fd) to Kinesis Video Streams until the camera ends or SIGINT/SIGTERM,
// printing JSON status lines, and exits with DEVICE_EXIT (runDevice.ts).
import { host } from '../boards/xs/native.ts';
import { xsBoard } from '../boards/xs/xsBoard.ts';
import { DEVICE_EXIT, runDevice } from './runDevice.ts';

const USAGE = 'usage: fieldcam-runtime [memory flags] firmware.js (--config device.json | --bundle DIR --board board.json [--state FILE])';

function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : undefined;
}

function main(argv: readonly string[]): Promise<number> {
  const config = option(argv, '--config');
  const bundle = option(argv, '--bundle');
  const board = option(argv, '--board');
  const state = option(argv, '--state');
  if (config !== undefined && bundle === undefined) return runDevice(xsBoard, config);
  if (bundle !== undefined && board !== undefined && config === undefined) return runDevice(xsBoard, { bundle, board, ...(state !== undefined ? { state } : {}) });
  const message = bundle !== undefined && board === undefined ? '--bundle needs --board (the image\'s board.json)' : 'give either --config or --bundle with --board';
  xsBoard.print(JSON.stringify({ type: 'error', code: 'CONFIG_INVALID', message, remedy: USAGE }));
  return Promise.resolve(DEVICE_EXIT.CONFIG);
}

void main(host().argv).then((code) => host().exit(code));
