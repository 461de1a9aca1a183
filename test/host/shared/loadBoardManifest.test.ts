import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivePoolSizing } from '../../../firmware/core/config/derivePoolSizing.ts';
import { FramePool } from '../../../firmware/core/pool/FramePool.ts';
import { listBoards, loadBoardManifest } from '../../../host/shared/loadBoardManifest.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('loadBoardManifest');

test('every committed board manifest loads and its pool can be allocated', () => {
  const boards = listBoards();
  for (const name of ['sim-x86', 'pi-zero-w', 'pi-zero-2w', 'pi-3', 'esp32-cam', 'pi-zero-2w-64', 'pi-4', 'pi-5']) assert.ok(boards.includes(name), name);
  for (const name of boards) {
    const board = loadBoardManifest(name);
    assert.is(board.name, name);
    const pool = new FramePool(derivePoolSizing(board.pool));
    assert.ok(pool.slots.length >= 3);
  }
});

test('esp32-cam states smaller control-channel buffers than the firmware defaults (docs/boards.md)', () => {
  assert.equal(loadBoardManifest('esp32-cam').control, { maxPacketBytes: 2048, maxQueued: 4, stateBytes: 4096, pendingResults: 8 });
  assert.is(loadBoardManifest('pi-zero-w').control, undefined);
});

test('the 64-bit boards: aarch64 under qemu-aarch64 with their cores; pi-5 encodes H.264 in software (no encoder in the SoC)', () => {
  const cores = ['pi-zero-2w-64', 'pi-4', 'pi-5']
    .map((n) => loadBoardManifest(n))
    .map((b) => [b.target, b.qemuCpu, b.camera.source?.kind, b.camera.source?.encoder]);
  assert.equal(cores, [
    ['aarch64', 'cortex-a53', 'rpicam', undefined],
    ['aarch64', 'cortex-a72', 'rpicam', undefined],
    ['aarch64', 'cortex-a76', 'rpicam', 'software'],
  ]);
  assert.is(loadBoardManifest('pi-zero-w').camera.source, undefined); // absent: rpicam with the hardware encoder
});

test('unknown board → CONFIG_BOARD_UNKNOWN listing the known ones', () => {
  assert.throws(() => loadBoardManifest('toaster'), 'CONFIG_BOARD_UNKNOWN');
  assert.throws(() => loadBoardManifest('../etc/passwd'), 'CONFIG_BOARD_UNKNOWN');
});

test('malformed manifests name the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-boards-'));
  try {
    const good = {
      name: 'b',
      description: 'd',
      arch: 'x86_64',
      target: 'x86_64',
      memory: { ramBytes: 1 << 20, jsBudgetBytes: 1 << 20, initialChunkBytes: 65536, initialSlots: 4096, stackSlots: 512 },
      pool: { bitrateKbps: 1, bufferSeconds: 1, fps: 1, maxFrameBytes: 1024 },
      camera: { codec: 'h264', width: 2, height: 2, fps: 1 },
      stream: { fragmentMs: 1000, maxFragmentMs: 10000 },
    };
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [{ ...good, name: 'other' }, /name must be "b"/],
      [{ ...good, pool: { ...good.pool, fps: -1 } }, /b\.json: pool\.fps must be a number in \[1, 1000\]/],
      [{ ...good, pool: { ...good.pool, bufferSecs: 5 } }, /pool\.bufferSecs must be one of bitrateKbps, bufferSeconds, fps, maxFrameBytes/],
      [{ ...good, stream: { ...good.stream, fragmentMS: 5 } }, /stream\.fragmentMS must be one of fragmentMs, maxFragmentMs/],
      [{ ...good, heap: 5 }, /heap must be one of name, description/],
      [{ ...good, camera: { ...good.camera, fps: 7.5 } }, /camera\.fps must be a whole number in \[1, 1000\]/],
      [{ ...good, camera: { ...good.camera, audioSource: { kind: 'alsa', device: 'hw:1' } } }, /camera\.audioSource must be absent/],
      [{ ...good, spool: { maxBytes: -1, minFreeBytes: 0, drainKbps: 1, maxRecordBytes: 4096 } }, /b\.json: spool\.maxBytes must be a whole number/],
      [{ ...good, camera: { ...good.camera, codec: 'vp9' } }, /camera\.codec/],
      [{ ...good, stream: { ...good.stream, maxFragmentMs: 30000 } }, /at most 20000/],
      [{ ...good, target: 'mips' }, /target must be one of x86_64, armv6, armv7/],
      [{ ...good, target: 'armv6' }, /qemuCpu must be the qemu-arm CPU model/],
      [{ ...good, target: 'aarch64' }, /qemuCpu must be the qemu-aarch64 CPU model/],
      [{ ...good, camera: { ...good.camera, source: 'usb' } }, /camera\.source must be an object/],
      [{ ...good, camera: { ...good.camera, source: { kind: 'usb' } } }, /camera\.source\.kind must be "rpicam", "v4l2", "rtsp", "mjpeg-http"/],
      [
        { ...good, camera: { ...good.camera, source: { kind: 'v4l2', encoder: 'software' } } },
        /camera\.source\.encoder must be "hardware" or "software", and only for kind "rpicam"/,
      ],
      [{ ...good, camera: { ...good.camera, source: { kind: 'v4l2', device: '/dev/video0; rm -rf /' } } }, /camera\.source\.device must be a \/dev\/… path/],
      [{ ...good, camera: { ...good.camera, source: { kind: 'v4l2', format: 'rgb24' } } }, /camera\.source\.format must be one of mjpeg, h264, yuyv422/],
      [
        { ...good, camera: { ...good.camera, source: { kind: 'rtsp', url: 'rtsp://x' } } },
        /camera\.source\.url must be one of kind, encoder, camera, device, format/,
      ],
      [{ ...good, memory: { ...good.memory, initialSlots: 1.5 } }, /memory\.initialSlots must be a whole number/],
      [{ ...good, memory: undefined }, /memory must be an object/],
      [{ ...good, control: 'small' }, /control must be an object/],
      [{ ...good, control: { maxPacketBytes: 1024, maxQueued: 4 } }, /control\.maxPacketBytes must be a whole number in \[2048, 131072\]/],
      [{ ...good, control: { maxPacketBytes: 2048, maxQueued: 0 } }, /control\.maxQueued must be a whole number in \[1, 64\]/],
      [{ ...good, control: { maxPacketBytes: 2048 } }, /control\.maxQueued/],
      [{ ...good, control: { maxPacketBytes: 2048, maxQueued: 4, stateBytes: 1024 } }, /control\.stateBytes must be a whole number in \[2048, 32768\]/],
      [{ ...good, control: { maxPacketBytes: 2048, maxQueued: 4, pendingResults: 0 } }, /control\.pendingResults must be a whole number in \[1, 256\]/],
      [{ ...good, net: 5 }, /net must be an object/],
      [{ ...good, net: { connectMs: 50 } }, /net\.connectMs must be a whole number of ms in \[100, 600000\]/],
      [{ ...good, net: { connectTimeout: 5000 } }, /net\.connectTimeout must be one of connectMs, tlsMs, headMs, firstAckMs, connackMs/],
    ];
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...good, net: { tlsMs: 30_000 } }));
    assert.equal(loadBoardManifest('b', dir).net, { tlsMs: 30_000 });
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...good, control: { maxPacketBytes: 2048, maxQueued: 4 } }));
    assert.equal(loadBoardManifest('b', dir).control, { maxPacketBytes: 2048, maxQueued: 4 });
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...good, control: { maxPacketBytes: 2048, maxQueued: 4, stateBytes: 2048, pendingResults: 1 } }));
    assert.equal(loadBoardManifest('b', dir).control, { maxPacketBytes: 2048, maxQueued: 4, stateBytes: 2048, pendingResults: 1 });
    writeFileSync(join(dir, 'b.json'), JSON.stringify(good));
    assert.is(loadBoardManifest('b', dir).control, undefined, "absent: the firmware's defaults");
    for (const [content, message] of cases) {
      writeFileSync(join(dir, 'b.json'), typeof content === 'string' ? content : JSON.stringify(content));
      assert.throws(() => loadBoardManifest('b', dir), message);
      assert.throws(() => loadBoardManifest('b', dir), 'CONFIG_INVALID');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
