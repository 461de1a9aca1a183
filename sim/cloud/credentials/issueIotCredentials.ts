// The checks of the AWS IoT credentials provider, in the order AWS applies them, with its answers as
// observed against AWS (awslabs/aws-iot-core-credential-provider-session-helper, docs/dev_notes.md,
// "Credential Provider responses"), and the response shape of kvs-reference.md §9.2. The first line is our
// inference: that table starts from an active, registered certificate, and "Certificate is invalid on this
// endpoint" is the 403 it shows for a certificate the endpoint does not accept.
//   certificate not ACTIVE or unknown      → 403 {"message":"Certificate is invalid on this endpoint"}
//   thing missing or not attached to cert  → 403 {"message":"Invalid thing name passed"}
//   no IoT policy allows AssumeRoleWithCertificate on the alias → 403 {"message":"Access Denied"}
//   role alias missing                     → 404 {"message":"Role alias does not exist"}
//   role missing or not trusting credentials.iot.amazonaws.com → 400 {"message":"Unable to assume the role, or the role to assume does not exist"}
//   alias duration > role MaxSessionDuration → 400 {"message":"The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role"}
//   otherwise                              → 200 {"credentials":{accessKeyId, secretAccessKey, sessionToken, expiration}}
// kvssink sends its stream name as the thing name, which is why "stream name ≠ thing name" shows up as
// "Invalid thing name passed" (kvs-reference.md §8.4): it is this provider's answer, not KVS's.
import { evaluatePolicies, trustsService } from '../iam/evaluatePolicies.ts';
import { iotArn } from '../iot/IotOperation.ts';
import type { AssumedRoleSession, CloudContext } from '../types.ts';

/** The service principal a role must trust (IoT Developer Guide, "Authorizing direct calls to AWS services"). */
export const CREDENTIALS_SERVICE = 'credentials.iot.amazonaws.com';

export interface CredentialsAnswer {
  readonly status: number;
  /** x-amzn-ErrorType of an error answer (AccessDeniedException as observed; the others are our choice). */
  readonly errorType?: string;
  readonly body: unknown;
}

function refuse(status: number, errorType: string, message: string): CredentialsAnswer {
  return { status, errorType, body: { message } };
}

/**
 * `2024-01-02T03:04:05Z`: the provider's expiration format (kvs-reference.md §9.2, no fraction). Rounded
 * down, so a device never believes its credentials live longer than the cloud accepts them.
 */
export function expirationText(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function issueIotCredentials(
  ctx: CloudContext,
  request: { certificateId: string; thingName: string | undefined; roleAlias: string },
): CredentialsAnswer {
  const certificate = ctx.iot.get('certificates', request.certificateId);
  if (!certificate || certificate.status !== 'ACTIVE') {
    return refuse(403, 'AccessDeniedException', 'Certificate is invalid on this endpoint');
  }
  const variables: Record<string, string> = { 'credentials-iot:AwsCertificateId': certificate.certificateId };
  if (request.thingName !== undefined) {
    const thing = ctx.iot.get('things', request.thingName);
    if (!thing || !ctx.iot.isAttached(thing.thingName, certificate.certificateArn)) {
      return refuse(403, 'AccessDeniedException', 'Invalid thing name passed');
    }
    variables['credentials-iot:ThingName'] = thing.thingName;
    if (thing.thingTypeName !== undefined) variables['credentials-iot:ThingTypeName'] = thing.thingTypeName;
  }
  const aliasArn = iotArn(ctx, 'rolealias', request.roleAlias);
  const policies = ctx.iot.policiesOf(certificate.certificateArn).map((p) => ctx.iot.document(p));
  if (evaluatePolicies(policies, { action: 'iot:AssumeRoleWithCertificate', resource: aliasArn }) !== 'allow') {
    return refuse(403, 'AccessDeniedException', 'Access Denied');
  }
  const alias = ctx.iot.get('roleAliases', request.roleAlias);
  if (!alias) return refuse(404, 'ResourceNotFoundException', 'Role alias does not exist');
  const role = ctx.iam.getRoleByArn(alias.roleArn);
  if (!role || !trustsService(ctx.iam.trustPolicy(role), CREDENTIALS_SERVICE, 'sts:AssumeRole')) {
    return refuse(400, 'InvalidRequestException', 'Unable to assume the role, or the role to assume does not exist');
  }
  if (alias.credentialDurationSeconds > role.MaxSessionDuration) {
    return refuse(400, 'InvalidRequestException', 'The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role');
  }
  // The session is named after the certificate id, as AWS names it (AccessDenied messages show
  // `assumed-role/<role>/<certificate id>`, e.g. amazon-kinesis-video-streams-producer-sdk-cpp issue #351).
  const session: AssumedRoleSession = {
    roleArn: role.Arn,
    arn: `arn:aws:sts::${ctx.config.accountId}:assumed-role/${role.RoleName}/${certificate.certificateId}`,
    variables,
  };
  const issued = ctx.temporaryCredentials.issue(alias.credentialDurationSeconds * 1000, session);
  ctx.log('iot-credentials-issued', {
    certificateId: certificate.certificateId,
    thing: request.thingName,
    roleAlias: alias.roleAlias,
    expiration: issued.expiration,
  });
  return {
    status: 200,
    body: {
      credentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiration: expirationText(issued.expiration),
      },
    },
  };
}
