// The resources every camera shares (kvs-reference.md §13 steps 1-3, 6): the thing type, the IAM role the
// credentials provider assumes with its KVS policy, the role alias, and the account's IoT endpoints.
// What differs from what provision writes is updated: the role policy's document (PutRolePolicy replaces
// it), the role's MaxSessionDuration when below the alias's credential duration (the credentials provider
// refuses such an alias), and the alias's duration when --credential-duration is given.
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand, UpdateRoleCommand } from '@aws-sdk/client-iam';
import {
  CreateRoleAliasCommand,
  CreateThingTypeCommand,
  DescribeEndpointCommand,
  DescribeRoleAliasCommand,
  DescribeThingTypeCommand,
  ListThingsCommand,
  UpdateRoleAliasCommand,
  type RoleAliasDescription,
} from '@aws-sdk/client-iot';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { awsCall, lookup, lookupOrUnsupported } from './awsCall.ts';
import { documentDifference } from './documentDifference.ts';
import type { ProvisionClients, ProvisionContext } from './ProvisionContext.ts';
import {
  KVS_ROLE_POLICY,
  KVS_ROLE_POLICY_ONE_STREAM,
  parsePolicyText,
  ROLE_NAME,
  ROLE_POLICY_NAME,
  sameJson,
  THING_TYPE,
  TRUST_POLICY,
} from './provisionNames.ts';
import type { ProvisionSteps } from './ProvisionSteps.ts';

export interface SharedOptions {
  readonly clients: ProvisionClients;
  readonly region: string;
  readonly roleAlias: string;
  /** --endpoint-url, else the regional KVS endpoint goes into the bundle. */
  readonly endpointUrl: string | undefined;
  readonly caPem: string | undefined;
  readonly retentionHours: number;
  readonly retentionGiven: boolean;
  /** Of an alias provision creates; of an existing alias too when `credentialDurationGiven`. */
  readonly credentialDurationSeconds: number;
  readonly credentialDurationGiven: boolean;
  readonly dryRun: boolean;
}

async function ensureThingType(o: SharedOptions, steps: ProvisionSteps): Promise<void> {
  const { iot } = o.clients;
  const described = await awsCall('DescribeThingType', () => lookupOrUnsupported(() => iot.send(new DescribeThingTypeCommand({ thingTypeName: THING_TYPE }))));
  let found = described !== undefined && described !== 'unsupported';
  if (described === 'unsupported') {
    // No DescribeThingType here (the local cloud): a thing of this type proves the type exists.
    const things = await awsCall('ListThings', () => iot.send(new ListThingsCommand({ thingTypeName: THING_TYPE, maxResults: 1 })));
    found = (things.things ?? []).length > 0;
  }
  if (found) return steps.exists('thing type', THING_TYPE);
  if (!o.dryRun) {
    await awsCall('CreateThingType', () =>
      iot.send(
        new CreateThingTypeCommand({
          thingTypeName: THING_TYPE,
          thingTypeProperties: { thingTypeDescription: 'fieldcam camera (Kinesis Video Streams producer)' },
        }),
      ),
    );
  }
  steps.changed('thing type', THING_TYPE, false);
}

/** IAM MaxSessionDuration: at least 3600 s (CreateRole). */
const MIN_SESSION_SECONDS = 3600;

/**
 * The role, its trust and its inline KVS policy; `sessionSeconds` is the alias's credential duration, which
 * the role's MaxSessionDuration must allow. Returns the role ARN (undefined in a dry run before it exists).
 */
async function ensureRole(o: SharedOptions, sessionSeconds: number, steps: ProvisionSteps): Promise<string | undefined> {
  const { iam } = o.clients;
  const role = await lookup('GetRole', () => iam.send(new GetRoleCommand({ RoleName: ROLE_NAME })));
  let roleArn = role?.Role?.Arn;
  if (role) {
    const trust = parsePolicyText(role.Role?.AssumeRolePolicyDocument);
    if (!JSON.stringify(trust ?? '').includes('credentials.iot.amazonaws.com')) {
      throw new FieldcamError('PROVISION_CONFLICT', `the IAM role ${ROLE_NAME} exists but does not trust credentials.iot.amazonaws.com`);
    }
    const max = role.Role?.MaxSessionDuration ?? MIN_SESSION_SECONDS;
    if (max < sessionSeconds) {
      // Raised, never lowered: a longer limit than the alias asks for costs nothing.
      if (!o.dryRun) await awsCall('UpdateRole', () => iam.send(new UpdateRoleCommand({ RoleName: ROLE_NAME, MaxSessionDuration: sessionSeconds })));
      steps.updated('IAM role', ROLE_NAME, `MaxSessionDuration ${max} s → ${sessionSeconds} s, the role alias's credential duration`);
    } else {
      steps.exists('IAM role', ROLE_NAME);
    }
  } else {
    if (!o.dryRun) {
      const created = await awsCall('CreateRole', () =>
        iam.send(
          new CreateRoleCommand({
            RoleName: ROLE_NAME,
            AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY),
            Description: 'fieldcam cameras: assumed by the AWS IoT credentials provider',
            MaxSessionDuration: Math.max(MIN_SESSION_SECONDS, sessionSeconds),
          }),
        ),
      );
      roleArn = created.Role?.Arn;
    }
    steps.changed('IAM role', ROLE_NAME, false);
  }
  const policy = role
    ? await lookup('GetRolePolicy', () => iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: ROLE_POLICY_NAME })))
    : undefined;
  const current = parsePolicyText(policy?.PolicyDocument);
  if (policy && sameJson(current, KVS_ROLE_POLICY)) {
    steps.exists('role policy', ROLE_POLICY_NAME);
    return roleArn;
  }
  // PutRolePolicy creates the inline policy or replaces its document (inline policies have no versions).
  if (!o.dryRun) {
    await awsCall('PutRolePolicy', () =>
      iam.send(new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: ROLE_POLICY_NAME, PolicyDocument: JSON.stringify(KVS_ROLE_POLICY) })),
    );
  }
  if (policy) {
    // The policy of one stream per thing (before issue 18): say what the update grants, not just that it differs.
    const detail = sameJson(current, KVS_ROLE_POLICY_ONE_STREAM)
      ? 'the one-stream policy; now also stream/${credentials-iot:ThingName}-*, the cameras of each device'
      : documentDifference(current, KVS_ROLE_POLICY);
    steps.updated('role policy', ROLE_POLICY_NAME, detail);
  } else steps.changed('role policy', ROLE_POLICY_NAME, role !== undefined, role ? 'was missing' : undefined);
  return roleArn;
}

/** The alias's credential duration after this run: --credential-duration if given, else the alias's, else the default. */
function aliasDuration(o: SharedOptions, described: RoleAliasDescription | undefined): number {
  if (o.credentialDurationGiven || described?.credentialDurationSeconds === undefined) return o.credentialDurationSeconds;
  return described.credentialDurationSeconds;
}

/**
 * The alias, pointing at the role, with `duration`. Its duration is changed (UpdateRoleAlias) only when
 * --credential-duration is given: it is one setting for every camera of the account, so a run for one new
 * camera does not reset it.
 */
async function ensureRoleAlias(
  o: SharedOptions,
  described: RoleAliasDescription | undefined,
  roleArn: string | undefined,
  duration: number,
  steps: ProvisionSteps,
): Promise<string | undefined> {
  const { iot } = o.clients;
  if (described) {
    if (roleArn && described.roleArn !== roleArn) {
      throw new FieldcamError('PROVISION_CONFLICT', `the role alias ${o.roleAlias} points at ${described.roleArn}, not ${roleArn}`);
    }
    const current = described.credentialDurationSeconds;
    if (current === duration) {
      steps.exists('role alias', o.roleAlias, `${duration} s`);
    } else {
      if (!o.dryRun)
        await awsCall('UpdateRoleAlias', () => iot.send(new UpdateRoleAliasCommand({ roleAlias: o.roleAlias, credentialDurationSeconds: duration })));
      // Cameras get credentials of the new duration at their next refresh; issued ones keep their expiry.
      steps.updated('role alias', o.roleAlias, `credential duration ${current ?? '?'} s → ${duration} s`);
    }
    return described.roleAliasArn;
  }
  let arn: string | undefined;
  if (!o.dryRun) {
    const created = await awsCall('CreateRoleAlias', () =>
      iot.send(
        new CreateRoleAliasCommand({
          roleAlias: o.roleAlias,
          roleArn: roleArn!,
          credentialDurationSeconds: duration,
        }),
      ),
    );
    arn = created.roleAliasArn;
  }
  steps.changed('role alias', o.roleAlias, false, `${duration} s`);
  return arn;
}

async function endpoint(o: SharedOptions, type: 'iot:CredentialProvider' | 'iot:Data-ATS'): Promise<string> {
  const out = await awsCall(`DescribeEndpoint ${type}`, () => o.clients.iot.send(new DescribeEndpointCommand({ endpointType: type })));
  if (!out.endpointAddress) throw new FieldcamError('PROVISION_AWS_FAILED', `DescribeEndpoint ${type} returned no address`);
  return out.endpointAddress;
}

/** Ensures the shared resources and resolves what every bundle carries. */
export async function provisionShared(o: SharedOptions, steps: ProvisionSteps): Promise<ProvisionContext> {
  await ensureThingType(o, steps);
  // The alias is read first: its duration decides the role's MaxSessionDuration, and the role comes first.
  const described = (await lookup('DescribeRoleAlias', () => o.clients.iot.send(new DescribeRoleAliasCommand({ roleAlias: o.roleAlias }))))
    ?.roleAliasDescription;
  const duration = aliasDuration(o, described);
  const roleArn = await ensureRole(o, duration, steps);
  const roleAliasArn = await ensureRoleAlias(o, described, roleArn, duration, steps);
  const [credentialProvider, iotData] = await Promise.all([endpoint(o, 'iot:CredentialProvider'), endpoint(o, 'iot:Data-ATS')]);
  const kinesisVideo = (o.endpointUrl ?? `https://kinesisvideo.${o.region}.amazonaws.com`).replace(/\/+$/, '');
  const account = /^arn:[^:]+:iam::(\d+):/.exec(roleArn ?? '')?.[1];
  return {
    clients: o.clients,
    region: o.region,
    account,
    roleAlias: o.roleAlias,
    roleAliasArn,
    endpoints: { credentialProvider, iotData, kinesisVideo },
    caPem: o.caPem,
    retentionHours: o.retentionHours,
    retentionGiven: o.retentionGiven,
    dryRun: o.dryRun,
  };
}
