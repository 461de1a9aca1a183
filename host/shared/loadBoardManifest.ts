// The host's reader of board manifests (manifests/boards/<name>.json, and an image's board.json): it reads the file,
// validates it with the device's own validator (firmware/app/BoardDocument.ts), and adds only what the host alone
// knows, in the same error shape: the runtime build targets and their QEMU CPU, the camera and microphone adapters.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BoardDocument, boardFail, parseBoardDocument } from '../../firmware/app/BoardDocument.ts';
import { FieldcamError } from './hostErrors.ts';
import { QEMU_USER, TARGETS } from '../../toolchain/xs/build.mjs';
import { readCameraSource, type CameraSource } from './cameraSource.ts';
import { readAudioSource, type AudioSource } from './audioSource.ts';

export type { BoardMemory } from '../../firmware/app/BoardDocument.ts';

export const BOARDS_DIR = resolve(import.meta.dirname, '..', '..', 'manifests', 'boards');

/** A board manifest with the host's parts: the camera and microphone adapters the run script starts. */
export interface BoardManifest extends BoardDocument {
  readonly camera: BoardDocument['camera'] & {
    /** The camera adapter (host/shared/cameraSource.ts); absent: rpicam with the SoC's encoder. */
    readonly source?: CameraSource;
    /** The microphone (host/shared/audioSource.ts): only from flash --audio-source, per device; never in a manifest. */
    readonly audioSource?: AudioSource;
  };
}

/** The runtime build targets (toolchain/xs/build.mjs, firmware/runtime/Makefile). */
export const RUNTIME_TARGETS: readonly string[] = TARGETS;

export function listBoards(dir = BOARDS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Reads and validates `manifests/boards/<name>.json`; every problem names the file and field. */
export function loadBoardManifest(name: string, dir = BOARDS_DIR): BoardManifest {
  const boards = listBoards(dir);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !boards.includes(name)) {
    throw new FieldcamError('CONFIG_BOARD_UNKNOWN', `unknown board '${name}'; known boards: ${boards.join(', ')}`);
  }
  const file = join(dir, `${name}.json`);
  const board = readBoardManifest(file);
  const bad = boardFail(file);
  if (board.name !== name) bad('name', `"${name}" (the file name)`);
  if (board.camera.audioSource) bad('camera.audioSource', 'absent (the microphone is per device: flash --audio-source)');
  return board;
}

/** Reads and validates a board.json anywhere (a built image's, which may carry flash's camera and audio adapters). */
export function readBoardManifest(file: string): BoardManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `${file}: not valid JSON (${(err as Error).message})`);
  }
  const doc = parseBoardDocument(raw, file);
  const bad = boardFail(file);
  if (!RUNTIME_TARGETS.includes(doc.target)) bad('target', `one of ${RUNTIME_TARGETS.join(', ')}`);
  const qemu = QEMU_USER[doc.target];
  if (qemu && doc.qemuCpu === undefined) bad('qemuCpu', `the ${qemu} CPU model for target ${doc.target}`);
  const camera = (raw as { camera: Record<string, unknown> }).camera;
  return Object.freeze({
    ...doc,
    camera: Object.freeze({
      ...doc.camera,
      ...(camera.source !== undefined ? { source: readCameraSource(camera.source, bad) } : {}),
      ...(camera.audioSource !== undefined ? { audioSource: readAudioSource(camera.audioSource, bad) } : {}),
    }),
  });
}
