// The KVS stream of one camera (kvs-reference.md §13 step 8): created with --retention-hours when missing.
// An existing stream's retention is a choice of whoever runs the fleet, and lowering it deletes stored media
// at once (KVS API reference, UpdateDataRetention), so it is changed only when --retention-hours is given.
import { CreateStreamCommand, DescribeStreamCommand, UpdateDataRetentionCommand } from '@aws-sdk/client-kinesis-video';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { awsCall, errorName, lookup } from './awsCall.ts';
import type { ProvisionContext } from './ProvisionContext.ts';
import type { ProvisionSteps } from './ProvisionSteps.ts';

/** What a retention change does, beyond the numbers (kvs-reference.md §4.4: no PERSISTED ACKs without retention). */
export function retentionChange(from: number, to: number): string {
  let what = `retention ${from} h → ${to} h`;
  if (to === 0) what += ': stored media is deleted and fragments are no longer PERSISTED';
  else if (from === 0) what += ': fragments are stored and PERSISTED from now on';
  else if (to < from) what += `: media older than ${to} h is deleted at once`;
  // A camera reads the retention with DescribeStream when its PutMedia session starts.
  if ((from === 0) !== (to === 0)) what += ' (cameras follow at their next session)';
  return what;
}

/**
 * Ensures the stream; returns the retention the bundle records (the stream's, after this run). `repair`: the
 * stream should exist (its thing, or its camera in the bundle, did), so a missing one is repaired, not created.
 * `camera`: the camera of a device with several whose stream this is, tagged `fieldcam:camera` beside
 * `fieldcam:thing`.
 */
export async function ensureStream(
  ctx: ProvisionContext,
  thingName: string,
  streamName: string,
  repair: boolean,
  steps: ProvisionSteps,
  camera?: string,
): Promise<number> {
  const { kvs } = ctx.clients;
  for (let attempt = 0; ; attempt++) {
    const info = (await lookup('DescribeStream', () => kvs.send(new DescribeStreamCommand({ StreamName: streamName }))))?.StreamInfo;
    if (!info) {
      if (!ctx.dryRun) {
        await awsCall('CreateStream', () =>
          kvs.send(
            new CreateStreamCommand({
              StreamName: streamName,
              DataRetentionInHours: ctx.retentionHours,
              Tags: { 'fieldcam:thing': thingName, ...(camera !== undefined ? { 'fieldcam:camera': camera } : {}) },
            }),
          ),
        );
      }
      steps.changed('KVS stream', streamName, repair, `retention ${ctx.retentionHours} h`);
      return ctx.retentionHours;
    }
    const hours = info.DataRetentionInHours ?? 0;
    if (hours === ctx.retentionHours) {
      steps.exists('KVS stream', streamName, `retention ${hours} h`);
      return hours;
    }
    if (!ctx.retentionGiven) {
      steps.exists('KVS stream', streamName, `retention ${hours} h, left as is: --retention-hours changes it`);
      return hours;
    }
    if (ctx.dryRun) {
      steps.updated('KVS stream', streamName, retentionChange(hours, ctx.retentionHours));
      return ctx.retentionHours;
    }
    const change = ctx.retentionHours - hours;
    // UpdateDataRetention adds or subtracts DataRetentionChangeInHours, guarded by the stream's Version.
    const outcome = await awsCall('UpdateDataRetention', async () => {
      try {
        await kvs.send(
          new UpdateDataRetentionCommand({
            StreamARN: info.StreamARN,
            CurrentVersion: info.Version,
            Operation: change > 0 ? 'INCREASE_DATA_RETENTION' : 'DECREASE_DATA_RETENTION',
            DataRetentionChangeInHours: Math.abs(change),
          }),
        );
        return 'done';
      } catch (err) {
        // Someone changed the stream since DescribeStream: read it again, once.
        if (errorName(err) === 'VersionMismatchException' && attempt === 0) return 'stale';
        throw err;
      }
    });
    if (outcome === 'stale') continue;
    // Checked, not assumed: the change is relative, and a concurrent writer could have moved it.
    const after =
      (await awsCall('DescribeStream', () => kvs.send(new DescribeStreamCommand({ StreamName: streamName })))).StreamInfo?.DataRetentionInHours ?? 0;
    if (after !== ctx.retentionHours) {
      throw new FieldcamError(
        'PROVISION_AWS_FAILED',
        `UpdateDataRetention left ${streamName} at ${after} h, not ${ctx.retentionHours} h; check the stream with DescribeStream and re-run provision`,
      );
    }
    steps.updated('KVS stream', streamName, retentionChange(hours, ctx.retentionHours));
    return ctx.retentionHours;
  }
}
