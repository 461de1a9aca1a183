// The three texts of a flashed tree that a Raspberry Pi OS board runs: the run script (camera → runtime), the
// systemd unit that keeps it running, and install.sh. Pure functions of the board manifest and image.json, so
// a re-flash with the same inputs writes the same bytes.
import type { ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { CAMERA_SOURCES, CAMERA_URL_FILE, captureCommand, sourceTools, TOOL_PACKAGES, type CameraSource } from '../../shared/cameraSource.ts';
import type { FlashCamera } from './flashCameras.ts';
import { audioCommand, audioRedirect, type MicrophonePlan } from '../../shared/audioSource.ts';
import { deviceCommand, IMAGE_DIR, BUNDLE_DIR, SERVICE_USER, UNIT_FILE } from './deviceTree.ts';

/** The capture tools a source needs, found on PATH or the script exits 10 naming what to install. */
export function toolLookup(source: CameraSource, who: string, exitCode: number): string {
  return sourceTools(source)
    .map((group) => {
      const first =
        group.length > 1
          ? `capture=
for tool in ${group.join(' ')}; do
  if command -v "$tool" >/dev/null 2>&1; then capture=$tool; break; fi
done
if [ -z "$capture" ]; then`
          : `if ! command -v ${group[0]} >/dev/null 2>&1; then`;
      return `${first}
  echo "${who}: no ${group.join(' or ')} for the ${source.kind} camera: sudo apt install ${TOOL_PACKAGES[group[0]!] ?? group[0]}" >&2
  exit ${exitCode}
fi
`;
    })
    .join('');
}

/** The camera source this board's run script uses (the manifest's, or flash --camera-source's). */
export function sourceOf(board: BoardManifest): CameraSource {
  return board.camera.source ?? { kind: 'rpicam' };
}

/** The microphone of a device whose bundle has camera.audio (host/shared/audioSource.ts). */
export type AudioPlan = MicrophonePlan;

export function renderRunScript(board: BoardManifest, image: ImageManifest, audio?: AudioPlan): string {
  const source = sourceOf(board);
  const url = CAMERA_SOURCES[source.kind].url
    ? `# The camera's URL is per device and may hold a password: it lives beside the key, readable by this user only.
url=$(cat /${BUNDLE_DIR}/${CAMERA_URL_FILE})
transport=
case "$url" in rtsp://*|rtsps://*) transport="-rtsp_transport tcp" ;; esac
`
    : '';
  const mic = audio ? audioStage(audio) : '';
  return `#!/bin/sh
# fieldcam ${image.version} for ${board.name}: the camera (${CAMERA_SOURCES[source.kind].summary}) piped into the
# firmware. Written by \`fieldcam flash\`; started by ${'/' + UNIT_FILE}. The runtime reads the camera on stdin
# (fd 0) and the device bundle in /${BUNDLE_DIR}; it prints one JSON status line per second (journalctl -u fieldcam).
set -eu
${toolLookup(source, 'fieldcam', 10)}${url}${mic}# When the camera or the runtime ends, the pipeline ends and systemd restarts both (Restart=always).
${captureCommand(board)} \\
  | ${deviceCommand(image, '/').join(' ')}${audio ? ` ${audioRedirect(audio.audio)}` : ''}
`;
}

/** The audio stage: ffmpeg on PATH (exit 10 otherwise, as for the camera's tools), then the encoder into the FIFO. */
function audioStage(audio: AudioPlan): string {
  return `if ! command -v ffmpeg >/dev/null 2>&1; then
  echo "fieldcam: no ffmpeg for the ${audio.source.kind} microphone: sudo apt install ffmpeg" >&2
  exit 10
fi
# The microphone (${audio.audio.codec}, ${audio.audio.sampleRate} Hz, ${audio.audio.channels} ch) reaches the runtime on fd ${audio.audio.fd} through a FIFO;
# ffmpeg's open blocks until the runtime opens the other end, and ends with it (SIGPIPE).
${audioCommand(audio)}`;
}

/** With a microphone: the FIFO's directory, the service user's, made at each start and removed at each stop. */
const RUNTIME_DIRECTORY = "# The microphone's FIFO (/run/fieldcam/audio).\nRuntimeDirectory=fieldcam\nRuntimeDirectoryMode=0700\n";

/**
 * The unit. Hardening is what does not break the camera: libcamera needs /dev/video*, /dev/media*,
 * /dev/v4l-subdev* and /dev/dma_heap/* (group video), so no PrivateDevices=, DevicePolicy= or DeviceAllow=,
 * and no ProtectClock= (it adds a DeviceAllow= for the RTC, which closes every other device). No
 * SystemCallArchitectures=native either: the runtime is a static 32-bit ARM binary, which a 64-bit Raspberry Pi
 * OS runs as a compat process. libcamera watches devices through udev, hence AF_NETLINK.
 */
export function renderUnit(board: BoardManifest, image: ImageManifest, audio?: AudioPlan): string {
  return `# fieldcam ${image.version} for ${board.name}, written by \`fieldcam flash\`.
[Unit]
Description=fieldcam camera → Amazon Kinesis Video Streams (${board.name})
Documentation=file:///${IMAGE_DIR}/install.sh
Wants=network-online.target
After=network-online.target
# Never give up restarting: a camera in the field has no one to start it again.
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=/${IMAGE_DIR}/run
Restart=always
RestartSec=5
# SIGTERM reaches the capture and the runtime; the runtime sends what it holds and waits for the last PERSISTED.
KillMode=control-group
TimeoutStopSec=30
User=${SERVICE_USER}
Group=${SERVICE_USER}
SupplementaryGroups=video${audio ? ' audio' : ''}
StateDirectory=fieldcam
StateDirectoryMode=0700
${audio ? RUNTIME_DIRECTORY : ''}WorkingDirectory=/var/lib/fieldcam
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# Camera access: /dev/video*, /dev/media*, /dev/dma_heap/* stay visible (no PrivateDevices/DeviceAllow/ProtectClock).

[Install]
WantedBy=multi-user.target
`;
}

/** The kernels (`uname -m`) that run each target: a 64-bit kernel runs the static 32-bit builds as compat processes. */
const MACHINES: Readonly<Record<string, string>> = Object.freeze({
  x86_64: 'x86_64',
  armv6: 'armv6l armv7l aarch64',
  armv7: 'armv7l aarch64',
  aarch64: 'aarch64',
});

/** install.sh's look at the camera itself: listed by rpicam, the device node present, or the URL file filled. */
function cameraCheck(source: CameraSource, urlFile = CAMERA_URL_FILE): string {
  switch (source.kind) {
    case 'rpicam':
      return `say "camera tool: $(command -v "$capture")"
if "$capture" --list-cameras 2>/dev/null | grep -q '^[0-9]'; then say "camera: detected"
else say "warning: no camera detected yet ($capture --list-cameras); the service retries every 5 s"; fi`;
    case 'v4l2':
      return `if [ -c ${source.device ?? '/dev/video0'} ]; then say "camera: ${source.device ?? '/dev/video0'} present"
else say "warning: no ${source.device ?? '/dev/video0'} yet (plug the camera in; v4l2-ctl --list-devices); the service retries every 5 s"; fi`;
    case 'rtsp':
    case 'mjpeg-http':
      return `if [ -s /${BUNDLE_DIR}/${urlFile} ]; then say "camera: ${source.kind} URL in /${BUNDLE_DIR}/${urlFile}"
else echo "install.sh: /${BUNDLE_DIR}/${urlFile} is missing or empty: flash again with ${urlFile === CAMERA_URL_FILE ? '--camera-url-file' : `the URL in the bundle's ${urlFile}`}" >&2; exit 1; fi`;
  }
}

/** The camera part of install.sh: the board's one camera, or each camera of a multi-camera bundle (tools once). */
function cameraSection(board: BoardManifest, cameras: readonly FlashCamera[] | undefined): string {
  if (!cameras) return `${toolLookup(sourceOf(board), 'install.sh', 1)}${cameraCheck(sourceOf(board))}`;
  const tools = [...new Set(cameras.map((c) => toolLookup(c.source, 'install.sh', 1)))].join('');
  return (
    tools +
    cameras
      .map((c) =>
        cameraCheck(c.source, c.url?.file)
          .replace(/camera: /g, `camera ${c.name}: `)
          .replace(/no camera detected/, `camera ${c.name} not detected`),
      )
      .join('\n')
  );
}

/** install.sh's look at the microphone: ffmpeg present (exit 1 otherwise), a sound card listed by the kernel (a warning). */
function microphoneCheck(audio: AudioPlan): string {
  return `if command -v ffmpeg >/dev/null 2>&1; then say "microphone tool: $(command -v ffmpeg)"
else echo "install.sh: no ffmpeg for the ${audio.source.kind} microphone: sudo apt install ffmpeg" >&2; exit 1; fi
if grep -q '^ *[0-9]' /proc/asound/cards 2>/dev/null; then say "microphone: sound cards present (arecord -l lists them; flashed: ${audio.source.device})"
else say "warning: no sound card yet (plug the microphone in); until then the device sends silence"; fi
`;
}

/** `audio`: the bundle's microphone; `cameras`: a bundle with several (flashCameras.ts), absent for the board's one camera. */
export function renderInstallScript(board: BoardManifest, image: ImageManifest, audio?: AudioPlan, cameras?: readonly FlashCamera[]): string {
  const arch = MACHINES[board.target] ?? board.target;
  const source = sourceOf(board);
  const urlFiles = cameras
    ? cameras.flatMap((c) => (c.url ? [` /${BUNDLE_DIR}/${c.url.file}`] : [])).join('')
    : CAMERA_SOURCES[source.kind].url
      ? ` /${BUNDLE_DIR}/${CAMERA_URL_FILE}`
      : '';
  return `#!/bin/sh
# Installs fieldcam ${image.version} (${board.name}) on Raspberry Pi OS, from the tree \`fieldcam flash\` wrote:
# /${IMAGE_DIR} (runtime, firmware, board.json, image.json, run), /${BUNDLE_DIR} (device bundle) and
# /${UNIT_FILE}. Run once on the board: sudo sh /${IMAGE_DIR}/install.sh
# Idempotent: a second run changes nothing that is already right, and says so.
set -eu
say() { echo "install.sh: $*"; }
if [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root: sudo sh $0" >&2; exit 1; fi

${cameraSection(board, cameras)}
machine=$(uname -m)
${toolLookup(source, 'install.sh', 1)}${cameraCheck(source)}
${audio ? microphoneCheck(audio) : ''}machine=$(uname -m)
case " ${arch} " in
  *" $machine "*) say "machine: $machine (runtime target ${board.target})" ;;
  *) say "warning: machine $machine may not run the ${board.target} runtime" ;;
esac

if id ${SERVICE_USER} >/dev/null 2>&1; then say "user ${SERVICE_USER}: exists"
else
  useradd --system --user-group --home-dir /var/lib/fieldcam --no-create-home --shell /usr/sbin/nologin ${SERVICE_USER}
  say "user ${SERVICE_USER}: created"
fi
if id -nG ${SERVICE_USER} | tr ' ' '\\n' | grep -qx video; then say "user ${SERVICE_USER}: in group video"
else usermod -a -G video ${SERVICE_USER}; say "user ${SERVICE_USER}: added to group video (camera devices)"; fi

# The bundle holds the private key: the service user alone reads it (0600, as fieldcam doctor checks).
chown -R ${SERVICE_USER}:${SERVICE_USER} /${BUNDLE_DIR}
chmod 0700 /${BUNDLE_DIR}
chmod 0600 /${BUNDLE_DIR}/device.cbor /${BUNDLE_DIR}/private.key${urlFiles}
chmod 0644 /${BUNDLE_DIR}/certificate.pem /${BUNDLE_DIR}/ca.pem
say "bundle /${BUNDLE_DIR}: owned by ${SERVICE_USER}, private.key 0600"
chown -R root:root /${IMAGE_DIR}
chmod 0755 /${IMAGE_DIR}/fieldcam-runtime /${IMAGE_DIR}/run /${IMAGE_DIR}/install.sh
say "image /${IMAGE_DIR}: owned by root"

systemctl daemon-reload
if systemctl is-enabled --quiet fieldcam.service 2>/dev/null; then say "service: already enabled"
else systemctl enable fieldcam.service; say "service: enabled at boot"; fi
systemctl restart fieldcam.service
say "service: (re)started; follow it with: journalctl -u fieldcam -f"
`;
}
