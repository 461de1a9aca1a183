// The resources every camera shares (kvs-reference.md §13 steps 1-3, 6): the thing type, the IAM role the
// credentials provider assumes with its KVS policy, the role alias, and the account's IoT endpoints.
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateRoleAliasCommand, CreateThingTypeCommand, DescribeEndpointCommand, DescribeRoleAliasCommand, DescribeThingTypeCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { FieldcamError } from '../../../firmware/core/errors.ts';
import { awsCall, lookup, lookupOrUnsupported } from './awsCall.ts';
import type { ProvisionClients, ProvisionContext } from './ProvisionContext.ts';
import { CREDENTIAL_DURATION_SECONDS, KVS_ROLE_POLICY, parsePolicyText, ROLE_NAME, ROLE_POLICY_NAME, sameJson, THING_TYPE, TRUST_POLICY } from './provisionNames.ts';
import type { ProvisionSteps } from './ProvisionSteps.ts';

export interface SharedOptions {
  readonly clients: ProvisionClients;
  readonly region: string;
  readonly roleAlias: string;
  /** --endpoint-url, else the regional KVS endpoint goes into the bundle. */
  readonly endpointUrl: string | undefined;
  readonly caPem: string | undefined;
  readonly retentionHours: number;
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
    await awsCall('CreateThingType', () => iot.send(new CreateThingTypeCommand({
      thingTypeName: THING_TYPE,
      thingTypeProperties: { thingTypeDescription: 'fieldcam camera (Kinesis Video Streams producer)' },
    })));
  }
  steps.changed('thing type', THING_TYPE, false);
}

/** The role, its trust and its inline KVS policy; returns the role ARN (undefined in a dry run before it exists). */
async function ensureRole(o: SharedOptions, steps: ProvisionSteps): Promise<string | undefined> {
  const { iam } = o.clients;
  const role = await lookup('GetRole', () => iam.send(new GetRoleCommand({ RoleName: ROLE_NAME })));
  let roleArn = role?.Role?.Arn;
  if (role) {
    const trust = parsePolicyText(role.Role?.AssumeRolePolicyDocument);
    if (!JSON.stringify(trust ?? '').includes('credentials.iot.amazonaws.com')) {
      throw new FieldcamError('PROVISION_CONFLICT', `the IAM role ${ROLE_NAME} exists but does not trust credentials.iot.amazonaws.com`);
    }
    steps.exists('IAM role', ROLE_NAME);
  } else {
    if (!o.dryRun) {
      const created = await awsCall('CreateRole', () => iam.send(new CreateRoleCommand({
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY),
        Description: 'fieldcam cameras: assumed by the AWS IoT credentials provider',
        MaxSessionDuration: CREDENTIAL_DURATION_SECONDS,
      })));
      roleArn = created.Role?.Arn;
    }
    steps.changed('IAM role', ROLE_NAME, false);
  }
  const policy = role ? await lookup('GetRolePolicy', () => iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: ROLE_POLICY_NAME }))) : undefined;
  const current = parsePolicyText(policy?.PolicyDocument);
  if (policy && sameJson(current, KVS_ROLE_POLICY)) {
    steps.exists('role policy', ROLE_POLICY_NAME);
  } else {
    if (!o.dryRun) {
      await awsCall('PutRolePolicy', () => iam.send(new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: ROLE_POLICY_NAME, PolicyDocument: JSON.stringify(KVS_ROLE_POLICY) })));
    }
    steps.changed('role policy', ROLE_POLICY_NAME, role !== undefined, policy ? 'document differed' : role ? 'was missing' : undefined);
  }
  return roleArn;
}

async function ensureRoleAlias(o: SharedOptions, roleArn: string | undefined, steps: ProvisionSteps): Promise<string | undefined> {
  const { iot } = o.clients;
  const alias = await lookup('DescribeRoleAlias', () => iot.send(new DescribeRoleAliasCommand({ roleAlias: o.roleAlias })));
  const described = alias?.roleAliasDescription;
  if (described) {
    if (roleArn && described.roleArn !== roleArn) {
      throw new FieldcamError('PROVISION_CONFLICT', `the role alias ${o.roleAlias} points at ${described.roleArn}, not ${roleArn}`);
    }
    steps.exists('role alias', o.roleAlias, `${described.credentialDurationSeconds ?? '?'} s`);
    return described.roleAliasArn;
  }
  let arn: string | undefined;
  if (!o.dryRun) {
    const created = await awsCall('CreateRoleAlias', () => iot.send(new CreateRoleAliasCommand({
      roleAlias: o.roleAlias, roleArn: roleArn!, credentialDurationSeconds: CREDENTIAL_DURATION_SECONDS,
    })));
    arn = created.roleAliasArn;
  }
  steps.changed('role alias', o.roleAlias, false, `${CREDENTIAL_DURATION_SECONDS} s`);
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
  const roleArn = await ensureRole(o, steps);
  const roleAliasArn = await ensureRoleAlias(o, roleArn, steps);
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
    dryRun: o.dryRun,
  };
}
