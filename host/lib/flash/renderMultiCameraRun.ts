// The run script of a device with several cameras (device.cbor `cameras`): one capture per camera, each into a
// FIFO that the runtime holds as fd 3 + i (CAMERA_FD_BASE, docs/device-bundle.md). /bin/sh on Raspberry Pi OS is
// dash, which has no `3< <(…)`, hence FIFOs; they live in the service's private /tmp (PrivateTmp=yes, a fresh one
// at every restart) and are unlinked once the runtime's descriptors are open.
import type { ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
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

export function renderMultiCameraRun(board: BoardManifest, image: ImageManifest, cameras: readonly FlashCamera[]): string {
  const tools = [...new Set(cameras.map((c) => toolLookup(c.source, 'fieldcam', 10)))].join('');
  const fds = cameras.map((_, i) => `${CAMERA_FD_BASE + i}<"$fifos/${i}"`).join(' ');
  return `#!/bin/sh
# fieldcam ${image.version} for ${board.name}: ${cameras.length} cameras (${cameras.map((c) => c.name).join(', ')}) into one
# firmware, camera i on fd ${CAMERA_FD_BASE} + i. Written by \`fieldcam flash\`; started by ${'/' + UNIT_FILE}. The device
# bundle is in /${BUNDLE_DIR}; the runtime prints one JSON status line per second (journalctl -u fieldcam).
set -eu
${tools}fifos=$(mktemp -d)
mkfifo ${cameras.map((_, i) => `"$fifos/${i}"`).join(' ')}
# When one camera's capture ends, the runtime gets SIGTERM (it sends what it holds) and systemd restarts them all
# (Restart=always): a camera that stalls without ending only stalls its own stream.
${cameras.map((c, i) => captureStage(board, c, i)).join('')}exec ${fds}
rm -f ${cameras.map((_, i) => `"$fifos/${i}"`).join(' ')}
exec ${deviceCommand(image, '/').join(' ')} </dev/null
`;
}
