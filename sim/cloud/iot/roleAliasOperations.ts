// Role aliases and endpoints (AWS IoT API reference: CreateRoleAlias, DescribeRoleAlias, UpdateRoleAlias,
// DescribeEndpoint).
import { InputValidator } from '../kvs/InputValidator.ts';
import type { RoleAliasRecord } from './IotRegistry.ts';
import { alreadyExists, invalidRequest, IOT_PATTERNS, iotArn, notFound, seconds, type IotOperation, type IotRequest } from './IotOperation.ts';

/** credentialDurationSeconds: 900-43200, default 3600 (CreateRoleAlias). */
export const ROLE_ALIAS_DURATION = Object.freeze({ min: 900, max: 43200, default: 3600 } as const);
/** An IAM role ARN (the API only bounds its length, 20-2048; IoT refuses what is not a role ARN). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

function roleAlias(r: IotRequest, v: InputValidator): string {
  return v.string('roleAlias', { required: true, min: 1, max: 128, pattern: IOT_PATTERNS.roleAlias }, 'roleAlias', r.params[0])!;
}

/**
 * CreateRoleAlias: a name that exists is ResourceAlreadyExistsException. Neither the role's existence nor
 * its MaxSessionDuration is checked here: AWS only finds out when the credentials provider assumes the role
 * (awslabs/aws-iot-core-credential-provider-session-helper, docs/dev_notes.md, observed responses).
 */
function createRoleAlias(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const alias = roleAlias(r, v);
  const roleArn = v.string('roleArn', { required: true, min: 20, max: 2048 })!;
  const duration = v.integer('credentialDurationSeconds', { min: ROLE_ALIAS_DURATION.min, max: ROLE_ALIAS_DURATION.max }) ?? ROLE_ALIAS_DURATION.default;
  v.done();
  const arn = iotArn(r.ctx, 'rolealias', alias);
  r.ctx.authorize(r.req, 'iot:CreateRoleAlias', arn);
  if (!ROLE_ARN.test(roleArn)) throw invalidRequest(`Role ARN ${roleArn} is not a valid IAM role ARN.`);
  if (r.ctx.iot.get('roleAliases', alias)) throw alreadyExists(`Role alias ${alias} already exists.`, alias, arn);
  const now = r.ctx.now();
  const record: RoleAliasRecord = {
    roleAlias: alias,
    roleAliasArn: arn,
    roleArn,
    owner: r.ctx.config.accountId,
    credentialDurationSeconds: duration,
    creationDate: now,
    lastModifiedDate: now,
  };
  r.ctx.iot.put('roleAliases', record);
  return { roleAlias: alias, roleAliasArn: arn };
}

/**
 * UpdateRoleAlias: a new role and/or credential duration (900-43200 s); members left out keep their value.
 * As with CreateRoleAlias, a duration above the role's MaxSessionDuration only fails at the credentials provider.
 */
function updateRoleAlias(r: IotRequest): unknown {
  const v = new InputValidator(r.body);
  const alias = roleAlias(r, v);
  const roleArn = v.string('roleArn', { min: 20, max: 2048 });
  const duration = v.integer('credentialDurationSeconds', { min: ROLE_ALIAS_DURATION.min, max: ROLE_ALIAS_DURATION.max });
  v.done();
  const arn = iotArn(r.ctx, 'rolealias', alias);
  r.ctx.authorize(r.req, 'iot:UpdateRoleAlias', arn);
  if (roleArn !== undefined && !ROLE_ARN.test(roleArn)) throw invalidRequest(`Role ARN ${roleArn} is not a valid IAM role ARN.`);
  const a = r.ctx.iot.get('roleAliases', alias);
  if (!a) throw notFound(`Role alias ${alias} does not exist.`);
  r.ctx.iot.put('roleAliases', {
    ...a,
    ...(roleArn !== undefined ? { roleArn } : {}),
    ...(duration !== undefined ? { credentialDurationSeconds: duration } : {}),
    lastModifiedDate: r.ctx.now(),
  });
  return { roleAlias: alias, roleAliasArn: a.roleAliasArn };
}

function describeRoleAlias(r: IotRequest): unknown {
  const v = new InputValidator({});
  const alias = roleAlias(r, v);
  v.done();
  r.ctx.authorize(r.req, 'iot:DescribeRoleAlias', iotArn(r.ctx, 'rolealias', alias));
  const a = r.ctx.iot.get('roleAliases', alias);
  if (!a) throw notFound(`Role alias ${alias} does not exist.`);
  return {
    roleAliasDescription: {
      roleAlias: a.roleAlias,
      roleAliasArn: a.roleAliasArn,
      roleArn: a.roleArn,
      owner: a.owner,
      credentialDurationSeconds: a.credentialDurationSeconds,
      creationDate: seconds(a.creationDate),
      lastModifiedDate: seconds(a.lastModifiedDate),
    },
  };
}

/**
 * DescribeEndpoint: AWS answers a host name (`<prefix>-ats.iot.<region>.amazonaws.com`,
 * `<prefix>.credentials.iot.<region>.amazonaws.com`); the local cloud answers `127.0.0.1:<port>` of the
 * server that plays that endpoint, so `https://<endpointAddress>` reaches it. Without endpointType AWS
 * answers the legacy `iot:Data` endpoint.
 */
function describeEndpoint(r: IotRequest): unknown {
  const type = r.query.get('endpointType') ?? 'iot:Data';
  r.ctx.authorize(r.req, 'iot:DescribeEndpoint', '*');
  const address = r.ctx.iotEndpoints[type];
  if (address === undefined) throw invalidRequest(`Endpoint type ${type} is not valid; use one of ${Object.keys(r.ctx.iotEndpoints).join(', ')}.`);
  return { endpointAddress: address };
}

export const roleAliasOperations: readonly IotOperation[] = Object.freeze([
  { name: 'CreateRoleAlias', method: 'POST', path: /^\/role-aliases\/([^/]+)$/, run: createRoleAlias },
  { name: 'DescribeRoleAlias', method: 'GET', path: /^\/role-aliases\/([^/]+)$/, run: describeRoleAlias },
  { name: 'UpdateRoleAlias', method: 'PUT', path: /^\/role-aliases\/([^/]+)$/, run: updateRoleAlias },
  { name: 'DescribeEndpoint', method: 'GET', path: /^\/endpoint$/, run: describeEndpoint },
] as const);
