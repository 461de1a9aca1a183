// The stream checks of `fieldcam doctor`, signed with the credentials the device's own credentials call returned:
// DescribeStream on the one stream of a one-camera device (`stream`, `stream name`), or on each camera's
// `<thing>-<camera>` (`stream (<camera>)`, issue 18). KVS authorizes before it looks the stream up, so
// AccessDeniedException means the role policy does not cover the name and ResourceNotFoundException that it does.
import { DescribeStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { cameraStreamName } from '../../../firmware/core/iot/iotNames.ts';
import { errorName } from '../provision/awsCall.ts';
import { roleAllowsStream } from '../provision/provisionNames.ts';
import type { DeviceDocument } from '../writeBundle.ts';
import { REPROVISION_FIX } from './reprovisionFix.ts';
import type { CheckRow } from './runDoctor.ts';

/** What a refusal of `<thing>-<camera>` means: a role policy from before several cameras per device. */
const OLD_POLICY =
  'the role policy allows only stream/${credentials-iot:ThingName}, not stream/${credentials-iot:ThingName}-* (a policy from before several cameras per device)';
const UPDATE_POLICY = 'run `fieldcam provision` again (any thing): it updates the role policy fieldcam-kvs to allow stream/${credentials-iot:ThingName}-*';

type Described = { ok: true; status: string; retention: number } | { ok: false; name: string; message: string };

async function describe(kvs: KinesisVideoClient, stream: string): Promise<Described> {
  try {
    const out = await kvs.send(new DescribeStreamCommand({ StreamName: stream }));
    return { ok: true, status: out.StreamInfo?.Status ?? '?', retention: out.StreamInfo?.DataRetentionInHours ?? 0 };
  } catch (err) {
    return { ok: false, name: errorName(err), message: (err as Error).message };
  }
}

function denied(d: Described): boolean {
  return !d.ok && (d.name === 'AccessDeniedException' || d.name === 'NotAuthorizedException');
}

/** A failure other than a refusal, as a row of `check` for `stream`. */
function otherFailure(check: string, stream: string, d: Extract<Described, { ok: false }>): CheckRow {
  if (d.name === 'ResourceNotFoundException') {
    return {
      check,
      status: 'FAIL',
      cause: `stream '${stream}' does not exist (the role policy allows it)`,
      fix: `${REPROVISION_FIX} (it creates the stream); the device also creates it when the policy allows CreateStream`,
    };
  }
  return { check, status: 'FAIL', cause: `DescribeStream failed: ${d.name}: ${d.message}`, fix: 'check endpoints.kinesisVideo and the region' };
}

/** The one stream of a one-camera device: named like the thing, `<thing>-<suffix>`, or something the role does not allow. */
async function oneStream(kvs: KinesisVideoClient, thing: string, stream: string): Promise<CheckRow[]> {
  const same = stream === thing;
  const dashed = !same && roleAllowsStream(thing, stream);
  const d = await describe(kvs, stream);
  if (d.ok) {
    return [
      { check: 'stream', status: 'PASS', cause: `${stream} is ${d.status}, retention ${d.retention} h (DescribeStream signed with the device's credentials)` },
      {
        check: 'stream name',
        status: 'PASS',
        cause: same
          ? 'the stream is named like the thing, as the role policy requires'
          : dashed
            ? `${stream} is ${thing}-…, which the role policy allows (stream/\${credentials-iot:ThingName}-*)`
            : `${stream} ≠ thing ${thing}, but the role allows it`,
      },
    ];
  }
  if (denied(d)) {
    if (same)
      return [
        {
          check: 'stream',
          status: 'FAIL',
          cause: `DescribeStream refused: ${d.message}`,
          fix: `the role policy must allow kinesisvideo:DescribeStream on the thing's stream; ${REPROVISION_FIX}`,
        },
      ];
    if (dashed) return [{ check: 'stream name', status: 'FAIL', cause: `stream '${stream}' was refused (${d.name}): ${OLD_POLICY}`, fix: UPDATE_POLICY }];
    return [
      {
        check: 'stream name',
        status: 'FAIL',
        cause: `stream '${stream}' is neither thing '${thing}' nor '${thing}-…': the role policy allows only stream/\${credentials-iot:ThingName} and stream/\${credentials-iot:ThingName}-*, so KVS refused it (${d.name})`,
        fix: `set streamName to '${thing}' in device.cbor (provision --thing ${thing} without --stream), or use --cameras for a device with several`,
      },
    ];
  }
  return [otherFailure('stream', stream, d)];
}

/** One row per camera of a device with several: its `<thing>-<camera>` stream exists and the role policy allows it. */
async function cameraStreams(kvs: KinesisVideoClient, thing: string, cameras: NonNullable<DeviceDocument['cameras']>): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const { name } of cameras) {
    const check = `stream (${name})`;
    const stream = cameraStreamName(thing, name);
    const d = await describe(kvs, stream);
    if (d.ok)
      rows.push({
        check,
        status: 'PASS',
        cause: `${stream} is ${d.status}, retention ${d.retention} h; the role policy allows it (DescribeStream signed with the device's credentials)`,
      });
    else if (denied(d)) rows.push({ check, status: 'FAIL', cause: `stream '${stream}' was refused (${d.name}): ${OLD_POLICY}`, fix: UPDATE_POLICY });
    else rows.push(otherFailure(check, stream, d));
  }
  return rows;
}

export function streamRows(kvs: KinesisVideoClient, config: DeviceDocument): Promise<CheckRow[]> {
  return config.cameras ? cameraStreams(kvs, config.thingName, config.cameras) : oneStream(kvs, config.thingName, config.streamName ?? config.thingName);
}
