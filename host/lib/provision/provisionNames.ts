// The names fieldcam gives the AWS resources of a camera, and the policy documents it writes
// (kvs-reference.md §9.1 steps 2-5, §13 steps 2-4).

export const THING_TYPE = 'fieldcam-camera';
export const ROLE_NAME = 'fieldcam-camera-role';
export const ROLE_POLICY_NAME = 'fieldcam-kvs';
export const DEFAULT_ROLE_ALIAS = 'fieldcam-camera-role-alias';
export const CREDENTIAL_DURATION_SECONDS = 3600;
export const DEFAULT_RETENTION_HOURS = 24;
/** AWS IoT thing names: 1-128 of [a-zA-Z0-9:_-]. */
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
/** KVS stream names: 1-256 of [a-zA-Z0-9_.-]. */
export const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/;
/** Role alias names: 1-128 of [\w=,@-]. */
export const ROLE_ALIAS_NAME = /^[\w=,@-]{1,128}$/;

/** The IoT policy of one thing; IoT policy names cannot hold ':', which thing names can. */
export function iotPolicyName(thingName: string): string {
  return `fieldcam-${thingName.replaceAll(':', '_')}`;
}

/** Trust: only the IoT credentials provider may assume the role (§9.1 step 2). */
export const TRUST_POLICY = Object.freeze({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'credentials.iot.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/**
 * The role's inline policy (§9.1 step 3, plus CreateStream so a device can create its stream): the KVS actions
 * a camera needs, on the stream named like the thing only. The credentials provider fills
 * `${credentials-iot:ThingName}` from the x-amzn-iot-thingname header it checked against the certificate.
 */
export const KVS_ROLE_POLICY = Object.freeze({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['kinesisvideo:DescribeStream', 'kinesisvideo:CreateStream', 'kinesisvideo:GetDataEndpoint', 'kinesisvideo:PutMedia', 'kinesisvideo:TagStream'],
      Resource: 'arn:aws:kinesisvideo:*:*:stream/${credentials-iot:ThingName}/*',
    },
  ],
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
