// `fieldcam device <thing> status --camera NAME`: one camera of a device with several (telemetry `cameras`,
// docs/control-channel.md). The device's record stays whole where it is the device's (health, heap, uptime, record
// number), and the camera's own counters take the place of the device's sums, so the usual table shows that camera.
import { FieldcamError } from '../../shared/hostErrors.ts';
import type { ControlDocument } from './controlCbor.ts';

/** The record with camera `name`'s counters in place of the device's sums, and `camera` naming it; CLI_USAGE if none. */
export function telemetryOfCamera(record: ControlDocument, thing: string, name: string): ControlDocument {
  const cameras = record.cameras;
  if (typeof cameras !== 'object' || cameras === null || Array.isArray(cameras)) {
    throw new FieldcamError('CLI_USAGE', `device ${thing}: --camera ${name}: ${thing} runs one camera (its telemetry has no cameras); leave out --camera`);
  }
  const list = cameras as Record<string, ControlDocument>;
  const own = list[name];
  if (own === undefined) {
    throw new FieldcamError('CLI_USAGE', `device ${thing}: no camera '${name}'; its cameras are ${Object.keys(list).join(', ')}`);
  }
  // A camera's map has no drops, errors, latency or bytes behind of its own: those stay the device's (the table says so).
  const { cameras: _all, ...device } = record;
  return { ...device, ...own, camera: name };
}
