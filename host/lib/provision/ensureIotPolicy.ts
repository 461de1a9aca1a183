// The IoT policy of one camera (kvs-reference.md §9.1 step 5). AWS IoT changes a policy's document only
// through versions (AWS IoT API reference, CreatePolicyVersion): when the default version is not the document
// provision writes, a new version is created as the default. A policy holds at most five versions and the
// default one cannot be deleted, so at the limit the oldest version that is not the default goes first.
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetPolicyCommand,
  ListPolicyVersionsCommand,
  type GetPolicyCommandOutput,
} from '@aws-sdk/client-iot';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { awsCall, lookup } from './awsCall.ts';
import { documentDifference } from './documentDifference.ts';
import type { ProvisionContext } from './ProvisionContext.ts';
import { iotPolicyDocument, iotPolicyName, iotPolicyThing, legacyIotPolicyName, parsePolicyText, sameJson } from './provisionNames.ts';
import type { ProvisionSteps } from './ProvisionSteps.ts';

/** "A managed policy can have up to five versions" (CreatePolicyVersion). */
export const MAX_POLICY_VERSIONS = 5;

/** The thing's IoT policy as found in the account (GetPolicy), or undefined: what findIotPolicy read. */
export type FoundIotPolicy = GetPolicyCommandOutput | undefined;

/**
 * Reads the thing's IoT policy and refuses it if it belongs to another thing: its document lets another
 * thing connect (iotPolicyThing) and provision gave, or once gave, that thing's policy this name
 * (iotPolicyName, legacyIotPolicyName). Called before anything of the thing is created, so a refusal leaves
 * the account as it was. Whose a policy is, is decided by its name and document because AWS IoT keeps no
 * owner: tags would need an extra call per policy and are not kept by the local cloud.
 */
export async function findIotPolicy(ctx: ProvisionContext, thingName: string): Promise<FoundIotPolicy> {
  const policyName = iotPolicyName(thingName);
  const policy = await lookup('GetPolicy', () => ctx.clients.iot.send(new GetPolicyCommand({ policyName })));
  const owner = policy ? iotPolicyThing(parsePolicyText(policy.policyDocument)) : undefined;
  if (owner !== undefined && owner !== thingName && (iotPolicyName(owner) === policyName || legacyIotPolicyName(owner) === policyName)) {
    throw new FieldcamError(
      'PROVISION_CONFLICT',
      `the IoT policy ${policyName} belongs to the thing ${owner} (its document lets ${owner} connect; an earlier fieldcam named both ` +
        `things' policies alike): it is not rewritten for ${thingName}, and nothing was created for ${thingName}. Provision ${owner} again ` +
        `(its policy becomes ${iotPolicyName(owner)}), detach ${policyName} from its certificates and delete it, then provision ${thingName}`,
    );
  }
  return policy;
}

/** `existed`: the thing existed, so a missing policy is a repair. `policy`: what findIotPolicy found. */
export async function ensureIotPolicy(
  ctx: ProvisionContext,
  thingName: string,
  existed: boolean,
  steps: ProvisionSteps,
  policy: FoundIotPolicy,
): Promise<void> {
  const { iot } = ctx.clients;
  const policyName = iotPolicyName(thingName);
  // Unknown only in a dry run whose role or alias would be created: then nothing exists to compare with.
  const expected = ctx.roleAliasArn && ctx.account ? iotPolicyDocument(thingName, ctx.roleAliasArn, ctx.region, ctx.account) : undefined;
  if (!policy) {
    if (!ctx.dryRun) {
      if (!expected) throw new FieldcamError('PROVISION_AWS_FAILED', 'the role alias ARN and account are unknown');
      await awsCall('CreatePolicy', () => iot.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(expected) })));
    }
    steps.changed('IoT policy', policyName, existed);
    return;
  }
  if (!expected) return steps.exists('IoT policy', policyName, 'not compared: the role alias does not exist yet');
  const current = parsePolicyText(policy.policyDocument);
  if (sameJson(current, expected)) return steps.exists('IoT policy', policyName);

  const what = documentDifference(current, expected);
  const listed = await awsCall('ListPolicyVersions', () => iot.send(new ListPolicyVersionsCommand({ policyName })));
  const versions = listed.policyVersions ?? [];
  let deleted: string | undefined;
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = versions.filter((v) => !v.isDefaultVersion && v.versionId).sort((a, b) => Number(a.versionId) - Number(b.versionId))[0];
    if (!oldest) throw new FieldcamError('PROVISION_AWS_FAILED', `the IoT policy ${policyName} has ${versions.length} versions and none can be deleted`);
    deleted = oldest.versionId!;
    if (!ctx.dryRun) await awsCall('DeletePolicyVersion', () => iot.send(new DeletePolicyVersionCommand({ policyName, policyVersionId: deleted })));
  }
  let created = 'a new version';
  if (!ctx.dryRun) {
    const out = await awsCall('CreatePolicyVersion', () =>
      iot.send(new CreatePolicyVersionCommand({ policyName, policyDocument: JSON.stringify(expected), setAsDefault: true })),
    );
    created = `version ${out.policyVersionId ?? '?'}`;
  }
  const limit = deleted ? `; oldest version ${deleted} ${ctx.dryRun ? 'to be deleted' : 'deleted'} first (${MAX_POLICY_VERSIONS} versions at most)` : '';
  steps.updated('IoT policy', policyName, `default version ${policy.defaultVersionId ?? '?'}: ${what}; ${created} as the default${limit}`);
}
