// The firmware's entry on the device (bundled by `fieldcam build` into firmware.js and run by fieldcam-runtime):
//   fieldcam-runtime [memory flags] firmware.js --config device.json
// It streams the camera (the configured fd) to Kinesis Video Streams until the camera ends or SIGINT/SIGTERM,
// printing JSON status lines, and exits with DEVICE_EXIT (runDevice.ts).
import { host } from '../boards/xs/native.ts';
import { xsBoard } from '../boards/xs/xsBoard.ts';
import { DEVICE_EXIT, runDevice } from './runDevice.ts';

const USAGE = 'usage: fieldcam-runtime [memory flags] firmware.js --config device.json';

function main(argv: readonly string[]): Promise<number> {
  const at = argv.indexOf('--config');
  if (at < 0 || at + 1 >= argv.length) {
    xsBoard.print(JSON.stringify({ type: 'error', code: 'CONFIG_INVALID', message: 'no --config given', remedy: USAGE }));
    return Promise.resolve(DEVICE_EXIT.CONFIG);
  }
  return runDevice(xsBoard, argv[at + 1]!);
}

void main(host().argv).then((code) => host().exit(code));
