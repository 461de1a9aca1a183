// The names fieldcam gives the AWS resources of a camera, and the policy documents it writes
// (kvs-reference.md §9.1 steps 2-5, §13 steps 2-4).
import { createHash } from 'node:crypto';
import { THING_NAME } from '../../../firmware/core/iot/iotNames.ts';

export const THING_TYPE = 'fieldcam-camera';
export const ROLE_NAME = 'fieldcam-camera-role';
export const ROLE_POLICY_NAME = 'fieldcam-kvs';
export const DEFAULT_ROLE_ALIAS = 'fieldcam-camera-role-alias';
export const CREDENTIAL_DURATION_SECONDS = 3600;
export const DEFAULT_RETENTION_HOURS = 24;
/** KVS stream names: 1-256 of [a-zA-Z0-9_.-]. */
export const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/;

/** IoT policy names: 1-128 of [\w+=,.@-] (AWS IoT API reference, CreatePolicy). */
const POLICY_NAME_MAX = 128;
const POLICY_PREFIX = 'fieldcam-';
/** Characters of the thing name kept when the whole would not fit, before `-<8 hex of its SHA-256>`. */
const POLICY_NAME_KEPT = POLICY_NAME_MAX - POLICY_PREFIX.length - 9;

/**
 * The IoT policy of one thing, one per thing: the name is how provision knows whose a policy is, so the map
 * is injective. A policy name cannot hold ':', which a thing name can: it becomes '.', which a thing name
 * cannot hold (so `cam:x` → `fieldcam-cam.x`, `cam_x` → `fieldcam-cam_x`). A thing name too long for the
 * 128-character limit keeps its first characters and gets 8 hex digits of the SHA-256 of the whole name; two
 * such names could in principle meet, and ensureIotPolicy refuses a policy whose document is another thing's.
 */
export function iotPolicyName(thingName: string): string {
  const mapped = POLICY_PREFIX + thingName.replaceAll(':', '.');
  if (mapped.length <= POLICY_NAME_MAX) return mapped;
  const digest = createHash('sha256').update(thingName, 'utf8').digest('hex').slice(0, 8);
  return `${POLICY_PREFIX}${thingName.slice(0, POLICY_NAME_KEPT).replaceAll(':', '.')}-${digest}`;
}

/**
 * The name provision gave a thing's policy before the map was injective (':' → '_'): `cam:x` and `cam_x`
 * both got `fieldcam-cam_x`, and the second run rewrote the first thing's policy for the second thing.
 * Such policies still exist in accounts; ensureIotPolicy recognises them so it never rewrites them.
 */
export function legacyIotPolicyName(thingName: string): string {
  return POLICY_PREFIX + thingName.replaceAll(':', '_');
}

/**
 * The thing an IoT policy document written by provision is for: the X of its `iot:Connect` on
 * `arn:aws:iot:<region>:<account>:client/X` (iotPolicyDocument), when exactly one thing is named so;
 * otherwise undefined (an unreadable document, one edited by hand to name several or none).
 */
export function iotPolicyThing(document: unknown): string | undefined {
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const named = new Set<string>();
  for (const statement of statements as { Effect?: unknown; Action?: unknown; Resource?: unknown }[]) {
    if (statement?.Effect !== 'Allow') continue;
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    if (!actions.includes('iot:Connect')) continue;
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources) {
      const thing = typeof resource === 'string' ? /^arn:aws:iot:[^:]*:[^:]*:client\/(.+)$/.exec(resource)?.[1] : undefined;
      if (thing !== undefined && THING_NAME.test(thing)) named.add(thing);
    }
  }
  return named.size === 1 ? [...named][0] : undefined;
}

/** Trust: only the IoT credentials provider may assume the role (§9.1 step 2). */
export const TRUST_POLICY = Object.freeze({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'credentials.iot.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** The KVS actions a camera needs on its streams (§9.1 step 3, plus CreateStream so a device can create its stream). */
const KVS_CAMERA_ACTIONS = Object.freeze([
  'kinesisvideo:DescribeStream',
  'kinesisvideo:CreateStream',
  'kinesisvideo:GetDataEndpoint',
  'kinesisvideo:PutMedia',
  'kinesisvideo:TagStream',
]);

/**
 * The role's inline policy: the KVS actions a camera needs, on the streams of its own thing only — the stream
 * named like the thing, and `<thing>-<camera>` (cameraStreamName) for each camera of a device with several
 * (issue 18; user-needs row 14), so one certificate drives every camera of its device. The credentials provider
 * fills `${credentials-iot:ThingName}` from the x-amzn-iot-thingname header it checked against the certificate.
 * Caveat of the `-*` pattern (docs/cli.md, "Several cameras per device"): a thing `a` also reaches the streams
 * of a thing `a-b`, since they begin with `a-`; provision and doctor warn when one thing name is another's
 * `<name>-` prefix (thingPrefixOverlap.ts).
 */
export const KVS_ROLE_POLICY = Object.freeze({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: KVS_CAMERA_ACTIONS,
      Resource: ['arn:aws:kinesisvideo:*:*:stream/${credentials-iot:ThingName}/*', 'arn:aws:kinesisvideo:*:*:stream/${credentials-iot:ThingName}-*/*'],
    },
  ],
});

/**
 * Whether KVS_ROLE_POLICY lets the certificate of `thing` use `stream`: the thing's own stream or one named
 * `<thing>-…` (test/host/provision/cameraNames.test.ts checks this against the policy's evaluation).
 */
export function roleAllowsStream(thing: string, stream: string): boolean {
  return stream === thing || stream.startsWith(`${thing}-`);
}

/**
 * The role policy provision wrote before several cameras per device (the thing's own stream only). Recognised
 * so the update names what it does; a role with it is updated to KVS_ROLE_POLICY by the next run.
 */
export const KVS_ROLE_POLICY_ONE_STREAM = Object.freeze({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: KVS_CAMERA_ACTIONS, Resource: 'arn:aws:kinesisvideo:*:*:stream/${credentials-iot:ThingName}/*' }],
});

/**
 * The IoT policy of one camera (§9.1 step 5): AssumeRoleWithCertificate on the role alias, plus the MQTT
 * control channel of issue 6 scoped to the thing — connect as client id <thing>, publish/receive on
 * fieldcam/<thing>/* and subscribe to filters below it (AWS IoT policy resources: client/, topic/, topicfilter/).
 */
export function iotPolicyDocument(thingName: string, roleAliasArn: string, region: string, account: string): object {
  const iot = `arn:aws:iot:${region}:${account}`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:AssumeRoleWithCertificate', Resource: roleAliasArn },
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${iot}:client/${thingName}` },
      // iot:RetainPublish: config/reported, health and the Will are retained (docs/control-channel.md).
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive', 'iot:RetainPublish'], Resource: `${iot}:topic/fieldcam/${thingName}/*` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${iot}:topicfilter/fieldcam/${thingName}/*` },
    ],
  };
}

/** A policy document IAM returns URL-encoded (GetRole, GetRolePolicy), parsed; undefined if unreadable. */
export function parsePolicyText(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  for (const candidate of [text, safeDecode(text)]) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the URL-decoded form
    }
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Structural equality of two JSON documents (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
