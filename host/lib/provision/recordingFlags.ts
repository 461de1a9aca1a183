import { parseRecording } from '../../../firmware/app/DeviceConfig.ts';
import { EVENT_LIMITS } from '../../../firmware/core/events/eventLimits.ts';
import { parseDuration } from '../../../firmware/core/events/parseDuration.ts';
import { FieldcamError } from '../../shared/hostErrors.ts';
import type { RecordingMap } from '../writeBundle.ts';

/**
 * `provision --recording continuous|event [--pre 10s] [--post 20s] [--trigger PATH]` → the bundle's `recording` map
 * (docs/events.md), checked by the device's own rule (parseRecording) before any AWS call. The board is not known
 * here: the pre-roll is checked against its pool by `fieldcam flash` and at boot. Undefined without --recording
 * (a re-run keeps what the bundle has). Throws CLI_USAGE, EVENT_DURATION_INVALID or CONFIG_INVALID naming the key.
 */
export function recordingFromFlags(values: Record<string, unknown>): RecordingMap | undefined {
  const mode = values.recording;
  const extras = (['pre', 'post', 'trigger'] as const).filter((k) => values[k] !== undefined);
  if (mode === undefined) {
    if (extras.length > 0) throw new FieldcamError('CLI_USAGE', `provision: --${extras[0]} goes with --recording event`);
    return undefined;
  }
  if (mode !== 'continuous' && mode !== 'event') throw new FieldcamError('CLI_USAGE', 'provision: --recording is continuous or event');
  if (mode === 'continuous' && extras.length > 0) throw new FieldcamError('CLI_USAGE', `provision: --${extras[0]} goes with --recording event`);
  const map: RecordingMap = {
    mode,
    ...(typeof values.pre === 'string' ? { preRollMs: parseDuration(values.pre, '--pre', EVENT_LIMITS.preMsAnyBoard) } : {}),
    ...(typeof values.post === 'string' ? { postMs: parseDuration(values.post, '--post', EVENT_LIMITS.postMsMax) } : {}),
    ...(typeof values.trigger === 'string' ? { trigger: values.trigger } : {}),
  };
  parseRecording({ ...map }, 'provision', EVENT_LIMITS.preMsAnyBoard, 'any');
  return map;
}
