// `fieldcam provision --camera NAME[=SOURCE][,codec=C][,fps=N][,bitrate=KBPS]` (repeatable, in fd order) and
// `--camera-url-file NAME=FILE`: the cameras of a device with what flash needs to start each one, so the bundle
// goes to `fieldcam flash` without hand edits. The pieces are judged by the rules that read them later: the source
// by flash's parser (parseCameraSourceFlag, the `--camera-source` text), two cameras on one source by the rule flash
// applies (sourceConflict), names, codecs, rates and bitrates by the device's own reader of device.cbor
// (readDeviceDocument), and a URL by flash's URL check. A URL may hold a password, so it never comes on the command
// line: it is read from a file and written to the bundle's camera-url-<camera> (0600), which flash reads.
import { readFileSync } from 'node:fs';
import { readDeviceDocument, type DocumentBoard } from '../../../firmware/app/DeviceBundle.ts';
import { CAMERA_NAME, MAX_CAMERAS } from '../../../firmware/core/iot/iotNames.ts';
import { CAMERA_SOURCES, cameraUrlFile, parseCameraSourceFlag, readCameraUrl, sourceConflict, type CameraSource } from '../../shared/cameraSource.ts';
import { FieldcamError, isFieldcamError } from '../../shared/hostErrors.ts';
import { encodeDeviceConfig, type CameraEntry } from '../writeBundle.ts';

/** One camera as `--camera` gives it; `given` is false for a bare name, which keeps what the bundle has for it. */
export interface CameraFlag {
  readonly entry: CameraEntry;
  readonly given: boolean;
}

/** The option keys after the source, and the device.cbor key each one sets. */
const OPTION_KEYS = Object.freeze({ codec: 'codec', fps: 'fps', bitrate: 'bitrateKbps' } as const);

const SYNTAX = 'NAME[=SOURCE][,codec=C][,fps=N][,bitrate=KBPS], e.g. front=rpicam:0 or yard=v4l2:/dev/video1,codec=h264';

function invalid(message: string): never {
  throw new FieldcamError('PROVISION_CAMERA_INVALID', message);
}

/**
 * One `--camera` value. SOURCE is the text `fieldcam flash --camera-source` takes (rpicam, rpicam:1, rpicam:software:1,
 * v4l2:/dev/video1[:h264], rtsp, mjpeg-http); none of them holds a comma, so options follow after commas.
 */
export function parseCameraFlag(raw: string): CameraFlag {
  const [head = '', ...options] = raw.split(',');
  const eq = head.indexOf('=');
  const name = (eq < 0 ? head : head.slice(0, eq)).trim();
  if (!CAMERA_NAME.test(name)) invalid(`--camera ${raw}: '${name}' is not a camera name (1-32 of a-z 0-9 _ -, starting with a letter or digit; ${SYNTAX})`);
  let source: string | undefined;
  if (eq >= 0) {
    source = head.slice(eq + 1).trim();
    try {
      parseCameraSourceFlag(source, `--camera ${name}=${source}`);
    } catch (err) {
      invalid((err as Error).message);
    }
  }
  const entry: Record<string, string | number> = { name, ...(source !== undefined ? { source } : {}) };
  for (const option of options) {
    const m = /^\s*([a-z]+)=(.*)$/.exec(option);
    const key = m ? OPTION_KEYS[m[1] as keyof typeof OPTION_KEYS] : undefined;
    if (!m || key === undefined) invalid(`--camera ${raw}: '${option}' is not one of codec=, fps=, bitrate= (${SYNTAX})`);
    if (entry[key] !== undefined) invalid(`--camera ${raw}: ${m[1]}= is given twice`);
    const value = m[2]!.trim();
    // Numbers stay numbers so the device's reader judges their range; anything else is handed on as text and refused there.
    entry[key] = key === 'codec' || !/^\d+$/.test(value) ? value : Number(value);
  }
  return Object.freeze({ entry: Object.freeze(entry) as unknown as CameraEntry, given: eq >= 0 || options.length > 0 });
}

/** A board that takes any codec and rate: provision knows no board, so only what holds on every board is judged here. */
const ANY_BOARD: DocumentBoard = Object.freeze({ codec: 'h264', fps: () => 1, fragmentMs: 0, maxFragmentMs: Number.MAX_SAFE_INTEGER });

/**
 * Every `--camera` of the run, checked: names once each, 1..MAX_CAMERAS, each map as the device reads it (a
 * device.cbor with just these cameras through readDeviceDocument), and no two on one source.
 */
export function parseCameraFlags(raws: readonly string[]): readonly CameraFlag[] {
  const flags = raws.map(parseCameraFlag);
  if (flags.length > MAX_CAMERAS) invalid(`--camera: ${flags.length} cameras named; a device runs at most ${MAX_CAMERAS}`);
  const names = flags.map((f) => f.entry.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) invalid(`--camera: '${twice}' is named twice; each camera needs its own stream`);
  checkWithDevice(flags.map((f) => f.entry));
  const clash = sourceConflict(
    flags.flatMap((f) => (f.entry.source !== undefined ? [{ name: f.entry.name, source: parseCameraSourceFlag(f.entry.source) }] : [])),
    (name) => `--camera-url-file ${name}=FILE`,
  );
  if (clash) {
    throw new FieldcamError(
      'PROVISION_CAMERA_INVALID',
      `cameras ${clash.first} and ${clash.second} both capture from ${clash.source}, and one camera cannot feed two streams: ${clash.remedy}`,
    );
  }
  return Object.freeze(flags);
}

/** The cameras as the device would read them; its CONFIG_INVALID becomes PROVISION_CAMERA_INVALID naming the --camera. */
function checkWithDevice(cameras: readonly CameraEntry[]): void {
  const bytes = encodeDeviceConfig({
    version: 1,
    thingName: 'provision-check',
    cameras,
    region: 'us-east-1',
    roleAlias: 'fieldcam-check',
    endpoints: { credentialProvider: 'check.invalid', iotData: 'check.invalid', kinesisVideo: 'https://check.invalid' },
  });
  try {
    readDeviceDocument(bytes, 'device.cbor', ANY_BOARD);
  } catch (err) {
    if (!isFieldcamError(err)) throw err;
    const m = /cameras\[(\d+)\]/.exec(err.message);
    const which = m ? `--camera ${cameras[Number(m[1])]!.name}: ` : '--camera: ';
    // The device's message names its key (`config device.cbor cameras[1].fps`); the flag's option is named instead.
    const why = err.message.replace(/^config (device\.cbor )?(cameras\[\d+\]\.)?/, '').replace(/^bitrateKbps/, 'bitrate (kbit/s)');
    invalid(`${which}${why}`);
  }
}

/**
 * `--camera-url-file NAME=FILE`: the URL of each RTSP/HTTP camera, read and checked as flash checks it. Every URL
 * camera needs one unless `known(name)` (the bundle holds its camera-url-<name> from an earlier run); a file for a
 * camera that is not a URL camera, or for a camera not named, is refused.
 */
export function readCameraUrls(raws: readonly string[], cameras: readonly CameraEntry[], known: (name: string) => boolean): ReadonlyMap<string, string> {
  const sources = new Map<string, CameraSource | undefined>(cameras.map((c) => [c.name, c.source === undefined ? undefined : parseCameraSourceFlag(c.source)]));
  const urls = new Map<string, string>();
  for (const raw of raws) {
    const eq = raw.indexOf('=');
    const name = eq < 0 ? '' : raw.slice(0, eq);
    const file = raw.slice(eq + 1);
    if (eq < 0 || file === '') throw new FieldcamError('CLI_USAGE', `provision: --camera-url-file ${raw}: want NAME=FILE (the camera's URL on one line)`);
    if (!sources.has(name)) throw new FieldcamError('CLI_USAGE', `provision: --camera-url-file ${raw}: no --camera ${name}`);
    const source = sources.get(name);
    if (source === undefined || !CAMERA_SOURCES[source.kind].url)
      throw new FieldcamError('CLI_USAGE', `provision: --camera-url-file ${raw}: camera ${name} is not an rtsp or mjpeg-http camera (--camera ${name}=rtsp)`);
    if (urls.has(name)) throw new FieldcamError('CLI_USAGE', `provision: --camera-url-file: camera ${name} is given two files`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new FieldcamError('CLI_INPUT_NOT_FOUND', `provision: cannot read --camera-url-file ${raw} (${(err as NodeJS.ErrnoException).code})`);
    }
    urls.set(name, readCameraUrl(text, source, file, 'provision'));
  }
  for (const [name, source] of sources) {
    if (source && CAMERA_SOURCES[source.kind].url && !urls.has(name) && !known(name)) {
      invalid(
        `camera ${name} is an ${source.kind} camera and its URL is not known: pass --camera-url-file ${name}=FILE (one line; it may hold a password, ` +
          `so it is never taken on the command line); it is kept in the bundle as ${cameraUrlFile(name)} (0600)`,
      );
    }
  }
  const clash = sourceConflict(
    cameras.flatMap((c) => (urls.has(c.name) ? [{ name: c.name, source: sources.get(c.name)!, url: urls.get(c.name)! }] : [])),
    (name) => `--camera-url-file ${name}=FILE`,
  );
  if (clash) {
    throw new FieldcamError(
      'PROVISION_CAMERA_INVALID',
      `cameras ${clash.first} and ${clash.second} both capture from ${clash.source}, and one camera cannot feed two streams: ${clash.remedy}`,
    );
  }
  return urls;
}
