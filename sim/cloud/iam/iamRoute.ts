// IAM (API version 2010-05-08) as the unmodified @aws-sdk/client-iam sends it: the Query protocol, a
// form-encoded POST to `/` with `Action=…&Version=2010-05-08&…`, SigV4 scoped to the service `iam`, answers
// as `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` XML and errors as
// `<ErrorResponse><Error><Type/><Code/><Message/></Error>` (IAM API reference, "Common Errors"). Roles:
// CreateRole, GetRole, PutRolePolicy, GetRolePolicy.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sha256Hex } from '../http.ts';
import { InputValidator } from '../kvs/InputValidator.ts';
import { CloudError, type CloudContext, type Route } from '../types.ts';
import type { RoleRecord } from './IamStore.ts';
import { parsePolicyDocument, PolicyError, type PolicyKind } from './PolicyDocument.ts';
import { toXml, type XmlElements } from './toXml.ts';

const VERSION = '2010-05-08';
const NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** Request constraints (IAM API reference, CreateRole / PutRolePolicy "Request Parameters"). */
const PATTERNS = Object.freeze({
  roleName: /^[\w+=,.@-]+$/,
  policyName: /^[\w+=,.@-]+$/,
  path: /^(\/|\/[\u0021-\u007E]+\/)$/,
  policyDocument: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/,
  description: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/,
} as const);
/** MaxSessionDuration: 3600-43200 seconds, default 3600 (CreateRole). */
const SESSION_DURATION = Object.freeze({ min: 3600, max: 43200, default: 3600 } as const);
/** Inline policies of one role: at most 10,240 characters together (IAM quotas, "Role policy size"). */
const MAX_INLINE_POLICY_CHARS = 10_240;

/** The front door's JSON error types as IAM's Query error codes (IAM API reference, "Common Errors"). */
const QUERY_CODES: Readonly<Record<string, string>> = Object.freeze({
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  IncompleteSignatureException: 'IncompleteSignature',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  UnrecognizedClientException: 'InvalidClientTokenId',
  ExpiredTokenException: 'ExpiredToken',
  AccessDeniedException: 'AccessDenied',
  InvalidArgumentException: 'ValidationError',
  RequestEntityTooLargeException: 'RequestEntityTooLarge',
  InternalFailure: 'ServiceFailure',
});

function iamError(status: number, code: string, message: string): CloudError {
  return new CloudError(status, code, message);
}

/** Policy documents come back URL-encoded (RFC 3986), as IAM returns them ("GetRolePolicy", Response Elements). */
function urlEncoded(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function checkPolicy(text: string, kind: PolicyKind): void {
  try {
    parsePolicyDocument(text, kind);
  } catch (err) {
    if (err instanceof PolicyError) throw iamError(400, 'MalformedPolicyDocument', err.message);
    throw err;
  }
}

function roleXml(role: RoleRecord): XmlElements {
  return {
    Path: role.Path,
    RoleName: role.RoleName,
    RoleId: role.RoleId,
    Arn: role.Arn,
    CreateDate: isoSeconds(role.CreateDate),
    AssumeRolePolicyDocument: urlEncoded(role.AssumeRolePolicyDocument),
    Description: role.Description,
    MaxSessionDuration: role.MaxSessionDuration,
    Tags: role.Tags.length ? role.Tags.map((t) => ({ Key: t.Key, Value: t.Value })) : undefined,
  };
}

interface Call {
  readonly params: URLSearchParams;
  readonly ctx: CloudContext;
  readonly req: IncomingMessage;
}

function input(params: URLSearchParams): InputValidator {
  return new InputValidator(Object.fromEntries(params));
}

function roleArn(ctx: CloudContext, path: string, name: string): string {
  return `arn:aws:iam::${ctx.config.accountId}:role${path}${name}`;
}

function findRole(call: Call, v: InputValidator, action: string): RoleRecord {
  const name = v.string('RoleName', { required: true, min: 1, max: 64, pattern: PATTERNS.roleName })!;
  v.done();
  const role = call.ctx.iam.getRole(name);
  call.ctx.authorize(call.req, action, role?.Arn ?? roleArn(call.ctx, '/', name));
  if (!role) throw iamError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
  return role;
}

/** "Tags.member.1.Key=…&Tags.member.1.Value=…" → [{Key, Value}]. */
function readTags(params: URLSearchParams): { Key: string; Value: string }[] {
  const tags: { Key: string; Value: string }[] = [];
  for (let i = 1; params.has(`Tags.member.${i}.Key`); i++)
    tags.push({ Key: params.get(`Tags.member.${i}.Key`)!, Value: params.get(`Tags.member.${i}.Value`) ?? '' });
  return tags;
}

/** CreateRole: a name that exists (case-insensitively) is EntityAlreadyExists, whatever the rest. */
function createRole(call: Call): XmlElements {
  const v = input(call.params);
  const name = v.string('RoleName', { required: true, min: 1, max: 64, pattern: PATTERNS.roleName })!;
  const trust = v.string('AssumeRolePolicyDocument', { required: true, min: 1, max: 131072, pattern: PATTERNS.policyDocument })!;
  const path = v.string('Path', { min: 1, max: 512, pattern: PATTERNS.path }) ?? '/';
  const description = v.string('Description', { max: 1000, pattern: PATTERNS.description });
  const durationText = call.params.get('MaxSessionDuration');
  const duration = durationText === null ? SESSION_DURATION.default : Number(durationText);
  if (!Number.isInteger(duration) || duration < SESSION_DURATION.min || duration > SESSION_DURATION.max) {
    v.fail(
      'maxSessionDuration',
      durationText,
      `Member must have value ${duration < SESSION_DURATION.min ? 'greater than or equal to 3600' : 'less than or equal to 43200'}`,
    );
  }
  v.done();
  const arn = roleArn(call.ctx, path, name);
  call.ctx.authorize(call.req, 'iam:CreateRole', arn);
  checkPolicy(trust, 'trust');
  if (call.ctx.iam.getRole(name)) throw iamError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
  const role: RoleRecord = {
    RoleName: name,
    RoleId: 'AROA' + Array.from(randomBytes(17), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b & 31]).join(''),
    Arn: arn,
    Path: path,
    CreateDate: call.ctx.now(),
    AssumeRolePolicyDocument: trust,
    ...(description !== undefined ? { Description: description } : {}),
    MaxSessionDuration: duration,
    Tags: readTags(call.params),
    Policies: {},
  };
  call.ctx.iam.putRole(role);
  call.ctx.log('iam-role-created', { role: name });
  return { Role: roleXml(role) };
}

function getRole(call: Call): XmlElements {
  return { Role: { ...roleXml(findRole(call, input(call.params), 'iam:GetRole')), RoleLastUsed: {} } };
}

/** UpdateRole: Description and/or MaxSessionDuration (3600-43200 s); members left out keep their value. */
function updateRole(call: Call): XmlElements | undefined {
  const v = input(call.params);
  const description = v.string('Description', { max: 1000, pattern: PATTERNS.description });
  const durationText = call.params.get('MaxSessionDuration');
  const duration = durationText === null ? undefined : Number(durationText);
  if (duration !== undefined && (!Number.isInteger(duration) || duration < SESSION_DURATION.min || duration > SESSION_DURATION.max)) {
    v.fail(
      'maxSessionDuration',
      durationText,
      `Member must have value ${duration < SESSION_DURATION.min ? 'greater than or equal to 3600' : 'less than or equal to 43200'}`,
    );
  }
  const role = findRole(call, v, 'iam:UpdateRole');
  call.ctx.iam.putRole({
    ...role,
    ...(description !== undefined ? { Description: description } : {}),
    ...(duration !== undefined ? { MaxSessionDuration: duration } : {}),
  });
  return undefined;
}

/** PutRolePolicy adds or replaces an inline policy. */
function putRolePolicy(call: Call): XmlElements | undefined {
  const v = input(call.params);
  const policyName = v.string('PolicyName', { required: true, min: 1, max: 128, pattern: PATTERNS.policyName })!;
  const document = v.string('PolicyDocument', { required: true, min: 1, max: 131072, pattern: PATTERNS.policyDocument })!;
  const role = findRole(call, v, 'iam:PutRolePolicy');
  checkPolicy(document, 'identity');
  const policies = { ...role.Policies, [policyName]: document };
  const size = Object.values(policies).reduce((n, p) => n + p.replace(/\s/g, '').length, 0);
  if (size > MAX_INLINE_POLICY_CHARS) {
    throw iamError(409, 'LimitExceeded', `Maximum policy size of ${MAX_INLINE_POLICY_CHARS} bytes exceeded for role ${role.RoleName}`);
  }
  call.ctx.iam.putRole({ ...role, Policies: policies });
  return undefined;
}

function getRolePolicy(call: Call): XmlElements {
  const v = input(call.params);
  const policyName = v.string('PolicyName', { required: true, min: 1, max: 128, pattern: PATTERNS.policyName })!;
  const role = findRole(call, v, 'iam:GetRolePolicy');
  const document = role.Policies[policyName];
  if (document === undefined) throw iamError(404, 'NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
  return { RoleName: role.RoleName, PolicyName: policyName, PolicyDocument: urlEncoded(document) };
}

const ACTIONS: Readonly<Record<string, (call: Call) => XmlElements | undefined>> = Object.freeze({
  CreateRole: createRole,
  GetRole: getRole,
  UpdateRole: updateRole,
  PutRolePolicy: putRolePolicy,
  GetRolePolicy: getRolePolicy,
});

function writeXml(res: ServerResponse, status: number, xml: string): void {
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}\n`, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': body.length });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const requestId = String(res.getHeader('x-amzn-RequestId') ?? '');
  try {
    const body = await readBody(req);
    await ctx.authenticate(req, sha256Hex(body), 'iam');
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action') ?? '';
    const run = ACTIONS[action];
    if (!run || params.get('Version') !== VERSION)
      throw iamError(400, 'InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? ''}`);
    params.delete('Action');
    params.delete('Version');
    const result = run({ params, ctx, req });
    const inner = result ? `<${action}Result>${toXml(result)}</${action}Result>` : '';
    writeXml(res, 200, `<${action}Response xmlns="${NAMESPACE}">${inner}${toXml({ ResponseMetadata: { RequestId: requestId } })}</${action}Response>`);
  } catch (err) {
    if (!(err instanceof CloudError)) ctx.log('internal-error', { path: '/', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    const e = err instanceof CloudError ? err : new CloudError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.');
    const code = QUERY_CODES[e.type] ?? e.type;
    const type = e.status >= 500 ? 'Receiver' : 'Sender';
    writeXml(
      res,
      e.status,
      `<ErrorResponse xmlns="${NAMESPACE}">${toXml({ Error: { Type: type, Code: code, Message: e.message }, RequestId: requestId })}</ErrorResponse>`,
    );
  }
}

export const iamRoute: Route = Object.freeze({ method: 'POST', path: '/', handler: handle } as const);
