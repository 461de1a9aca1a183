// The `thing names` check of `fieldcam doctor`: the caveat of the role policy's stream/${credentials-iot:ThingName}-*
// (issue 18). When this thing's name is another fieldcam thing's followed by '-', or another's is this one's followed
// by '-', one certificate can use the other's streams: a WARN naming them (the device works; the fleet is less
// isolated than it looks). Needs AWS credentials that may list things.
import { IoTClient } from '@aws-sdk/client-iot';
import type { AwsClientConfig } from '../../aws/awsClientConfig.ts';
import { errorName } from '../provision/awsCall.ts';
import { describePrefixOverlap, listFieldcamThings, PREFIX_OVERLAP_FIX, prefixOverlaps } from '../provision/thingPrefixOverlap.ts';
import type { CheckRow } from './runDoctor.ts';

export async function thingNamesRow(thing: string, aws: AwsClientConfig | undefined, region: string): Promise<CheckRow> {
  const check = 'thing names';
  if (!aws) return { check, status: 'SKIP', cause: "no AWS credentials to list the fleet's things (ListThings)" };
  const iot = new IoTClient({ ...aws, region });
  let things: string[];
  try {
    things = await listFieldcamThings(iot);
  } catch (err) {
    return { check, status: 'SKIP', cause: `ListThings failed (${errorName(err)}): the fleet's names were not compared` };
  } finally {
    iot.destroy();
  }
  const overlap = describePrefixOverlap(thing, prefixOverlaps([...things, thing])(thing));
  const others = things.filter((t) => t !== thing).length;
  if (overlap === undefined)
    return {
      check,
      status: 'PASS',
      cause: `none of the ${others} other fieldcam thing(s) is named '${thing}-…' or is a name that '${thing}' begins with, followed by '-'`,
    };
  return { check, status: 'WARN', cause: overlap, fix: PREFIX_OVERLAP_FIX };
}
