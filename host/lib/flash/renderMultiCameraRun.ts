// The run script of a device with several cameras (device.cbor `cameras`): one capture per camera, each into a
// FIFO that the runtime holds as fd 3 + i (CAMERA_FD_BASE, docs/device-bundle.md). /bin/sh on Raspberry Pi OS is
// dash, which has no `3< <(…)`, hence FIFOs; they live in the service's private /tmp (PrivateTmp=yes, a fresh one
// at every restart) and are unlinked once the runtime's descriptors are open.
import type { ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { audioCommand, type MicrophonePlan } from '../../shared/audioSource.ts';
import { CAMERA_SOURCES, captureCommand } from '../../shared/cameraSource.ts';
import { CAMERA_FD_BASE } from '../../../firmware/app/DeviceBundle.ts';
import { BUNDLE_DIR, deviceCommand, UNIT_FILE } from './deviceTree.ts';
import type { FlashCamera } from './flashCameras.ts';
import { toolLookup } from './renderService.ts';

/**
 * Camera i's capture, writing into its FIFO. When it ends, the runtime is stopped; only the first capture to end
 * signals (mkdir is atomic): the runtime closes the other cameras while it sends what it holds, their captures then
 * end too, and a second SIGTERM would make it exit at once (143) without its last fragments.
 */
function captureStage(board: BoardManifest, camera: FlashCamera, i: number): string {
  const url = camera.url
    ? `  url=$(cat /${BUNDLE_DIR}/${camera.url.file})
  transport=
  case "$url" in rtsp://*|rtsps://*) transport="-rtsp_transport tcp" ;; esac
`
    : '';
  const capture = captureCommand({
    camera: { codec: camera.codec, width: board.camera.width, height: board.camera.height, fps: camera.fps, source: camera.source },
    // The encoder's bitrate is the one the camera's pool was sized from on the device.
    pool: { bitrateKbps: camera.bitrateKbps ?? board.pool.bitrateKbps },
    stream: board.stream,
  });
  return `# ${camera.name} (fd ${CAMERA_FD_BASE + i}, ${camera.codec}): ${CAMERA_SOURCES[camera.source.kind].summary}
(
  set +e
${url}  ${capture.replace(/\n/g, '\n  ')}
  mkdir "$fifos/ended" 2>/dev/null && kill -TERM $$ 2>/dev/null
) >"$fifos/${i}" &
`;
}

/**
 * Camera `name`'s microphone: ffmpeg from ALSA into its FIFO beside the cameras' (audioCommand: when the encoder
 * ends or never starts, the FIFO is opened and closed once, so the runtime reads the audio's end and sends silence
 * while the video goes on). It does not stop the device: a microphone is not worth a restart of every camera.
 */
function microphoneStage(name: string, plan: MicrophonePlan): string {
  const { audio, source } = plan;
  return `# ${name}'s microphone (fd ${audio.fd}, ${audio.codec} ${audio.sampleRate} Hz ${audio.channels} ch): ALSA ${source.device} through ffmpeg
${audioCommand(plan, `"$fifos/mic-${name}"`)}`;
}

/** ffmpeg for the microphones, found on PATH or the script exits 10 (as for a camera's tools). */
const MICROPHONE_TOOL = `if ! command -v ffmpeg >/dev/null 2>&1; then
  echo "fieldcam: no ffmpeg for the microphones: sudo apt install ffmpeg" >&2
  exit 10
fi
`;

/** `mics`: the microphone of each camera that has one (cameraMicrophonePlans), by camera name. */
export function renderMultiCameraRun(
  board: BoardManifest,
  image: ImageManifest,
  cameras: readonly FlashCamera[],
  mics: ReadonlyMap<string, MicrophonePlan> = new Map(),
): string {
  const tools = [...new Set(cameras.map((c) => toolLookup(c.source, 'fieldcam', 10)))].join('') + (mics.size > 0 ? MICROPHONE_TOOL : '');
  const micList = [...mics];
  const fds = [...cameras.map((_, i) => `${CAMERA_FD_BASE + i}<"$fifos/${i}"`), ...micList.map(([name, plan]) => `${plan.audio.fd}<"$fifos/mic-${name}"`)].join(
    ' ',
  );
  const fifoPaths = [...cameras.map((_, i) => `"$fifos/${i}"`), ...micList.map(([name]) => `"$fifos/mic-${name}"`)].join(' ');
  return `#!/bin/sh
# fieldcam ${image.version} for ${board.name}: ${cameras.length} cameras (${cameras.map((c) => c.name).join(', ')}) into one
# firmware, camera i on fd ${CAMERA_FD_BASE} + i. Written by \`fieldcam flash\`; started by ${'/' + UNIT_FILE}. The device
# bundle is in /${BUNDLE_DIR}; the runtime prints one JSON status line per second (journalctl -u fieldcam).
set -eu
${tools}fifos=$(mktemp -d)
mkfifo ${cameras.map((_, i) => `"$fifos/${i}"`).join(' ')}
# When one camera's capture ends, the runtime gets SIGTERM (it sends what it holds) and systemd restarts them all
# (Restart=always): a camera that stalls without ending only stalls its own stream.
${cameras.map((c, i) => captureStage(board, c, i)).join('')}${micList.map(([name, plan]) => microphoneStage(name, plan)).join('')}exec ${fds}
rm -f ${fifoPaths}
exec ${deviceCommand(image, '/').join(' ')} </dev/null
`;
}
