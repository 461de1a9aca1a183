// Authorization of authenticated requests (IAM User Guide, "Policy evaluation logic"). Static keys and
// temporary credentials minted without a session act as the account root: everything is allowed.
// Credentials issued by the IoT credentials provider act as their role: the request needs an Allow in the
// role's inline policies (evaluated now, so a PutRolePolicy applies to credentials already issued) and no
// Deny, with the session's `credentials-iot:*` policy variables substituted in resource patterns.
import type { IncomingMessage } from 'node:http';
import { evaluatePolicies } from '../iam/evaluatePolicies.ts';
import type { IamStore } from '../iam/IamStore.ts';
import { CloudError } from '../types.ts';
import { callerOf } from './createAuthenticator.ts';

export type Authorizer = (req: IncomingMessage, action: string, resource: string, shown?: string) => void;

export function createAuthorizer(options: { readonly iam: IamStore }): Authorizer {
  return function authorize(req, action, resource, shown = resource) {
    const caller = callerOf(req);
    if (!caller) throw new TypeError(`authorize: ${action} was not authenticated first`);
    const session = caller.session;
    if (!session) return;
    const role = options.iam.getRoleByArn(session.roleArn);
    const decision = role
      ? evaluatePolicies(options.iam.rolePolicies(role), { action, resource, variables: new Map(Object.entries(session.variables)) })
      : 'implicit-deny';
    if (decision === 'allow') return;
    // The wording KVS answers with for an assumed role (as logged by the KVS producer SDK, e.g.
    // amazon-kinesis-video-streams-producer-sdk-cpp issue #351): "User: arn:aws:sts::<account>:assumed-role/
    // <role>/<certificate id> is not authorized to perform: kinesisvideo:DescribeStream on resource: <stream>".
    const deny = decision === 'explicit-deny' ? ' with an explicit deny' : '';
    throw new CloudError(403, 'AccessDeniedException', `User: ${session.arn} is not authorized to perform: ${action} on resource: ${shown}${deny}`);
  };
}
