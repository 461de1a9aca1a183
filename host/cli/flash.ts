import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import { buildImage } from '../lib/buildImage.ts';
import { EXIT } from '../lib/CliError.ts';
import { formatChecks } from '../lib/doctor/formatChecks.ts';
import { hostBlockView, judgeDevice } from '../lib/flash/checkDevice.ts';
import { flashFleet, fleetBundles } from '../lib/flash/flashFleet.ts';
import { flashTree, type FlashResult } from '../lib/flash/flashTree.ts';
import { listsCameras } from '../lib/flash/flashCameras.ts';
import { readWifiSettings } from '../lib/flash/renderWifi.ts';
import { verifyImage } from '../lib/flash/verifyImage.ts';
import type { RaspiosImage } from '../lib/flash/openRaspiosImage.ts';
import { writeDevice } from '../lib/flash/writeDevice.ts';
import { flashImage, openImageTarget, type ImageFlashResult } from '../lib/flash/writeImage.ts';
import { CAMERA_SOURCES, parseCameraSourceFlag, readCameraUrl } from '../shared/cameraSource.ts';
import { parseCameraAudioFlag, type AudioSource } from '../shared/audioSource.ts';
import { listBoards, loadBoardManifest, type BoardManifest } from '../shared/loadBoardManifest.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';
import { playbackWarnings } from '../../firmware/core/media/playbackWarnings.ts';

const spec: CommandSpec = {
  name: 'flash',
  usage:
    'flash --bundle DIR --board <name> (--image raspios.img [-o camera.img | --device /dev/sdX [--yes]] [--wifi-ssid S --wifi-psk-file F --wifi-country CC] | --target DIR)\n' +
    '       [--camera-source KIND [--camera-url-file FILE]] [--audio-source [CAMERA=]alsa[:DEVICE] …] [--force] [--json]\n' +
    '       fieldcam flash --bundle FLEET --count N --prefix P --board <name> --image raspios.img -o OUTDIR [--wifi-…] [--json]\n' +
    '       fieldcam flash --verify camera.img [--json]',
  summary:
    'Writes fieldcam for one camera into a Raspberry Pi OS (Bookworm) disk image (--image), without booting or\n' +
    'mounting it: the image under /opt/fieldcam (runtime, firmware, board.json, image.json, VERSION, run,\n' +
    'install.sh, firstboot), the device bundle under /etc/fieldcam/bundle, fieldcam.service enabled, a first-boot\n' +
    'unit that creates the service user, hostname = thing name, NTP on, and the Wi-Fi connection if asked. The\n' +
    'result is written to a temporary file, read back (as --verify) and renamed to -o (default: the image itself).\n' +
    "--target DIR writes the same tree into a root directory (a mounted card) instead. Builds the board's image\n" +
    "first (dist/<board>/) and checks the bundle with the device's own reader before writing anything.",
  options: {
    bundle: { type: 'string', value: 'DIR', help: 'the device bundle fieldcam provision wrote (docs/device-bundle.md)' },
    board: { type: 'string', value: 'name', help: 'board manifest (manifests/boards/<name>.json)' },
    image: { type: 'string', value: 'raspios.img', help: 'a Raspberry Pi OS Lite (Bookworm) disk image (unpacked .img) to write fieldcam into' },
    output: { type: 'string', short: 'o', value: 'camera.img', help: 'where the flashed image goes (default: replace --image, atomically)' },
    count: { type: 'string', value: 'N', help: 'a fleet: --bundle is the folder of provision --count N --prefix P; -o is the folder for the N images' },
    prefix: { type: 'string', value: 'P', help: 'with --count: the bundles are the subfolders named P…' },
    device: { type: 'string', value: '/dev/sdX', help: 'write the flashed image onto this card (a whole disk; refused if mounted or the system disk)' },
    yes: { type: 'boolean', help: 'with --device: the card holds data, erase it' },
    verify: { type: 'string', value: 'camera.img', help: 'read a flashed image back and check it (no mount); exit 1 if a check fails' },
    'wifi-ssid': { type: 'string', value: 'SSID', help: 'Wi-Fi network for the first boot (NetworkManager connection, 0600)' },
    'wifi-psk-file': { type: 'string', value: 'FILE', help: 'file holding the Wi-Fi passphrase (never on the command line)' },
    'wifi-country': { type: 'string', value: 'CC', help: 'ISO 3166-1 country of the Wi-Fi (GB, US, DE, ...): Raspberry Pi OS keeps the radio off without it' },
    'camera-source': {
      type: 'string',
      value: 'KIND',
      help: "the camera adapter, overriding the board's camera.source: rpicam, rpicam:software, v4l2[:/dev/videoN[:mjpeg|h264|yuyv422]], rtsp, mjpeg-http",
    },
    'camera-url-file': {
      type: 'string',
      value: 'FILE',
      help: "with rtsp or mjpeg-http: file holding the camera's URL (it may hold a password: never on the command line); written to the bundle, 0600",
    },
    'audio-source': {
      type: 'string',
      value: '[CAMERA=]alsa[:DEVICE]',
      multiple: true,
      help:
        "the microphone of a bundle with camera.audio (required then): alsa (hw:1) or alsa:DEVICE; the run script encodes it in the bundle's codec " +
        "into the runtime's audio fd. A bundle with several cameras: CAMERA=alsa[:DEVICE] for each camera with cameras[i].audio",
    },
    target: { type: 'string', value: 'DIR', help: "the board's root: a mounted SD card root file system, or a directory" },
    force: { type: 'boolean', help: 'replace fieldcam written for another board' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  details: () =>
    `boards: ${listBoards()
      .filter((b) => b !== 'esp32-cam')
      .join(', ')}\n\n` +
    'Then: write camera.img to the card (Raspberry Pi Imager "use custom", or dd), boot the Pi: the first boot creates the user\n' +
    'fieldcam and starts fieldcam.service. With --target, on the board: sudo sh /opt/fieldcam/install.sh\n' +
    "Here, under QEMU, exactly as the board runs it: fieldcam sim --image <target> --state-dir <provision's local cloud state>",
};

/** The board with `--camera-source` in place of its manifest's camera.source (the tree's board.json then says so). */
function withCameraSource(board: BoardManifest, flag: unknown): BoardManifest {
  if (typeof flag !== 'string') return board;
  return Object.freeze({ ...board, camera: Object.freeze({ ...board.camera, source: parseCameraSourceFlag(flag) }) });
}

/** The board with `--audio-source alsa[:DEVICE]` as its one camera's microphone (the image's board.json then says so). */
function withAudioSource(board: BoardManifest, flags: unknown): BoardManifest {
  const list = (flags as string[] | undefined) ?? [];
  const parsed = list.map(parseCameraAudioFlag);
  if (parsed.length === 0 || parsed.some((p) => p.camera !== undefined)) return board;
  if (list.length > 1)
    throw new FieldcamError(
      'CLI_USAGE',
      'flash: --audio-source is given twice: a one-camera device has one microphone; with several, name each: CAMERA=alsa:DEV',
    );
  return Object.freeze({ ...board, camera: Object.freeze({ ...board.camera, audioSource: parsed[0]!.source }) });
}

/**
 * `--audio-source CAMERA=alsa[:DEVICE]`, once per camera with a microphone, for a device with several cameras; checked
 * against the bundle's audio tracks when the tree is made (cameraMicrophonePlans). Undefined when no value names a camera.
 */
function cameraMicrophones(flags: unknown): Readonly<Record<string, AudioSource>> | undefined {
  const list = (flags as string[] | undefined) ?? [];
  const parsed = list.map(parseCameraAudioFlag);
  if (parsed.every((p) => p.camera === undefined)) return undefined;
  const microphones: Record<string, AudioSource> = {};
  for (const [i, p] of parsed.entries()) {
    if (p.camera === undefined)
      throw new FieldcamError('CLI_USAGE', `flash: --audio-source ${list[i]}: with several microphones each names its camera, CAMERA=alsa[:DEVICE]`);
    if (microphones[p.camera] !== undefined) throw new FieldcamError('CLI_USAGE', `flash: --audio-source: camera ${p.camera} is given two microphones`);
    microphones[p.camera] = p.source;
  }
  return Object.freeze(microphones);
}

/** The URL an RTSP/HTTP camera needs, from --camera-url-file; refused when the source takes none or it is missing. */
function readCameraUrlFlag(board: BoardManifest, file: unknown, bundle: string): string | undefined {
  const source = board.camera.source ?? { kind: 'rpicam' as const };
  // A bundle with several cameras keeps each URL camera's URL beside its key (camera-url-<camera>, flashCameras.ts).
  if (file === undefined && listsCameras(bundle)) return undefined;
  if (!CAMERA_SOURCES[source.kind].url) {
    if (file !== undefined)
      throw new FieldcamError('CLI_USAGE', `flash: --camera-url-file goes with an rtsp or mjpeg-http camera; ${board.name}'s is ${source.kind}`);
    return undefined;
  }
  if (typeof file !== 'string') {
    throw new FieldcamError(
      'CLI_USAGE',
      `flash: the ${source.kind} camera needs its URL: --camera-url-file FILE (one line; it may hold the camera's password, so it is never taken on the command line)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `flash: cannot read --camera-url-file ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  return readCameraUrl(text, source, file);
}

const size = (n: number) => (n >= 1024 * 1024 ? `${(n / 1048576).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

function report(r: FlashResult): string {
  const w0 = Math.max(...r.files.map((f) => f.path.length));
  const w1 = Math.max(...r.files.map((f) => size(f.bytes).length));
  const lines = r.files.map((f) => `  ${f.path.padEnd(w0)}  ${size(f.bytes).padStart(w1)}  ${f.mode}  ${f.action}`);
  const changed = r.files.filter((f) => f.action !== 'unchanged').length;
  return (
    `flash: ${r.board} (fieldcam ${r.version}), thing ${r.thingName} (stream ${r.streamName}) → ${r.target}\n` +
    lines.join('\n') +
    '\n' +
    (r.unchanged ? 'unchanged: the target already holds this tree\n' : `${changed} of ${r.files.length} file(s) written\n`) +
    `next: on the board, sudo sh /opt/fieldcam/install.sh; here (a local-cloud bundle), fieldcam sim --image ${r.target} --state-dir <the cloud's state>\n`
  );
}

/** What --device names, judged against the host's mounts, swaps and root before anything is written. */
function inspectDevice(path: string, imageBytes: number, yes: boolean): { path: string; name: string } {
  let real: string;
  let isBlock: boolean;
  try {
    real = realpathSync(path);
    isBlock = statSync(real).isBlockDevice();
  } catch {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `flash: no device ${path} (lsblk lists the disks)`);
  }
  const head = () => {
    const buf = Buffer.alloc(1024 * 1024);
    try {
      const fd = openSync(real, 'r');
      try {
        return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw new FieldcamError(
        'FLASH_DEVICE_REFUSED',
        `flash: ${path} cannot be read (${(err as NodeJS.ErrnoException).code}): run as a user who may write the card (sudo); nothing was written`,
      );
    }
  };
  const v = judgeDevice({ device: path, name: basename(real), isBlock, head, imageBytes, yes, view: hostBlockView() });
  return { path: real, name: v.name };
}

function imageReport(r: ImageFlashResult): string {
  const w0 = Math.max(...r.files.map((f) => f.path.length));
  const w1 = Math.max(...r.files.map((f) => size(f.bytes).length));
  return (
    `flash: ${r.board} (fieldcam ${r.version}), thing ${r.thingName} (stream ${r.streamName}) into ${r.os}: ${r.input} → ${r.output}\n` +
    r.files.map((f) => `  /${f.path.padEnd(w0)}  ${size(f.bytes).padStart(w1)}  ${f.mode}`).join('\n') +
    '\n' +
    `hostname ${r.hostname}; ${r.wifi ? `Wi-Fi ${r.wifi.ssid} (${r.wifi.country})` : 'Wi-Fi left as the image had it (none: Ethernet)'}; ${size(r.freeBytes)} free on the root file system\n` +
    formatChecks(r.checks) +
    `next: write ${r.output} to the card (Raspberry Pi Imager, "use custom"), boot the Pi; watch it with fieldcam devices\n`
  );
}

export const flashCommand: Command = {
  summary: 'write fieldcam for one camera into a Raspberry Pi OS disk image (no mount) or a root directory; --verify reads an image back',
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const json = values.json === true;
    const modes = (['image', 'target', 'verify'] as const).filter((m) => typeof values[m] === 'string');
    if (modes.length !== 1) throw new FieldcamError('CLI_USAGE', `flash: give one of --image, --target or --verify (${spec.usage.split('\n')[0]})`);
    if (typeof values.verify === 'string') {
      const path = resolve(values.verify);
      if (!existsSync(path)) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `flash: no image ${path}`);
      const rows = verifyImage(path);
      const failed = rows.filter((r) => r.status === 'FAIL').length;
      process.stdout.write(json ? JSON.stringify({ image: path, ok: failed === 0, checks: rows }, null, 2) + '\n' : formatChecks(rows));
      return failed === 0 ? EXIT.OK : EXIT.FAILED;
    }
    for (const name of ['bundle', 'board'] as const) {
      if (typeof values[name] !== 'string') throw new FieldcamError('CLI_USAGE', `flash: --${name} is required (${spec.usage.split('\n')[0]})`);
    }
    const board = withAudioSource(withCameraSource(loadBoardManifest(values.board as string), values['camera-source']), values['audio-source']);
    const cameraUrl = readCameraUrlFlag(board, values['camera-url-file'], resolve(values.bundle as string));
    const microphones = cameraMicrophones(values['audio-source']);
    if (values.json !== true) for (const w of playbackWarnings(board.camera.codec)) process.stderr.write(`flash: warning: ${w}\n`);
    if (board.arch === 'esp32-profile') {
      throw new FieldcamError('CLI_USAGE', `flash: ${board.name} is a memory profile run under QEMU, not a Linux board: there is no root file system to write`);
    }
    if (typeof values.target === 'string') {
      for (const name of ['output', 'device', 'count', 'prefix', 'wifi-ssid', 'wifi-psk-file', 'wifi-country'] as const) {
        if (values[name] !== undefined) throw new FieldcamError('CLI_USAGE', `flash: --${name} goes with --image, not --target`);
      }
    }
    // Checked before the build: a missing passphrase file costs nothing to report.
    const wifi = readWifiSettings({
      ...(typeof values['wifi-ssid'] === 'string' ? { ssid: values['wifi-ssid'] } : {}),
      ...(typeof values['wifi-psk-file'] === 'string' ? { pskFile: values['wifi-psk-file'] } : {}),
      ...(typeof values['wifi-country'] === 'string' ? { country: values['wifi-country'] } : {}),
    });
    let src: RaspiosImage | undefined;
    if (typeof values.image === 'string') {
      const input = resolve(values.image);
      let st;
      try {
        st = statSync(input);
      } catch {
        throw new FieldcamError('CLI_INPUT_NOT_FOUND', `flash: no image ${input} (download Raspberry Pi OS Lite and unpack it: xz -d)`);
      }
      if (!st.isFile())
        throw new FieldcamError(
          'CLI_USAGE',
          `flash: --image ${input} is not a disk image file (a card goes in --device, the Raspberry Pi OS image file in --image)`,
        );
      src = openImageTarget(input, board.name, values.force === true);
    }
    let fleet: string[] | undefined;
    if (values.count !== undefined || values.prefix !== undefined) {
      const count = numberFlag(spec, 'count', values.count, 1, 1000);
      if (count === undefined || !Number.isInteger(count) || typeof values.prefix !== 'string' || values.prefix === '') {
        throw new FieldcamError('CLI_USAGE', 'flash: --count N (1-1000) and --prefix P go together');
      }
      if (src === undefined) throw new FieldcamError('CLI_USAGE', 'flash: --count writes images: give the Raspberry Pi OS image with --image');
      if (typeof values.output !== 'string' || values.device !== undefined)
        throw new FieldcamError('CLI_USAGE', 'flash: --count writes N images into the folder -o OUTDIR (not --device)');
      fleet = fleetBundles(resolve(values.bundle as string), values.prefix, count);
    }
    let card: { path: string; name: string } | undefined;
    if (typeof values.device === 'string') {
      if (src === undefined) throw new FieldcamError('CLI_USAGE', 'flash: --device writes an image: give the Raspberry Pi OS image with --image');
      if (values.output !== undefined) throw new FieldcamError('CLI_USAGE', 'flash: give -o or --device, not both');
      card = inspectDevice(resolve(values.device), statSync(src.path).size, values.yes === true);
    } else if (values.yes !== undefined) {
      throw new FieldcamError('CLI_USAGE', 'flash: --yes goes with --device');
    }
    // Always from the current sources (the runtime is cached; the bundle takes a fraction of a second), so what
    // is flashed is what `fieldcam sim` runs. `fieldcam build` type-checks; like sim, flash does not.
    const image = await buildImage(board, { log: json ? () => {} : (line) => process.stderr.write(line), typecheck: false });
    if (src !== undefined && card !== undefined) {
      // The card image is made beside the input (as -o would), read back, then copied onto the card and the
      // card read back in its turn.
      const staged = join(dirname(src.path), `.${basename(src.path)}.${process.pid}.card.img`);
      try {
        const r = flashImage({
          board,
          image,
          bundle: resolve(values.bundle as string),
          src,
          output: staged,
          ...(wifi ? { wifi } : {}),
          ...(cameraUrl !== undefined ? { cameraUrl } : {}),
          ...(microphones !== undefined ? { microphones } : {}),
        });
        card = inspectDevice(card.path, statSync(staged).size, values.yes === true);
        const bytes = writeDevice(staged, card.path);
        const checks = verifyImage(card.path);
        const failed = checks.filter((c) => c.status === 'FAIL').length;
        const done = { ...r, output: card.path, deviceBytesWritten: bytes, checks };
        process.stdout.write(
          json
            ? JSON.stringify(done, null, 2) + '\n'
            : imageReport(done).replace(/\nnext: .*\n$/, `\n${card.path}: ${size(bytes)} written${failed ? '' : '; eject it and boot the Pi'}\n`),
        );
        return failed === 0 ? EXIT.OK : EXIT.FAILED;
      } finally {
        rmSync(staged, { force: true });
      }
    }
    if (src !== undefined && fleet !== undefined) {
      const outDir = resolve(values.output as string);
      const results = flashFleet({
        board,
        image,
        bundles: fleet,
        src,
        outDir,
        ...(wifi ? { wifi } : {}),
        ...(cameraUrl !== undefined ? { cameraUrl } : {}),
        ...(microphones !== undefined ? { microphones } : {}),
        onImage: (r) => {
          if (!json) process.stderr.write(`flash: ${r.thingName} → ${r.output}: ${r.checks.filter((c) => c.status === 'PASS').length} checks passed\n`);
        },
      });
      process.stdout.write(
        json
          ? JSON.stringify({ board: board.name, images: results }, null, 2) + '\n'
          : `flash: ${results.length} image(s) for ${board.name} in ${outDir}\n` +
              results.map((r) => `  ${r.thingName.padEnd(24)} ${r.output}  hostname ${r.hostname}`).join('\n') +
              '\n',
      );
      return EXIT.OK;
    }
    if (src !== undefined) {
      const output = typeof values.output === 'string' ? resolve(values.output) : src.path;
      const r = flashImage({
        board,
        image,
        bundle: resolve(values.bundle as string),
        src,
        output,
        ...(wifi ? { wifi } : {}),
        ...(cameraUrl !== undefined ? { cameraUrl } : {}),
        ...(microphones !== undefined ? { microphones } : {}),
      });
      process.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : imageReport(r));
      return EXIT.OK;
    }
    const result = flashTree({
      board,
      image,
      bundle: resolve(values.bundle as string),
      target: resolve(values.target as string),
      force: values.force === true,
      ...(cameraUrl !== undefined ? { cameraUrl } : {}),
      ...(microphones !== undefined ? { microphones } : {}),
    });
    process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : report(result));
    return EXIT.OK;
  },
};
