// AWS IoT policies (AWS IoT API reference: CreatePolicy, GetPolicy, AttachPolicy). A policy has one version
// here, "1", the default version CreatePolicy creates.
import { randomBytes } from 'node:crypto';
import { parsePolicyDocument, PolicyError } from '../iam/PolicyDocument.ts';
import { InputValidator } from '../kvs/InputValidator.ts';
import type { PolicyRecord } from './IotRegistry.ts';
import { alreadyExists, invalidRequest, IotError, IOT_PATTERNS, iotArn, notFound, seconds, type IotOperation, type IotRequest } from './IotOperation.ts';

/** "policyDocument must have a minimum length of 1, with a maximum length of 2048, excluding whitespace." */
const MAX_POLICY_CHARS = 2048;

function policyName(r: IotRequest, v: InputValidator): string {
  return v.string('policyName', { required: true, min: 1, max: 128, pattern: IOT_PATTERNS.policyName }, 'policyName', r.params[0])!;
}

/** CreatePolicy: a name that exists is ResourceAlreadyExistsException whatever the document. */
function createPolicy(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const name = policyName(r, v);
  const document = v.string('policyDocument', { required: true, max: 404600 })!;
  v.done();
  const arn = iotArn(r.ctx, 'policy', name);
  r.ctx.authorize(r.req, 'iot:CreatePolicy', arn);
  const length = document.replace(/\s/g, '').length;
  if (length < 1 || length > MAX_POLICY_CHARS) throw new IotError(400, 'MalformedPolicyException', `The policy document has ${length} characters without whitespace; 1 to ${MAX_POLICY_CHARS} are allowed.`);
  try {
    parsePolicyDocument(document, 'iot');
  } catch (err) {
    if (err instanceof PolicyError) throw new IotError(400, 'MalformedPolicyException', err.message);
    throw err;
  }
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
  };
  r.ctx.iot.put('policies', policy);
  return { policyName: name, policyArn: arn, policyDocument: document, policyVersionId: '1' };
}

function findPolicy(r: IotRequest, action: string): PolicyRecord {
  const v = new InputValidator({});
  const name = policyName(r, v);
  v.done();
  r.ctx.authorize(r.req, action, iotArn(r.ctx, 'policy', name));
  const policy = r.ctx.iot.get('policies', name);
  if (!policy) throw notFound(`Policy not found (name=${name})`);
  return policy;
}

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
 * AttachPolicy: the target here is a certificate ARN (thing groups and Cognito identities are not emulated).
 * Attaching a policy that is already attached succeeds.
 */
function attachPolicy(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const target = v.string('target', { required: true });
  v.done();
  const policy = findPolicy(r, 'iot:AttachPolicy');
  const certificate = r.ctx.iot.list('certificates').find((c) => c.certificateArn === target);
  if (!certificate) {
    if (/^arn:[^:]+:iot:[^:]*:\d+:cert\//.test(target!)) throw notFound(`The certificate ${target} does not exist.`);
    throw invalidRequest(`The target ${target} is not a certificate ARN; the local cloud attaches policies to certificates only.`);
  }
  r.ctx.iot.attachPolicy(policy.policyName, certificate.certificateArn);
  return {};
}

export const policyOperations: readonly IotOperation[] = Object.freeze([
  { name: 'CreatePolicy', method: 'POST', path: /^\/policies\/([^/]+)$/, run: createPolicy },
  { name: 'GetPolicy', method: 'GET', path: /^\/policies\/([^/]+)$/, run: getPolicy },
  { name: 'AttachPolicy', method: 'PUT', path: /^\/target-policies\/([^/]+)$/, run: attachPolicy },
] as const);
