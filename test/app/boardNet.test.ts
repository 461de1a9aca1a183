// A board's `net` section (connection deadlines, docs/reliability.md) reaches the device: parsed from the JSON
// configuration's board (and a manifest, through the same parseDeviceBoard), each key optional over the defaults.
import { parseDeviceConfig } from '../../firmware/app/DeviceConfig.ts';
import { NET_DEADLINE_DEFAULTS } from '../../firmware/core/net/PhaseDeadline.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('app: board net deadlines');

function config(net: unknown): string {
  return JSON.stringify({
    version: 1,
    board: {
      name: 'b',
      pool: { bitrateKbps: 1000, bufferSeconds: 10, fps: 10, maxFrameBytes: 65536 },
      stream: { fragmentMs: 1000, maxFragmentMs: 10000 },
      ...(net === undefined ? {} : { net }),
    },
    stream: { name: 's', region: 'us-east-1' },
    endpoint: { host: '127.0.0.1', port: 443, caFile: 'ca.pem' },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    camera: { fd: 0, codec: 'h264', live: true },
    statusIntervalMs: 0,
  });
}

test('absent: the defaults apply (undefined); present: each key over the defaults; bad values refused by name', () => {
  assert.is(parseDeviceConfig(config(undefined)).board.net, undefined);
  assert.equal(parseDeviceConfig(config({ tlsMs: 30_000 })).board.net, { ...NET_DEADLINE_DEFAULTS, tlsMs: 30_000 });
  assert.throws(() => parseDeviceConfig(config({ headMs: 10 })), /board\.net\.headMs/);
  assert.throws(() => parseDeviceConfig(config({ headMs: 10 })), 'CONFIG_INVALID');
});

test.run();
