// The cameras a multi-camera bundle (device.cbor `cameras`, docs/device-bundle.md) asks the run script to start:
// each one's codec, frame rate and camera adapter (its own `source`, else the board's or --camera-source's), and
// the URL of an RTSP/HTTP camera (the bundle file camera-url-<camera>). Two cameras cannot share one source —
// one camera cannot feed two streams — so that is refused here, before anything is written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { FieldcamError } from '../../shared/hostErrors.ts';
import {
  CAMERA_SOURCES,
  cameraUrlFile,
  parseCameraSourceFlag,
  readCameraSource,
  readCameraUrl,
  sourceConflict,
  type CameraSource,
} from '../../shared/cameraSource.ts';
import type { CodecId } from '../../../firmware/core/media/codecs.ts';

export interface FlashCamera {
  readonly name: string;
  readonly codec: CodecId;
  readonly fps: number;
  /** Its bitrate in kbit/s (device.cbor cameras[i].bitrateKbps, which also sizes its pool); absent: the board's pool.bitrateKbps. */
  readonly bitrateKbps?: number;
  readonly source: CameraSource;
  /** RTSP/HTTP cameras: the URL (from the bundle's camera-url-<name>) and that file's name. */
  readonly url?: { readonly file: string; readonly value: string };
}

export { cameraUrlFile };

/** device.cbor decoded with the device's bounds (firmware/app/DeviceBundle.ts), for the keys only flash reads. */
function readDocument(bytes: Uint8Array): Record<string, unknown> {
  return decodeCbor(bytes, 0, bytes.length, { maxBytes: 16 * 1024, maxDepth: 4, maxItems: 256, maxStringBytes: 4096 }) as Record<string, unknown>;
}

/** Whether `bundle` is one device's bundle whose device.cbor lists `cameras` (false for a fleet folder or an unreadable file: later checks name those). */
export function listsCameras(bundle: string): boolean {
  try {
    return Array.isArray(readDocument(readFileSync(join(bundle, 'device.cbor'))).cameras);
  } catch {
    return false;
  }
}

function invalid(bundle: string, what: string): never {
  throw new FieldcamError('FLASH_CAMERA_SOURCE_INVALID', `flash: the bundle ${bundle}: ${what}`);
}

function readSource(raw: unknown, field: string, fallback: CameraSource, bundle: string): CameraSource {
  if (raw === undefined) return fallback;
  const bad = (f: string, want: string): never =>
    invalid(bundle, `device.cbor ${field}.${f.replace(/^camera\.source\.?/, 'source.').replace(/\.$/, '')} must be ${want}`);
  if (typeof raw !== 'string') return readCameraSource(raw, bad);
  try {
    return parseCameraSourceFlag(raw);
  } catch (err) {
    return invalid(bundle, `device.cbor ${field}.source ${JSON.stringify(raw)}: ${(err as Error).message.replace(/^flash: --camera-source \S+: /, '')}`);
  }
}

/**
 * The cameras of a bundle that lists several, in fd order (camera i on fd 3 + i); undefined for a one-camera
 * bundle. The bundle has been validated (validateBundle), so names, codecs and rates are the device's.
 */
export function flashCameras(board: CamerasBoard, bundle: string): readonly FlashCamera[] | undefined {
  return camerasOf(board, bundle, (file) => readFileSync(join(bundle, file)));
}

/** The board fields the cameras default to (a BoardManifest, or an image's board.json). */
export interface CamerasBoard {
  readonly camera: { readonly codec: string; readonly fps: number; readonly source?: CameraSource };
}

/** flashCameras over any reader of the bundle's files (`fieldcam flash --verify` reads them from the image). */
export function camerasOf(board: CamerasBoard, bundle: string, read: (file: string) => Uint8Array): readonly FlashCamera[] | undefined {
  const doc = readDocument(read('device.cbor'));
  if (!Array.isArray(doc.cameras)) return undefined;
  const fallback = board.camera.source ?? { kind: 'rpicam' as const };
  const cameras = (doc.cameras as Record<string, unknown>[]).map((c, i): FlashCamera => {
    const name = String(c.name);
    const source = readSource(c.source, `cameras[${i}]`, fallback, bundle);
    let url: FlashCamera['url'];
    if (CAMERA_SOURCES[source.kind].url) {
      const file = cameraUrlFile(name);
      let text: string;
      try {
        text = new TextDecoder().decode(read(file));
      } catch (err) {
        return invalid(
          bundle,
          `camera ${name} is a ${source.kind} camera and ${join(bundle, file)} cannot be read (${(err as NodeJS.ErrnoException).code}): write its URL there, one line, mode 0600`,
        );
      }
      url = { file, value: readCameraUrl(text, source, join(bundle, file)) };
    }
    return Object.freeze({
      name,
      source,
      ...(url ? { url } : {}),
      codec: (c.codec ?? board.camera.codec) as CodecId,
      fps: typeof c.fps === 'number' ? c.fps : board.camera.fps,
      ...(typeof c.bitrateKbps === 'number' ? { bitrateKbps: c.bitrateKbps } : {}),
    });
  });
  const clash = sourceConflict(
    cameras.map((c) => ({ name: c.name, source: c.source, ...(c.url ? { url: c.url.value } : {}) })),
    cameraUrlFile,
  );
  if (clash) {
    throw new FieldcamError(
      'FLASH_CAMERA_SOURCE_CONFLICT',
      `flash: the bundle ${bundle}: cameras ${clash.first} and ${clash.second} both capture from ${clash.source}, and one camera cannot feed two streams: ` +
        `${clash.remedy} (device.cbor cameras[].source; fieldcam provision --camera ${clash.second}=SOURCE writes it)`,
    );
  }
  return Object.freeze(cameras);
}
