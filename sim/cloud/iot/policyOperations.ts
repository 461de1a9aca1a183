// AWS IoT policies and their versions (AWS IoT API reference: CreatePolicy, GetPolicy, AttachPolicy,
// CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion).
// A policy's document changes only through versions: CreatePolicy makes version "1", the default; later
// versions are numbered on (never reused after a delete); at most five exist; the default one is in effect
// and cannot be deleted.
import { randomBytes } from 'node:crypto';
import { parsePolicyDocument, PolicyError } from '../iam/PolicyDocument.ts';
import { InputValidator } from '../kvs/InputValidator.ts';
import type { PolicyRecord, PolicyVersionRecord } from './IotRegistry.ts';
import {
  alreadyExists,
  invalidRequest,
  IotError,
  IOT_PATTERNS,
  iotArn,
  notFound,
  queryFlag,
  seconds,
  type IotOperation,
  type IotRequest,
} from './IotOperation.ts';

/** "policyDocument must have a minimum length of 1, with a maximum length of 2048, excluding whitespace." */
const MAX_POLICY_CHARS = 2048;
/** "A managed policy can have up to five versions" (CreatePolicyVersion). */
export const MAX_POLICY_VERSIONS = 5;
/** policyVersionId: the API's pattern is [0-9]+. */
const VERSION_ID = /^[0-9]+$/;

function policyName(r: IotRequest, v: InputValidator): string {
  return v.string('policyName', { required: true, min: 1, max: 128, pattern: IOT_PATTERNS.policyName }, 'policyName', r.params[0])!;
}

function versionId(r: IotRequest, v: InputValidator): string {
  return v.string('policyVersionId', { required: true, min: 1, max: 10, pattern: VERSION_ID }, 'policyVersionId', r.params[1])!;
}

/** The document of CreatePolicy and CreatePolicyVersion: 1-2048 characters without whitespace, a valid IoT policy. */
function checkDocument(document: string): void {
  const length = document.replace(/\s/g, '').length;
  if (length < 1 || length > MAX_POLICY_CHARS)
    throw new IotError(
      400,
      'MalformedPolicyException',
      `The policy document has ${length} characters without whitespace; 1 to ${MAX_POLICY_CHARS} are allowed.`,
    );
  try {
    parsePolicyDocument(document, 'iot');
  } catch (err) {
    if (err instanceof PolicyError) throw new IotError(400, 'MalformedPolicyException', err.message);
    throw err;
  }
}

/** A policy with `versions` and `defaultId`: its policyDocument follows the default version. */
function withVersions(
  p: PolicyRecord,
  versions: readonly PolicyVersionRecord[],
  defaultId: string,
  now: number,
  lastVersionId = p.lastVersionId,
): PolicyRecord {
  const def = versions.find((x) => x.versionId === defaultId)!;
  const changed = defaultId !== p.defaultVersionId;
  return {
    ...p,
    versions,
    lastVersionId,
    defaultVersionId: defaultId,
    policyDocument: def.policyDocument,
    lastModifiedDate: now,
    // The generation identifies the policy content in effect, so it moves with the default version.
    generationId: changed ? randomBytes(32).toString('hex') : p.generationId,
  };
}

/** CreatePolicy: a name that exists is ResourceAlreadyExistsException whatever the document. */
function createPolicy(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const name = policyName(r, v);
  const document = v.string('policyDocument', { required: true, max: 404600 })!;
  v.done();
  const arn = iotArn(r.ctx, 'policy', name);
  r.ctx.authorize(r.req, 'iot:CreatePolicy', arn);
  checkDocument(document);
  if (r.ctx.iot.get('policies', name)) throw alreadyExists(`Policy cannot be created - name already exists (name=${name})`, name, arn);
  const now = r.ctx.now();
  const policy: PolicyRecord = {
    policyName: name,
    policyArn: arn,
    policyDocument: document,
    defaultVersionId: '1',
    creationDate: now,
    lastModifiedDate: now,
    generationId: randomBytes(32).toString('hex'),
    versions: [{ versionId: '1', policyDocument: document, createDate: now }],
    lastVersionId: 1,
  };
  r.ctx.iot.put('policies', policy);
  return { policyName: name, policyArn: arn, policyDocument: document, policyVersionId: '1' };
}

/** The policy a request names, authorized for `action`; `v` may still hold body members to check. */
function findPolicy(r: IotRequest, action: string, v = new InputValidator({})): PolicyRecord {
  const name = policyName(r, v);
  v.done();
  r.ctx.authorize(r.req, action, iotArn(r.ctx, 'policy', name));
  const policy = r.ctx.iot.get('policies', name);
  if (!policy) throw notFound(`Policy not found (name=${name})`);
  return policy;
}

/** The policy and version a request names (`/policies/{policyName}/version/{policyVersionId}`). */
function findVersion(r: IotRequest, action: string): { policy: PolicyRecord; version: PolicyVersionRecord } {
  const v = new InputValidator({});
  const id = versionId(r, v);
  const policy = findPolicy(r, action, v);
  const version = policy.versions.find((x) => x.versionId === id);
  if (!version) throw notFound(`Policy version not found (name=${policy.policyName}, versionId=${id})`);
  return { policy, version };
}

/** GetPolicy: the default version's document. */
function getPolicy(r: IotRequest): unknown {
  const p = findPolicy(r, 'iot:GetPolicy');
  return {
    policyName: p.policyName,
    policyArn: p.policyArn,
    policyDocument: p.policyDocument,
    defaultVersionId: p.defaultVersionId,
    creationDate: seconds(p.creationDate),
    lastModifiedDate: seconds(p.lastModifiedDate),
    generationId: p.generationId,
  };
}

/**
 * CreatePolicyVersion: at five versions it is VersionsLimitExceededException (the caller deletes one first);
 * with setAsDefault=true the new version is in effect for every certificate the policy is attached to.
 */
function createPolicyVersion(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const document = v.string('policyDocument', { required: true, max: 404600 })!;
  const setAsDefault = queryFlag(r.query, 'setAsDefault');
  const policy = findPolicy(r, 'iot:CreatePolicyVersion', v);
  checkDocument(document);
  if (policy.versions.length >= MAX_POLICY_VERSIONS) {
    throw new IotError(
      409,
      'VersionsLimitExceededException',
      `The policy ${policy.policyName} already has the maximum of ${MAX_POLICY_VERSIONS} versions; delete a version that is not the default first (DeletePolicyVersion).`,
    );
  }
  const now = r.ctx.now();
  const id = String(policy.lastVersionId + 1);
  const versions = [...policy.versions, { versionId: id, policyDocument: document, createDate: now }];
  r.ctx.iot.put('policies', withVersions(policy, versions, setAsDefault ? id : policy.defaultVersionId, now, policy.lastVersionId + 1));
  return { policyArn: policy.policyArn, policyDocument: document, policyVersionId: id, isDefaultVersion: setAsDefault };
}

function getPolicyVersion(r: IotRequest): unknown {
  const { policy, version } = findVersion(r, 'iot:GetPolicyVersion');
  return {
    policyArn: policy.policyArn,
    policyName: policy.policyName,
    policyDocument: version.policyDocument,
    policyVersionId: version.versionId,
    isDefaultVersion: version.versionId === policy.defaultVersionId,
    creationDate: seconds(version.createDate),
    lastModifiedDate: seconds(version.createDate),
    generationId: policy.generationId,
  };
}

/** ListPolicyVersions: every version (at most five, so one page), newest first. */
function listPolicyVersions(r: IotRequest): unknown {
  const p = findPolicy(r, 'iot:ListPolicyVersions');
  return {
    policyVersions: [...p.versions]
      .reverse()
      .map((x) => ({ versionId: x.versionId, isDefaultVersion: x.versionId === p.defaultVersionId, createDate: seconds(x.createDate) })),
  };
}

/** DeletePolicyVersion: the default version cannot be deleted (DeleteConflictException); make another the default first. */
function deletePolicyVersion(r: IotRequest): unknown {
  const { policy, version } = findVersion(r, 'iot:DeletePolicyVersion');
  if (version.versionId === policy.defaultVersionId) {
    throw new IotError(
      409,
      'DeleteConflictException',
      `Cannot delete the default version ${version.versionId} of the policy ${policy.policyName}; set another version as the default first (SetDefaultPolicyVersion).`,
    );
  }
  const versions = policy.versions.filter((x) => x !== version);
  r.ctx.iot.put('policies', withVersions(policy, versions, policy.defaultVersionId, r.ctx.now()));
  return {};
}

function setDefaultPolicyVersion(r: IotRequest): unknown {
  const { policy, version } = findVersion(r, 'iot:SetDefaultPolicyVersion');
  if (version.versionId !== policy.defaultVersionId) r.ctx.iot.put('policies', withVersions(policy, policy.versions, version.versionId, r.ctx.now()));
  return {};
}

/**
 * AttachPolicy: the target here is a certificate ARN (thing groups and Cognito identities are not emulated).
 * Attaching a policy that is already attached succeeds.
 */
function attachPolicy(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const target = v.string('target', { required: true });
  const policy = findPolicy(r, 'iot:AttachPolicy', v);
  const certificate = r.ctx.iot.list('certificates').find((c) => c.certificateArn === target);
  if (!certificate) {
    if (/^arn:[^:]+:iot:[^:]*:\d+:cert\//.test(target!)) throw notFound(`The certificate ${target} does not exist.`);
    throw invalidRequest(`The target ${target} is not a certificate ARN; the local cloud attaches policies to certificates only.`);
  }
  r.ctx.iot.attachPolicy(policy.policyName, certificate.certificateArn);
  return {};
}

const VERSION_PATH = /^\/policies\/([^/]+)\/version\/([^/]+)$/;

export const policyOperations: readonly IotOperation[] = Object.freeze([
  { name: 'CreatePolicy', method: 'POST', path: /^\/policies\/([^/]+)$/, run: createPolicy },
  { name: 'GetPolicy', method: 'GET', path: /^\/policies\/([^/]+)$/, run: getPolicy },
  { name: 'CreatePolicyVersion', method: 'POST', path: /^\/policies\/([^/]+)\/version$/, run: createPolicyVersion },
  { name: 'ListPolicyVersions', method: 'GET', path: /^\/policies\/([^/]+)\/version$/, run: listPolicyVersions },
  { name: 'GetPolicyVersion', method: 'GET', path: VERSION_PATH, run: getPolicyVersion },
  { name: 'DeletePolicyVersion', method: 'DELETE', path: VERSION_PATH, run: deletePolicyVersion },
  { name: 'SetDefaultPolicyVersion', method: 'PATCH', path: VERSION_PATH, run: setDefaultPolicyVersion },
  { name: 'AttachPolicy', method: 'PUT', path: /^\/target-policies\/([^/]+)$/, run: attachPolicy },
] as const);
