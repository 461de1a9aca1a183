// `fieldcam flash`: a board's deployable tree (docs/cli.md). The bundle is validated with the device's own
// reader before anything is written; every file is written atomically (temporary file beside it, fsync,
// rename) and only when its bytes or mode differ, so a re-flash with the same inputs changes nothing.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { dirname, join } from 'node:path';
import { cameraConfigs } from '../../../firmware/app/cameraConfigs.ts';
import { loadDeviceBundle } from '../../../firmware/app/DeviceBundle.ts';
import { planPools } from '../../../firmware/app/poolBudget.ts';
import { nodeBoard } from '../../../firmware/boards/node/nodeBoard.ts';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { imageDir, type ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { CAMERA_URL_FILE } from '../../shared/cameraSource.ts';
import { audioPlan, cameraMicrophonePlans, type AudioSource } from '../../shared/audioSource.ts';
import type { CameraAudio } from '../../../firmware/app/DeviceConfig.ts';
import { BUNDLE_DIR, IMAGE_DIR, UNIT_FILE } from './deviceTree.ts';
import { renderInstallScript, renderRunScript, renderUnit } from './renderService.ts';
import { flashCameras } from './flashCameras.ts';
import { renderMultiCameraRun } from './renderMultiCameraRun.ts';

export type FileAction = 'written' | 'updated' | 'unchanged';

export interface FlashedFile {
  /** Path inside the target, e.g. opt/fieldcam/firmware.js. */
  readonly path: string;
  readonly bytes: number;
  readonly mode: string;
  readonly action: FileAction;
}

export interface FlashResult {
  readonly board: string;
  readonly target: string;
  readonly version: string;
  readonly thingName: string;
  readonly streamName: string;
  readonly files: readonly FlashedFile[];
  /** True when no file was written or updated. */
  readonly unchanged: boolean;
}

export interface Planned {
  /** Path inside the root, without a leading slash. */
  readonly path: string;
  readonly data: Uint8Array;
  readonly mode: number;
}

export interface BundleSummary {
  readonly thingName: string;
  readonly streamName: string;
  /** Where the device will go: the KVS control plane and the IoT credentials provider. */
  readonly kvs: { readonly host: string; readonly port: number };
  readonly credentials: { readonly host: string; readonly port: number };
  /** The MQTT control channel (endpoints.iotData), when the bundle has one. */
  readonly mqtt?: { readonly host: string; readonly port: number };
  /** The camera's microphone track (device.cbor camera.audio), which the run script must feed. */
  readonly audio?: CameraAudio;
  /** A device with several cameras: each camera's name and microphone track (cameras[i].audio), in fd order. */
  readonly cameras?: readonly { readonly name: string; readonly audio?: CameraAudio }[];
}

/** What the device itself would make of the bundle, plus the certificate/key pair check; FLASH_BUNDLE_INVALID otherwise. */
export function validateBundle(bundle: string, boardJson: string): BundleSummary {
  let config;
  try {
    config = loadDeviceBundle(nodeBoard({ print: () => {} }), { bundle, board: boardJson });
  } catch (err) {
    throw new FieldcamError('FLASH_BUNDLE_INVALID', `flash: the bundle ${bundle} would not boot: ${(err as Error).message}`);
  }
  // Several cameras: their pools must fit the board's budget, or the device refuses at boot (poolBudget.ts) — say so
  // now, before anything is written. (The JS heap's half needs the heap the device holds at boot: checked there.)
  if (config.cameras) {
    try {
      planPools(config.board, cameraConfigs(config));
    } catch (err) {
      throw new FieldcamError('FLASH_BUNDLE_INVALID', `flash: the bundle ${bundle} would not boot: ${(err as Error).message}`);
    }
  }
  // The run script captures with the manifest's codec (renderService.ts captureArgs): a bundle that overrides it
  // was provisioned for another board's camera, and the firmware would refuse every frame.
  const boardCodec = (JSON.parse(readFileSync(boardJson, 'utf8')) as { camera?: { codec?: string } }).camera?.codec;
  if (boardCodec !== undefined && config.camera.codec !== boardCodec) {
    throw new FieldcamError(
      'FLASH_BUNDLE_WRONG_BOARD',
      `flash: the bundle ${bundle} sets camera.codec ${config.camera.codec}, but the ${JSON.stringify(boardCodec)} camera of this board ` +
        `(${boardJson}) is what the device captures: it was provisioned for another board`,
    );
  }
  const iot = 'iot' in config.credentials ? config.credentials.iot : undefined;
  if (!iot) throw new FieldcamError('FLASH_BUNDLE_INVALID', `flash: the bundle ${bundle} has no IoT credentials settings`);
  try {
    const fromCert = createPublicKey(readFileSync(iot.certFile)).export({ type: 'spki', format: 'der' });
    const fromKey = createPublicKey(readFileSync(iot.keyFile)).export({ type: 'spki', format: 'der' });
    if (!fromCert.equals(fromKey)) throw new Error('private.key is not the key of certificate.pem');
  } catch (err) {
    throw new FieldcamError('FLASH_BUNDLE_INVALID', `flash: the bundle ${bundle} would not boot: ${(err as Error).message}`);
  }
  return {
    thingName: iot.thingName,
    streamName: config.stream.name,
    kvs: { host: config.endpoint.host, port: config.endpoint.port },
    credentials: { host: iot.host, port: iot.port },
    ...(config.control ? { mqtt: { host: config.control.host, port: config.control.port } } : {}),
    ...(config.cameras
      ? { cameras: config.cameras.map((c) => ({ name: c.name, ...(c.camera.audio ? { audio: c.camera.audio } : {}) })) }
      : config.camera.audio
        ? { audio: config.camera.audio }
        : {}),
  };
}

/** The board a target already holds (its opt/fieldcam/image.json), if any. */
export function boardInTarget(target: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(target, IMAGE_DIR, 'image.json'), 'utf8')) as { board?: string }).board ?? '(unknown)';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : '(unreadable image.json)';
  }
}

/**
 * The files of the tree, with their modes (the image target adds its own: host/lib/flash/imageFiles.ts).
 * `cameraUrl`: an RTSP/HTTP camera's address (flash --camera-url-file), kept beside the key, 0600. `microphones`: flash
 * --audio-source CAMERA=…, the microphones of a device with several cameras, by camera.
 */
export function treeFiles(
  board: BoardManifest,
  image: ImageManifest,
  bundle: string,
  cameraUrl?: string,
  microphones?: Readonly<Record<string, AudioSource>>,
): Planned[] {
  const dist = imageDir(board.name);
  const file = (path: string) => new Uint8Array(readFileSync(path));
  const text = (s: string) => new TextEncoder().encode(s);
  // Several cameras (device.cbor cameras): one capture per camera on fds 3.., each URL camera's URL from the bundle.
  const cameras = flashCameras(board, bundle);
  if (cameras && cameraUrl !== undefined) {
    throw new FieldcamError(
      'CLI_USAGE',
      `flash: the bundle ${bundle} lists ${cameras.length} cameras: each RTSP/HTTP camera's URL goes in the bundle file camera-url-<camera>, not --camera-url-file`,
    );
  }
  const urls = (cameras ?? []).flatMap((c) => (c.url ? [{ path: `${BUNDLE_DIR}/${c.url.file}`, data: text(`${c.url.value}\n`), mode: 0o600 }] : []));
  // The bundle's microphones and flash --audio-source go together (FLASH_AUDIO_SOURCE_MISSING otherwise): the one
  // camera's, or each camera's of a device with several (--audio-source CAMERA=alsa[:DEVICE]).
  const summary = validateBundle(bundle, join(dist, 'board.json'));
  const mics = summary.cameras ? cameraMicrophonePlans(summary.cameras, microphones ?? {}, bundle) : undefined;
  if (!summary.cameras && microphones) {
    throw new FieldcamError('CLI_USAGE', `flash: the bundle ${bundle} has one camera: its microphone is --audio-source alsa[:DEVICE], without a camera name`);
  }
  if (mics && board.camera.audioSource) {
    throw new FieldcamError(
      'CLI_USAGE',
      `flash: the bundle ${bundle} lists ${summary.cameras!.length} cameras: name the camera of each microphone, --audio-source CAMERA=alsa[:DEVICE]`,
    );
  }
  // install.sh and the unit need to know that there is a microphone (ffmpeg, the audio group): the first stands for all.
  const audio = mics ? [...mics.values()][0] : audioPlan(summary.audio, board.camera.audioSource, bundle);
  return [
    { path: `${IMAGE_DIR}/fieldcam-runtime`, data: file(join(dist, 'fieldcam-runtime')), mode: 0o755 },
    { path: `${IMAGE_DIR}/firmware.js`, data: file(join(dist, 'firmware.js')), mode: 0o644 },
    { path: `${IMAGE_DIR}/board.json`, data: file(join(dist, 'board.json')), mode: 0o644 },
    { path: `${IMAGE_DIR}/image.json`, data: file(join(dist, 'image.json')), mode: 0o644 },
    { path: `${IMAGE_DIR}/VERSION`, data: text(`${image.version}\n`), mode: 0o644 },
    { path: `${IMAGE_DIR}/run`, data: text(cameras ? renderMultiCameraRun(board, image, cameras, mics) : renderRunScript(board, image, audio)), mode: 0o755 },
    { path: `${IMAGE_DIR}/install.sh`, data: text(renderInstallScript(board, image, audio, cameras)), mode: 0o755 },
    { path: `${BUNDLE_DIR}/device.cbor`, data: file(join(bundle, 'device.cbor')), mode: 0o600 },
    { path: `${BUNDLE_DIR}/certificate.pem`, data: file(join(bundle, 'certificate.pem')), mode: 0o644 },
    { path: `${BUNDLE_DIR}/private.key`, data: file(join(bundle, 'private.key')), mode: 0o600 },
    { path: `${BUNDLE_DIR}/ca.pem`, data: file(join(bundle, 'ca.pem')), mode: 0o644 },
    ...urls,
    ...(cameraUrl !== undefined ? [{ path: `${BUNDLE_DIR}/${CAMERA_URL_FILE}`, data: text(`${cameraUrl}\n`), mode: 0o600 }] : []),
    { path: UNIT_FILE, data: text(renderUnit(board, image, audio)), mode: 0o644 },
  ];
}

function current(path: string, data: Uint8Array, mode: number): 'missing' | 'same' | 'different' {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 'missing';
  }
  if (!st.isFile() || (st.mode & 0o777) !== mode || st.size !== data.length) return 'different';
  return Buffer.compare(readFileSync(path), data) === 0 ? 'same' : 'different';
}

function writeAtomically(path: string, data: Uint8Array, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', mode);
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(tmp, mode); // exactly this mode, whatever the umask
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing left behind
    }
    throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: cannot write ${path}: ${(err as Error).message}`);
  }
}

/**
 * Writes the tree. The caller has built the image (dist/<board>/) and checked the target; the bundle is
 * validated here against the image's board.json before the first byte is written.
 */
export function flashTree(o: {
  board: BoardManifest;
  image: ImageManifest;
  bundle: string;
  target: string;
  force: boolean;
  cameraUrl?: string;
  microphones?: Readonly<Record<string, AudioSource>>;
}): FlashResult {
  let st;
  try {
    st = statSync(o.target);
  } catch {
    throw new FieldcamError(
      'CLI_INPUT_NOT_FOUND',
      `flash: the target ${o.target} does not exist (mount the SD card's root file system, or create the directory)`,
    );
  }
  if (!st.isDirectory()) throw new FieldcamError('CLI_INPUT_NOT_FOUND', `flash: the target ${o.target} is not a directory`);
  const { thingName, streamName } = validateBundle(o.bundle, join(imageDir(o.board.name), 'board.json'));
  const there = boardInTarget(o.target);
  if (there !== undefined && there !== o.board.name && !o.force) {
    throw new FieldcamError(
      'FLASH_TARGET_CONFLICT',
      `flash: ${o.target} holds the ${there} image, not ${o.board.name}; pass --force to replace it (nothing was written)`,
    );
  }
  const files: FlashedFile[] = [];
  for (const f of treeFiles(o.board, o.image, o.bundle, o.cameraUrl, o.microphones)) {
    const path = join(o.target, f.path);
    const state = current(path, f.data, f.mode);
    if (state !== 'same') writeAtomically(path, f.data, f.mode);
    files.push({
      path: f.path,
      bytes: f.data.length,
      mode: `0${f.mode.toString(8)}`,
      action: state === 'same' ? 'unchanged' : state === 'missing' ? 'written' : 'updated',
    });
  }
  // The bundle directory holds the private key: only its owner may list it.
  chmodSync(join(o.target, BUNDLE_DIR), 0o700);
  return {
    board: o.board.name,
    target: o.target,
    version: o.image.version,
    thingName,
    streamName,
    files,
    unchanged: files.every((f) => f.action === 'unchanged'),
  };
}
