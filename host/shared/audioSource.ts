// Where a flashed board's microphone comes from: the audio adapter. The track's format (codec, rate, channels,
// the descriptor the runtime reads it on) is the device's, in the bundle's device.cbor `camera.audio`; the
// adapter is where the samples come from, per device: `fieldcam flash --audio-source alsa[:DEVICE]`. The run
// script then makes a FIFO, starts ffmpeg encoding the ALSA capture into it in the track's format, and gives the
// runtime the FIFO on that descriptor. No default device: a bundle with audio and no --audio-source is refused
// (FLASH_AUDIO_SOURCE_MISSING), because ALSA's `default` on a Pi is usually the HDMI output, not a microphone.
import { FieldcamError } from './hostErrors.ts';
import type { CameraAudio } from '../../firmware/app/DeviceConfig.ts';
import { CAMERA_NAME } from '../../firmware/core/iot/iotNames.ts';

export interface AudioSource {
  readonly kind: 'alsa';
  /** The ALSA capture device as `arecord -L` names it: hw:1, plughw:CARD=Device,DEV=0, default. */
  readonly device: string;
}

/** An ALSA name goes into a shell script: only the characters ALSA names use. */
const ALSA_DEVICE = /^[A-Za-z0-9_:,=.-]{1,64}$/;

/** The FIFO the run script makes for the encoder's output, in the unit's RuntimeDirectory (the service user's, 0700). */
export const AUDIO_FIFO = '/run/fieldcam/audio';

/** `flash --audio-source`: `alsa` (device hw:1, the first USB sound card on a Pi) or `alsa:DEVICE`. */
export function parseAudioSourceFlag(text: string): AudioSource {
  const at = text.indexOf(':');
  const kind = at < 0 ? text : text.slice(0, at);
  const device = at < 0 ? 'hw:1' : text.slice(at + 1);
  if (kind !== 'alsa' || !ALSA_DEVICE.test(device)) {
    throw new FieldcamError(
      'CLI_USAGE',
      `flash: --audio-source ${text}: want alsa or alsa:DEVICE (an ALSA capture device as arecord -L names it, e.g. alsa:hw:1)`,
    );
  }
  return Object.freeze({ kind, device });
}

/**
 * `flash --audio-source CAMERA=alsa[:DEVICE]` (a device with several cameras: each microphone names its camera) or the
 * plain `alsa[:DEVICE]` (camera undefined). An ALSA name may hold `=` (`plughw:CARD=Device`) but never before a `:`,
 * so a camera name is only what precedes the first `=` when it is a CAMERA_NAME.
 */
export function parseCameraAudioFlag(text: string): { readonly camera: string | undefined; readonly source: AudioSource } {
  const eq = text.indexOf('=');
  const camera = eq > 0 && CAMERA_NAME.test(text.slice(0, eq)) ? text.slice(0, eq) : undefined;
  return Object.freeze({ camera, source: parseAudioSourceFlag(camera === undefined ? text : text.slice(eq + 1)) });
}

/** The microphones flash was given for a device with several cameras, by camera (carried on the board like `audioSource`). */
export interface MicrophoneBoard {
  readonly microphones?: Readonly<Record<string, AudioSource>>;
}

/**
 * The microphone plan of each camera of a device with several (device.cbor `cameras[i].audio`) that has one: the
 * same pairing rule as audioPlan, per camera. A camera with audio and no `--audio-source CAMERA=…` is
 * FLASH_AUDIO_SOURCE_MISSING; a source for a camera that has no audio, or one ALSA device named for two cameras (a
 * `hw:` capture device opens once), is CLI_USAGE.
 */
export function cameraMicrophonePlans(
  cameras: readonly { readonly name: string; readonly audio?: CameraAudio }[],
  sources: Readonly<Record<string, AudioSource>>,
  bundle: string,
): ReadonlyMap<string, MicrophonePlan> {
  const plans = new Map<string, MicrophonePlan>();
  for (const name of Object.keys(sources)) {
    if (!cameras.some((c) => c.name === name && c.audio)) {
      throw new FieldcamError(
        'CLI_USAGE',
        `flash: --audio-source ${name}=…: the bundle ${bundle} has no camera ${name} with audio (device.cbor cameras[i].audio): ` +
          `its cameras with a microphone are ${
            cameras
              .filter((c) => c.audio)
              .map((c) => c.name)
              .join(', ') || 'none'
          }`,
      );
    }
  }
  const devices = new Map<string, string>();
  for (const c of cameras) {
    if (!c.audio) continue;
    const source = sources[c.name];
    if (!source) {
      throw new FieldcamError(
        'FLASH_AUDIO_SOURCE_MISSING',
        `flash: camera ${c.name} of the bundle ${bundle} has audio (${c.audio.codec}, fd ${c.audio.fd}) but no microphone was named: ` +
          `pass --audio-source ${c.name}=alsa:hw:1 (arecord -l lists the cards)`,
      );
    }
    const other = devices.get(source.device);
    if (other !== undefined) {
      throw new FieldcamError(
        'CLI_USAGE',
        `flash: cameras ${other} and ${c.name} both record from ALSA ${source.device}, which opens for one reader: give each its own card ` +
          '(--audio-source NAME=alsa:hw:N), or a dsnoop device defined in /etc/asound.conf for each',
      );
    }
    devices.set(source.device, c.name);
    plans.set(c.name, Object.freeze({ audio: c.audio, source }));
  }
  return plans;
}

/** A board.json's `camera.audioSource` (what flash wrote into an image): the same rule as the flag. */
export function readAudioSource(value: unknown, bad: (field: string, want: string) => never): AudioSource {
  const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const keysOk = o !== undefined && Object.keys(o).every((k) => k === 'kind' || k === 'device');
  if (!o || !keysOk || o.kind !== 'alsa' || typeof o.device !== 'string' || !ALSA_DEVICE.test(o.device)) {
    return bad('camera.audioSource', '{ "kind": "alsa", "device": an ALSA capture device name }');
  }
  return Object.freeze({ kind: 'alsa', device: o.device });
}

/** The microphone of a device whose bundle has camera.audio: the track's format and where its samples come from. */
export interface MicrophonePlan {
  readonly audio: CameraAudio;
  readonly source: AudioSource;
}

/**
 * The pair the run script needs, or nothing: refuses a bundle with `camera.audio` and no source (the device
 * would wait for audio that never comes and send silence), and a source for a bundle without audio.
 */
export function audioPlan(audio: CameraAudio | undefined, source: AudioSource | undefined, bundle: string): MicrophonePlan | undefined {
  if (audio && !source) {
    throw new FieldcamError(
      'FLASH_AUDIO_SOURCE_MISSING',
      `flash: the bundle ${bundle} has camera.audio (${audio.codec}, fd ${audio.fd}) but no --audio-source was given: ` +
        'name the microphone, e.g. --audio-source alsa:hw:1 (arecord -l lists the cards)',
    );
  }
  if (source && !audio) {
    throw new FieldcamError(
      'CLI_USAGE',
      `flash: --audio-source goes with a bundle whose device.cbor has camera.audio; ${bundle} has none (provision the thing with audio)`,
    );
  }
  return audio && source ? { audio, source } : undefined;
}

/** ffmpeg's output for the track's codec: AAC-LC in ADTS, or raw G.711 bytes, at the track's rate and channels. */
function encodeAudioTo(audio: CameraAudio): string {
  if (audio.codec === 'aac') return '-c:a aac -b:a 64k -f adts';
  return audio.codec === 'alaw' ? '-c:a pcm_alaw -f alaw' : '-c:a pcm_mulaw -f mulaw';
}

/**
 * The shell text that starts the audio stage in the background: the FIFO (made once, 0600), then ffmpeg from
 * ALSA into it. The runtime's `fd< FIFO` blocks until a writer opens it, so an encoder that fails before its
 * open (no such card) must not leave the camera waiting forever: whenever ffmpeg ends, the stage opens and
 * closes the FIFO once (read-write: that open never blocks, even with the runtime gone), which the runtime
 * reads as the audio's end (then silence; the video goes on), and the journal gets the reason.
 */
export function audioCommand(plan: MicrophonePlan, fifo = AUDIO_FIFO): string {
  const { audio, source } = plan;
  const input = `-f alsa -ac ${audio.channels} -ar ${audio.sampleRate} -i ${source.device}`;
  const output = `-ac ${audio.channels} -ar ${audio.sampleRate} ${encodeAudioTo(audio)} -y ${fifo}`;
  const ended = `echo "fieldcam: the microphone's encoder (alsa ${source.device}) ended with $?: the device sends silence" >&2`;
  return `[ -p ${fifo} ] || mkfifo -m 0600 ${fifo}
{ ffmpeg -hide_banner -loglevel error -nostdin ${input} ${output} \\
  || ${ended}; : <> ${fifo}; } &
`;
}

/** The runtime's redirection: the FIFO on the track's descriptor. */
export function audioRedirect(audio: CameraAudio): string {
  return `${audio.fd}< ${AUDIO_FIFO}`;
}
