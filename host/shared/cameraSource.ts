// Where a flashed board's video comes from: the camera adapter. One table says, per kind, which programs must
// be on the board and how the run script turns the camera into the byte stream the firmware reads on stdin
// (Annex-B H.264 or concatenated JPEG, the board's camera.codec). The board manifest names the kind
// (`camera.source`, default rpicam); `fieldcam flash --camera-source` overrides it per device; a URL (RTSP,
// HTTP) is per device and may hold a password, so it lives in the bundle directory (0600), never in the
// world-readable run script or board.json.
import { FieldcamError } from './hostErrors.ts';
import { CODECS, type CodecId } from '../../firmware/core/media/codecs.ts';

export type CameraSourceKind = 'rpicam' | 'v4l2' | 'rtsp' | 'mjpeg-http';

export interface CameraSource {
  readonly kind: CameraSourceKind;
  /** rpicam: `software` when the SoC has no H.264 encoder (Pi 5): raw YUV from rpicam-vid, encoded by ffmpeg/libx264. */
  readonly encoder?: 'hardware' | 'software';
  /** rpicam: which camera of the board (rpicam-vid --camera N, as --list-cameras numbers them); absent = 0. */
  readonly camera?: number;
  /** v4l2: the device node (default /dev/video0). */
  readonly device?: string;
  /** v4l2: what the camera sends (`ffmpeg -f v4l2 -input_format`): mjpeg (most UVC cameras), h264, yuyv422. */
  readonly format?: 'mjpeg' | 'h264' | 'yuyv422';
}

interface SourceKind {
  /** Each entry: one of these programs must be on the board's PATH. */
  readonly tools: readonly (readonly string[])[];
  /** The per-device URL is read from the bundle's camera-url file. */
  readonly url: boolean;
  readonly summary: string;
}

/** Camera tools of Raspberry Pi OS, newest name first (Bookworm: rpicam-apps; Bullseye: libcamera-apps). */
export const CAPTURE_TOOLS = Object.freeze(['rpicam-vid', 'libcamera-vid'] as const);

/** The Debian/Raspberry Pi OS package that brings each tool, for the message when it is missing. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = Object.freeze({ 'rpicam-vid': 'rpicam-apps', 'libcamera-vid': 'rpicam-apps', ffmpeg: 'ffmpeg' });

export const CAMERA_SOURCES: Readonly<Record<CameraSourceKind, SourceKind>> = Object.freeze({
  rpicam: Object.freeze({ tools: Object.freeze([CAPTURE_TOOLS]), url: false, summary: 'a Raspberry Pi camera through rpicam-vid (or libcamera-vid)' }),
  v4l2: Object.freeze({ tools: Object.freeze([Object.freeze(['ffmpeg'])]), url: false, summary: 'a V4L2 device (USB/UVC camera) through ffmpeg' }),
  rtsp: Object.freeze({ tools: Object.freeze([Object.freeze(['ffmpeg'])]), url: true, summary: 'an RTSP IP camera through ffmpeg -c copy (no re-encoding)' }),
  'mjpeg-http': Object.freeze({
    tools: Object.freeze([Object.freeze(['ffmpeg'])]),
    url: true,
    summary: 'an MJPEG HTTP camera (multipart/x-mixed-replace) through ffmpeg',
  }),
});

export const CAMERA_SOURCE_KINDS = Object.freeze(Object.keys(CAMERA_SOURCES) as CameraSourceKind[]);
const V4L2_FORMATS = Object.freeze(['mjpeg', 'h264', 'yuyv422'] as const);
/** A device path goes into a shell script: only plain path characters. */
const DEVICE_PATH = /^\/dev\/[A-Za-z0-9._/-]{1,64}$/;
/** The bundle file that holds an RTSP/HTTP camera's URL (mode 0600, the service user's). */
export const CAMERA_URL_FILE = 'camera-url';

/** The bundle file holding camera `name`'s URL in a device with several (0600 beside the key, as the one-camera camera-url). */
export function cameraUrlFile(name: string): string {
  return `${CAMERA_URL_FILE}-${name}`;
}
const DEFAULT_SOURCE: CameraSource = Object.freeze({ kind: 'rpicam' });

/** The programs a source needs on the board: every group needs one of its names. */
export function sourceTools(source: CameraSource): (readonly string[])[] {
  const tools = [...CAMERA_SOURCES[source.kind].tools];
  if (source.kind === 'rpicam' && source.encoder === 'software') tools.push(['ffmpeg']);
  return tools;
}

/** Validates `camera.source` of a board manifest (absent: rpicam); `bad(field, want)` throws naming the file. */
export function readCameraSource(value: unknown, bad: (field: string, want: string) => never): CameraSource {
  if (value === undefined) return DEFAULT_SOURCE;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('camera.source', 'an object');
  const o = value as Record<string, unknown>;
  const known = ['kind', 'encoder', 'camera', 'device', 'format'];
  for (const key of Object.keys(o)) if (!known.includes(key)) bad(`camera.source.${key}`, `one of ${known.join(', ')}`);
  if (!(CAMERA_SOURCE_KINDS as readonly unknown[]).includes(o.kind)) bad('camera.source.kind', CAMERA_SOURCE_KINDS.map((k) => `"${k}"`).join(', '));
  const kind = o.kind as CameraSourceKind;
  if (o.encoder !== undefined && (kind !== 'rpicam' || (o.encoder !== 'hardware' && o.encoder !== 'software'))) {
    bad('camera.source.encoder', '"hardware" or "software", and only for kind "rpicam"');
  }
  const index = o.camera;
  if (index !== undefined && (kind !== 'rpicam' || typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 7)) {
    bad('camera.source.camera', 'a camera index 0-7 (rpicam-vid --list-cameras), and only for kind "rpicam"');
  }
  if (o.device !== undefined && (kind !== 'v4l2' || typeof o.device !== 'string' || !DEVICE_PATH.test(o.device))) {
    bad('camera.source.device', 'a /dev/… path, and only for kind "v4l2"');
  }
  if (o.format !== undefined && (kind !== 'v4l2' || !(V4L2_FORMATS as readonly unknown[]).includes(o.format))) {
    bad('camera.source.format', `one of ${V4L2_FORMATS.join(', ')}, and only for kind "v4l2"`);
  }
  return Object.freeze({
    kind,
    ...(o.encoder !== undefined ? { encoder: o.encoder as 'hardware' | 'software' } : {}),
    ...(o.camera !== undefined ? { camera: o.camera as number } : {}),
    ...(o.device !== undefined ? { device: o.device as string } : {}),
    ...(o.format !== undefined ? { format: o.format as CameraSource['format'] } : {}),
  });
}

/**
 * `flash --camera-source`: `rpicam`, `rpicam:software`, `rpicam:N` / `rpicam:software:N` (camera N of the board),
 * `v4l2` (/dev/video0, MJPEG), `v4l2:/dev/videoN`,
 * `v4l2:/dev/videoN:h264`, `rtsp`, `mjpeg-http`. The URL of the last two comes from --camera-url-file. The one parser
 * of this text: flash reads device.cbor `cameras[i].source` with it, and provision --camera checks it. `where` begins
 * its error messages.
 */
export function parseCameraSourceFlag(text: string, where = `flash: --camera-source ${text}`): CameraSource {
  const [kind, ...rest] = text.split(':');
  const bad = (field: string, want: string): never => {
    throw new FieldcamError(
      'CLI_USAGE',
      `${where}: ${field} must be ${want} ` + `(rpicam, rpicam:software, rpicam[:software]:N, v4l2, v4l2:/dev/videoN[:mjpeg|h264|yuyv422], rtsp, mjpeg-http)`,
    );
  };
  if (kind === 'rpicam') {
    // A number is the camera index (a board with two CSI connectors, e.g. the Pi 5); a word, the encoder.
    const index = rest.length > 0 && /^\d+$/.test(rest[rest.length - 1]!) ? rest.pop() : undefined;
    const encoder = rest.length ? { encoder: rest.join(':') } : {};
    return readCameraSource({ kind, ...encoder, ...(index !== undefined ? { camera: Number(index) } : {}) }, bad);
  }
  if (kind === 'v4l2')
    return readCameraSource(
      { kind, ...(rest[0] ? { device: rest[0] } : {}), ...(rest[1] ? { format: rest[1] } : {}), ...(rest.length > 2 ? { extra: rest.slice(2) } : {}) },
      bad,
    );
  if (rest.length) bad('the kind', 'given without a value (the URL goes in a file: --camera-url-file)');
  return readCameraSource({ kind }, bad);
}

/** What a source captures from, as two cameras would collide on it; undefined for URL cameras (compared by URL). */
function sourceKey(source: CameraSource): string | undefined {
  if (source.kind === 'rpicam') return `the Raspberry Pi camera ${source.camera ?? 0} (rpicam-vid --camera ${source.camera ?? 0})`;
  if (source.kind === 'v4l2') return `the V4L2 device ${source.device ?? '/dev/video0'}`;
  return undefined;
}

/** Two cameras of one device on one source: their names, the source, and how to part them. */
export interface SourceConflict {
  readonly first: string;
  readonly second: string;
  readonly source: string;
  readonly remedy: string;
}

/**
 * The rule provision and flash share: one camera cannot feed two streams, so no two cameras of a device may capture
 * from the same Raspberry Pi camera, V4L2 device or URL. `url` is a URL camera's address when it is known (a URL
 * camera whose address is not is not compared). Returns the first clash, in list order.
 */
export function sourceConflict(
  cameras: readonly { readonly name: string; readonly source: CameraSource; readonly url?: string }[],
  urlPlace: (name: string) => string,
): SourceConflict | undefined {
  const seen = new Map<string, string>();
  for (const c of cameras) {
    const key = c.url !== undefined ? `the URL ${redactUrl(c.url)}` : sourceKey(c.source);
    if (key === undefined) continue;
    const first = seen.get(key);
    if (first !== undefined) {
      const remedy =
        c.source.kind === 'rpicam'
          ? `give ${c.name} its own camera, e.g. source "rpicam:1" (rpicam-vid --list-cameras numbers them), or a USB/IP camera`
          : c.source.kind === 'v4l2'
            ? `give ${c.name} its own device, e.g. source "v4l2:/dev/video2" (v4l2-ctl --list-devices)`
            : `give ${c.name} its own camera's URL in ${urlPlace(c.name)}`;
      return Object.freeze({ first, second: c.name, source: key, remedy });
    }
    seen.set(key, c.name);
  }
  return undefined;
}

/** A URL from --camera-url-file: one line, rtsp(s):// or http(s)://, no shell-breaking or control characters. */
export function readCameraUrl(text: string, source: CameraSource, file: string, who = 'flash'): string {
  const url = text.trim();
  const scheme = source.kind === 'rtsp' ? /^rtsps?:\/\//i : /^https?:\/\//i;
  const fail = (why: string): never => {
    throw new FieldcamError('CLI_USAGE', `${who}: ${file}: ${why} (the file holds the ${source.kind} camera's URL on one line)`);
  };
  if (!scheme.test(url)) fail(`not a ${source.kind === 'rtsp' ? 'rtsp:// or rtsps://' : 'http:// or https://'} URL`);
  if (url.length > 2048 || /[\s\x00-\x1f\x7f]/.test(url)) fail('the URL has spaces or control characters, or is over 2048 characters');
  return url;
}

/** The URL with any user:password replaced, for output. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1***@');
}

const FFMPEG = 'ffmpeg -hide_banner -loglevel error -nostdin';

/** The key frame period: one at every fragment boundary, so fragments close on time. */
function intraFrames(camera: { readonly fps: number }, fragmentMs: number): number {
  return Math.max(1, Math.round((camera.fps * fragmentMs) / 1000));
}

export interface CaptureBoard {
  readonly camera: { readonly codec: string; readonly width: number; readonly height: number; readonly fps: number; readonly source?: CameraSource };
  readonly pool: { readonly bitrateKbps: number };
  readonly stream: { readonly fragmentMs: number };
}

/**
 * ffmpeg's output for the board's codec. H.264: libx264 (ultrafast, zerolatency: no B-frames, no look-ahead),
 * a key frame per fragment and no scene-cut ones, SPS/PPS before every key frame (a restarted runtime can start
 * mid-stream). MJPEG: JPEG frames, one after another.
 */
function encodeTo(board: CaptureBoard): string {
  const g = intraFrames(board.camera, board.stream.fragmentMs);
  if (board.camera.codec === 'h265') {
    // libx265: no B-frames (KVS fragments need decode order = presentation order), VPS/SPS/PPS before every key frame.
    return `-c:v libx265 -preset ultrafast -tune zerolatency -pix_fmt yuv420p -b:v ${board.pool.bitrateKbps}k -g ${g} -keyint_min ${g} -sc_threshold 0 -x265-params repeat-headers=1:bframes=0:log-level=error -f hevc -`;
  }
  return board.camera.codec === 'h264'
    ? `-c:v libx264 -preset ultrafast -tune zerolatency -pix_fmt yuv420p -b:v ${board.pool.bitrateKbps}k -g ${g} -keyint_min ${g} -sc_threshold 0 -x264-params repeat-headers=1 -f h264 -`
    : '-c:v mjpeg -q:v 5 -f mjpeg -';
}

/**
 * Copying the camera's own stream. H.264/H.265: to Annex-B (h264_/hevc_mp4toannexb: a source whose parameter
 * sets are in an avcC/hvcC, as a demuxed container's are; an Annex-B source passes through), then the parameter
 * sets repeated before every key frame (dump_extra: RTSP cameras often send them only in the SDP).
 */
function copyTo(codec: string): string {
  if (codec === 'h264') return '-c:v copy -bsf:v h264_mp4toannexb,dump_extra=freq=keyframe -f h264 -';
  if (codec === 'h265') return '-c:v copy -bsf:v hevc_mp4toannexb,dump_extra=freq=keyframe -f hevc -';
  return '-c:v copy -f mjpeg -';
}

/** rpicam-vid's `--camera N`, only when the source names a camera: a one-camera board's script stays as it was. */
function cameraIndex(source: CameraSource | undefined): string[] {
  return source?.camera !== undefined ? ['--camera', String(source.camera)] : [];
}

/**
 * rpicam-vid's arguments for a hardware-encoded camera: run forever (-t 0), no preview, the manifest's size
 * and rate, a key frame at every fragment boundary (--intra), the pool's bitrate, SPS/PPS repeated before
 * every key frame (--inline: a restarted runtime can start mid-stream), flushed per frame, to stdout.
 */
export function captureArgs(board: CaptureBoard): string[] {
  const c = board.camera;
  const rpicamCodec = CODECS[c.codec as CodecId]?.rpicamCodec;
  if (rpicamCodec === undefined) {
    throw new FieldcamError(
      'CONFIG_INVALID',
      `rpicam-vid/libcamera-vid cannot encode ${c.codec} (their --codec is h264, mjpeg or yuv420): ` +
        'use camera.codec "h264" on a Raspberry Pi camera, camera.source {"kind":"rpicam","encoder":"software"} (ffmpeg encodes), or a camera adapter that delivers H.265',
    );
  }
  const intra = intraFrames(c, board.stream.fragmentMs);
  return [
    '-t',
    '0',
    '-n',
    ...cameraIndex(c.source),
    '--codec',
    rpicamCodec,
    ...(c.codec === 'h264' ? ['--inline', '--intra', String(intra)] : []),
    '--width',
    String(c.width),
    '--height',
    String(c.height),
    '--framerate',
    String(c.fps),
    ...(c.codec === 'h264' ? ['--bitrate', String(board.pool.bitrateKbps * 1000)] : []),
    '--flush',
    '-o',
    '-',
  ];
}

/**
 * The shell text of the capture stage: writes the board's codec to stdout, forever. It uses `$capture` (the
 * rpicam tool found) and `$url` (the bundle's camera-url), which the run script sets first.
 */
export function captureCommand(board: CaptureBoard): string {
  const c = board.camera;
  const source = c.source ?? DEFAULT_SOURCE;
  const size = `${c.width}x${c.height}`;
  switch (source.kind) {
    case 'rpicam':
      if (source.encoder !== 'software') return `"$capture" ${captureArgs(board).join(' ')}`;
      // No encoder in the SoC (Pi 5): raw I420 frames, encoded on the CPU.
      return (
        `"$capture" -t 0 -n ${cameraIndex(source)
          .map((a) => `${a} `)
          .join('')}--codec yuv420 --width ${c.width} --height ${c.height} --framerate ${c.fps} --flush -o - \\\n  | ` +
        `${FFMPEG} -f rawvideo -pix_fmt yuv420p -video_size ${size} -framerate ${c.fps} -i - ${encodeTo(board)}`
      );
    case 'v4l2': {
      const format = source.format ?? 'mjpeg';
      return (
        `${FFMPEG} -f v4l2 -input_format ${format} -video_size ${size} -framerate ${c.fps} -i ${source.device ?? '/dev/video0'} -an ` +
        (format === c.codec ? copyTo(c.codec) : encodeTo(board))
      );
    }
    case 'rtsp':
      // TCP interleaving: no UDP ports to open, no loss on a lossy link; set only for rtsp URLs (ffmpeg refuses
      // the option elsewhere). -probesize 32: start at once instead of probing ~0.5 s and then releasing those
      // frames in one burst, which the device's capture clock would stamp with the same millisecond.
      return `${FFMPEG} $transport -probesize 32 -i "$url" -an ${copyTo(c.codec)}`;
    case 'mjpeg-http':
      return `${FFMPEG} -f mpjpeg -i "$url" -an ${c.codec === 'mjpeg' ? copyTo('mjpeg') : encodeTo(board)}`;
  }
}
