// The cameras of one device as `fieldcam provision --cameras` names them (issue 18): checked here, before any
// AWS call, with the one camera-name rule the device and doctor use (firmware/core/iot/iotNames.ts).
import { CAMERA_NAME, MAX_CAMERAS } from '../../../firmware/core/iot/iotNames.ts';
import { FieldcamError } from '../../shared/hostErrors.ts';

/** The names `--cameras N` gives: cam1…camN, the `<thing>-camN` convention of user-needs row 14. */
export function numberedCameras(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `cam${i + 1}`);
}

/**
 * `--cameras N` (a lone whole number: cam1…camN) or `--cameras front,back,…` (the names, in order). Throws
 * PROVISION_CAMERA_INVALID naming the first problem: a name outside CAMERA_NAME, a name given twice, none,
 * or more than MAX_CAMERAS.
 */
export function parseCameraList(raw: string): readonly string[] {
  const text = raw.trim();
  let names: string[];
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > MAX_CAMERAS) throw new FieldcamError('PROVISION_CAMERA_INVALID', `--cameras ${text}: a device runs 1 to ${MAX_CAMERAS} cameras`);
    names = numberedCameras(count);
  } else {
    names = text.split(',').map((name) => name.trim());
    for (const name of names) {
      if (!CAMERA_NAME.test(name)) {
        throw new FieldcamError('PROVISION_CAMERA_INVALID', `--cameras: '${name}' is not a camera name (1-32 of a-z 0-9 _ -, starting with a letter or digit)`);
      }
    }
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) throw new FieldcamError('PROVISION_CAMERA_INVALID', `--cameras: '${twice}' is named twice; each camera needs its own stream`);
    if (names.length > MAX_CAMERAS)
      throw new FieldcamError('PROVISION_CAMERA_INVALID', `--cameras: ${names.length} cameras named; a device runs at most ${MAX_CAMERAS}`);
  }
  return Object.freeze(names);
}
