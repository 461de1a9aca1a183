// The host's error codes: what only the CLI, provisioning, flashing and the Matroska reader (host/shared/mkv)
// raise. They are registered into the core's table at import, so the firmware bundle carries none of this
// remedy text while FieldcamError takes both. Host code that raises these codes imports FieldcamError from here,
// which guarantees the registration ran.
import { errorEntry as spec, registerErrors } from '../../firmware/core/errors.ts';

export { errorSpec, FieldcamError, isFieldcamError, type ErrorCode } from '../../firmware/core/errors.ts';

export const HOST_ERRORS = Object.freeze({
  // ── EBML reader (RFC 8794; Matroska RFC 9559) ──
  EBML_ID_INVALID: spec(
    'ebml',
    false,
    'an Element ID is longer than 4 octets or its VINT_DATA is all zeros or all ones (RFC 8794 §5); the data is not EBML or is corrupt',
  ),
  EBML_SIZE_INVALID: spec('ebml', false, 'an Element Data Size is longer than 8 octets (RFC 8794 §6); the data is corrupt'),
  EBML_ELEMENT_TOO_LARGE: spec('ebml', false, 'an element is larger than the reader accepts; the data is corrupt or the limit is too low'),
  EBML_TOO_DEEP: spec('ebml', false, 'elements are nested deeper than the reader accepts; the data is corrupt or the limit is too low'),
  EBML_ELEMENT_OVERFLOW: spec('ebml', false, 'an element runs past the end of its parent (RFC 8794 §6.1); the data is corrupt'),
  EBML_UNKNOWN_SIZE_INVALID: spec('ebml', false, 'an element of unknown size is not a master the reader can descend into (RFC 8794 §6.2); the data is corrupt'),
  EBML_ELEMENT_MISPLACED: spec(
    'ebml',
    false,
    'an element ended an unknown-size master but is not a child of any enclosing element (RFC 8794 §6.2); the data is corrupt',
  ),
  EBML_VALUE_TOO_LARGE: spec('ebml', false, 'an element value is larger than the reader buffers; the data is corrupt or the limit is too low'),
  EBML_TRUNCATED: spec('ebml', false, 'the data ends inside an element; the stream was cut'),
  EBML_CALL_ORDER: spec('ebml', false, 'the reader was used out of order: push() after end() or with unread bytes, descend/skip/read outside an element start'),

  // ── provisioning (fieldcam provision / doctor; kvs-reference.md §9, §13) ──
  PROVISION_NO_CA: spec(
    'provision',
    false,
    "a device bundle needs the root CA the device trusts for every AWS endpoint: pass --ca-file with Amazon Root CA 1 (https://www.amazontrust.com/repository/AmazonRootCA1.pem) for AWS, or set AWS_CA_BUNDLE to the local cloud's ca.pem",
  ),
  PROVISION_AWS_FAILED: spec(
    'provision',
    true,
    'an AWS call failed; check the credentials (aws sts get-caller-identity), the region, and that the caller may use iot:*, iam:CreateRole/GetRole/PutRolePolicy/GetRolePolicy/PassRole and kinesisvideo:CreateStream/DescribeStream; re-running provision resumes where it stopped',
  ),
  PROVISION_CAMERA_INVALID: spec(
    'provision',
    false,
    "a device runs 1-4 cameras (MAX_CAMERAS), each named once with 1-32 of a-z 0-9 _ -, starting with a letter or digit (CAMERA_NAME), so its stream <thing>-<camera> is a valid KVS stream name that the role policy's stream/${credentials-iot:ThingName}-* allows: pass --cameras N (cam1…camN) or --cameras front,back; --camera NAME=SOURCE[,codec=C][,fps=N][,bitrate=KBPS] gives each camera a source flash can start (one camera per source), a codec, rate and bitrate the device accepts, and an rtsp/mjpeg-http camera its URL with --camera-url-file NAME=FILE",
  ),
  PROVISION_CONFLICT: spec(
    'provision',
    false,
    'a resource with this name exists with a different configuration; fieldcam does not change what it did not create: pick another name (--role-alias, --thing) or fix the resource by hand',
  ),

  // ── flash (fieldcam flash / sim --image): the device bundle and the target tree ──
  FLASH_BUNDLE_INVALID: spec(
    'flash',
    false,
    'the device bundle cannot be flashed (a corrupt or unknown-version device.cbor, a missing or unreadable PEM file, a private.key that is not the key of certificate.pem): re-run fieldcam provision for the thing, or fix the named file',
  ),
  FLASH_TARGET_CONFLICT: spec('flash', false, 'the target already holds the tree of another board; pass --force to replace it, or pick an empty target'),
  FLASH_BUNDLE_WRONG_BOARD: spec(
    'flash',
    false,
    "the bundle was provisioned for another board's camera (device.cbor camera.codec differs from the board manifest's camera, which the run script captures): flash with the board the bundle was made for, or provision the thing again without a camera override",
  ),
  FLASH_CAMERA_SOURCE_CONFLICT: spec(
    'flash',
    false,
    'two cameras of the bundle capture from the same source (the same Raspberry Pi camera, V4L2 device or URL), and one camera cannot feed two streams: give each camera of device.cbor cameras its own source (rpicam:0 and rpicam:1 on a board with two camera connectors; v4l2:/dev/videoN per USB camera; one URL per IP camera)',
  ),
  FLASH_CAMERA_SOURCE_INVALID: spec(
    'flash',
    false,
    "a camera of the bundle has a source flash cannot start: fix device.cbor cameras[i].source (the --camera-source text such as v4l2:/dev/video1, or a camera.source map), or put the RTSP/HTTP camera's URL in the bundle file camera-url-<camera> (one line, mode 0600) before flashing",
  ),
  FLASH_IMAGE_NOT_RASPIOS: spec(
    'flash',
    false,
    'the image is not a Raspberry Pi OS (Bookworm) disk image (an MBR with a FAT boot partition holding config.txt and cmdline.txt, an ext4 root whose /etc/os-release names Raspbian or Debian bookworm): download Raspberry Pi OS Lite (Bookworm) from https://www.raspberrypi.com/software/operating-systems/, unpack it (xz -d) and pass the .img',
  ),
  FLASH_IMAGE_TOO_SMALL: spec(
    'flash',
    false,
    'the root partition has too little free space for fieldcam (the runtime, firmware and bundle, with a margin): use an unshrunk Raspberry Pi OS Lite image, or grow the image, its second partition (sfdisk -N 2) and its file system (resize2fs) first',
  ),
  FLASH_AUDIO_SOURCE_MISSING: spec(
    'flash',
    false,
    "the bundle's device.cbor has camera.audio or cameras[i].audio (the device expects a microphone on a descriptor) but flash was given no audio source for it: pass --audio-source alsa:DEVICE, or --audio-source CAMERA=alsa:DEVICE for each camera with audio (arecord -l lists the capture cards), or provision the thing without audio",
  ),
  FLASH_WIFI_INVALID: spec(
    'flash',
    false,
    'the Wi-Fi settings cannot be written: --wifi-psk-file must name a readable file holding the passphrase (8-63 printable ASCII characters, or 64 hex digits), --wifi-ssid must be 1-32 bytes and --wifi-country a two-letter ISO 3166-1 code (GB, US, DE, ...); all three go together',
  ),
  FLASH_TOOL_MISSING: spec(
    'flash',
    false,
    'writing a disk image without mounting it needs mtools, e2fsprogs (debugfs) and fdisk (sfdisk): run toolchain/setup, or apt-get install mtools e2fsprogs fdisk',
  ),
  FLASH_DEVICE_REFUSED: spec(
    'flash',
    false,
    'fieldcam writes a card only when it is a whole block device that is not mounted and does not hold the running system; a card that holds data needs --yes: unmount its partitions (udisksctl unmount, umount), check the device name with lsblk, and run again',
  ),

  // ── operator side of the control channel (fieldcam devices / device; docs/control-channel.md) ──
  CLI_BROKER_UNREACHABLE: spec(
    'cli',
    true,
    "the MQTT endpoint (iot:Data-ATS, MQTT over WebSockets on /mqtt) could not be reached or its certificate not verified: check --mqtt-endpoint or --endpoint-url, the network, and AWS_CA_BUNDLE (the local cloud's ca.pem)",
  ),
  CLI_BROKER_REFUSED: spec(
    'cli',
    false,
    'the MQTT endpoint refused the connection or a subscription: check the AWS credentials (aws sts get-caller-identity) and that their IAM policy allows iot:Connect on client/fieldcam-cli-*, and iot:Publish (iot:RetainPublish for config), iot:Subscribe and iot:Receive on fieldcam/*',
  ),
  CLI_THING_UNKNOWN: spec('cli', false, 'no such IoT thing in this account and region; `fieldcam devices` lists the cameras'),
  CLI_AWS_FAILED: spec(
    'cli',
    true,
    'an AWS call failed: check the credentials (aws sts get-caller-identity), the region, --endpoint-url, and that the caller may use iot:ListThings, iot:DescribeThing and iot:DescribeEndpoint',
  ),
  CLI_DEVICE_NO_ANSWER: spec(
    'cli',
    true,
    'the device did not answer in time: it may be offline or not running the control channel (`fieldcam devices` shows its health); a QoS 1 command waits in its persistent session and runs when it reconnects (if it has connected before)',
  ),

  // ── configuration and CLI ──
  CONFIG_BOARD_UNKNOWN: spec('config', false, 'use one of the boards in manifests/boards/ (fieldcam mux --help lists them)'),
  CLI_USAGE: spec('cli', false, 'run the command with --help for its usage'),
  CLI_INPUT_NOT_FOUND: spec('cli', false, 'check the input path'),
  CLI_OUTPUT_FAILED: spec('cli', false, 'check that the output directory exists and is writable'),
} as const);

type HostErrorTable = typeof HOST_ERRORS;

declare module '../../firmware/core/errors.ts' {
  interface RegisteredErrors extends HostErrorTable {}
}

registerErrors(HOST_ERRORS);
