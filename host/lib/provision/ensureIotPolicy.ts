// The IoT policy of one camera (kvs-reference.md §9.1 step 5). AWS IoT changes a policy's document only
// through versions (AWS IoT API reference, CreatePolicyVersion): when the default version is not the document
// provision writes, a new version is created as the default. A policy holds at most five versions and the
// default one cannot be deleted, so at the limit the oldest version that is not the default goes first.
import { CreatePolicyCommand, CreatePolicyVersionCommand, DeletePolicyVersionCommand, GetPolicyCommand, ListPolicyVersionsCommand } from '@aws-sdk/client-iot';
import { FieldcamError } from '../../../firmware/core/errors.ts';
import { awsCall, lookup } from './awsCall.ts';
import { documentDifference } from './documentDifference.ts';
import type { ProvisionContext } from './ProvisionContext.ts';
import { iotPolicyDocument, iotPolicyName, parsePolicyText, sameJson } from './provisionNames.ts';
import type { ProvisionSteps } from './ProvisionSteps.ts';

/** "A managed policy can have up to five versions" (CreatePolicyVersion). */
export const MAX_POLICY_VERSIONS = 5;

/** `existed`: the thing existed, so a missing policy is a repair. */
export async function ensureIotPolicy(ctx: ProvisionContext, thingName: string, existed: boolean, steps: ProvisionSteps): Promise<void> {
  const { iot } = ctx.clients;
  const policyName = iotPolicyName(thingName);
  // Unknown only in a dry run whose role or alias would be created: then nothing exists to compare with.
  const expected = ctx.roleAliasArn && ctx.account ? iotPolicyDocument(thingName, ctx.roleAliasArn, ctx.region, ctx.account) : undefined;
  const policy = await lookup('GetPolicy', () => iot.send(new GetPolicyCommand({ policyName })));
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
    const out = await awsCall('CreatePolicyVersion', () => iot.send(new CreatePolicyVersionCommand({ policyName, policyDocument: JSON.stringify(expected), setAsDefault: true })));
    created = `version ${out.policyVersionId ?? '?'}`;
  }
  const limit = deleted ? `; oldest version ${deleted} ${ctx.dryRun ? 'to be deleted' : 'deleted'} first (${MAX_POLICY_VERSIONS} versions at most)` : '';
  steps.updated('IoT policy', policyName, `default version ${policy.defaultVersionId ?? '?'}: ${what}; ${created} as the default${limit}`);
}
