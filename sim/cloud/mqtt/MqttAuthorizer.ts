// Authorization of MQTT clients as AWS IoT Core does it ("AWS IoT Core policy actions", "AWS IoT Core
// action resources", "IoT Core policy variables"), with the one policy evaluator of the local cloud
// (sim/cloud/iam/evaluatePolicies.ts): explicit Deny wins, otherwise an Allow is needed.
//   iot:Connect   on arn:aws:iot:<region>:<account>:client/<clientId>     checked on every CONNECT
//   iot:Publish   on …:topic/<topic>                                      checked on every PUBLISH
//   iot:RetainPublish on …:topic/<topic>                                  also, when the RETAIN flag is set
//   iot:Subscribe on …:topicfilter/<topic filter>                         checked on every SUBSCRIBE
//   iot:Receive   on …:topic/<topic>                                      checked on every delivery
// Devices are held to the IoT policies attached to their certificate, read at check time, so attaching or
// detaching a policy applies to open connections ("iot:Receive … is checked on every delivery, you can use
// it to revoke permissions to clients that are currently subscribed"). Operators on WebSockets are held
// to their IAM identity: the static keys are the account's administrator, temporary credentials issued by
// the IoT credentials provider to their role's inline policies.
import { evaluatePolicies, type PolicyDecision } from '../iam/evaluatePolicies.ts';
import type { PolicyDocument } from '../iam/PolicyDocument.ts';
import type { AssumedRoleSession, CloudContext } from '../types.ts';

/** Who is on a connection, established before CONNECT: by the TLS client certificate or a SigV4 URL. */
export type MqttPrincipal =
  | { readonly kind: 'certificate'; readonly certificateId: string }
  | { readonly kind: 'sigv4'; readonly accessKeyId: string; readonly session?: AssumedRoleSession };

export type MqttAction = 'iot:Connect' | 'iot:Publish' | 'iot:RetainPublish' | 'iot:Subscribe' | 'iot:Receive';

/** What a connected client is checked against for the rest of its connection. */
export interface MqttSession {
  readonly principal: MqttPrincipal;
  readonly clientId: string;
  /** Policy variables of the connection (`iot:ClientId`, `iot:Connection.Thing.*`, `credentials-iot:*`). */
  readonly variables: ReadonlyMap<string, string>;
}

/** AWS IoT client ids are at most 128 bytes ("AWS IoT Core message broker and protocol limits": client ID size). */
export const MAX_CLIENT_ID_BYTES = 128;

export class MqttAuthorizer {
  private readonly context: () => CloudContext;

  constructor(context: () => CloudContext) {
    this.context = context;
  }

  /** `arn:aws:iot:<region>:<account>:<kind>/<name>`: the resources of the MQTT policy actions. */
  arn(kind: 'client' | 'topic' | 'topicfilter', name: string): string {
    const { region, accountId } = this.context().config;
    return `arn:aws:iot:${region}:${accountId}:${kind}/${name}`;
  }

  /**
   * The session of a CONNECT, or why it is refused. A certificate must be registered and ACTIVE now ("What is
   * checked when a device connects": registered with the account and activated), then iot:Connect decides.
   */
  connect(principal: MqttPrincipal, clientId: string): { session: MqttSession } | { refused: string } {
    const ctx = this.context();
    if (Buffer.byteLength(clientId, 'utf8') > MAX_CLIENT_ID_BYTES) return { refused: `client id longer than ${MAX_CLIENT_ID_BYTES} bytes` };
    const variables = new Map<string, string>([['iot:ClientId', clientId]]);
    if (principal.kind === 'certificate') {
      const certificate = ctx.iot.get('certificates', principal.certificateId);
      if (!certificate) return { refused: `certificate ${principal.certificateId} is not registered` };
      if (certificate.status !== 'ACTIVE') return { refused: `certificate ${principal.certificateId} is ${certificate.status}, not ACTIVE` };
      // iot:Connection.Thing.* exist when the client id names a thing attached to the certificate
      // ("Thing policy variables": the thing name must match the client id).
      const thing = ctx.iot.get('things', clientId);
      const attached = thing !== undefined && ctx.iot.isAttached(thing.thingName, certificate.certificateArn);
      variables.set('iot:Connection.Thing.IsAttached', String(attached));
      if (attached) {
        variables.set('iot:Connection.Thing.ThingName', thing.thingName);
        if (thing.thingTypeName !== undefined) variables.set('iot:Connection.Thing.ThingTypeName', thing.thingTypeName);
      }
    } else if (principal.session) {
      for (const [name, value] of Object.entries(principal.session.variables)) variables.set(name, value);
    }
    const session: MqttSession = { principal, clientId, variables };
    const decision = this.decide(session, 'iot:Connect', this.arn('client', clientId));
    if (decision !== 'allow') return { refused: `iot:Connect on ${this.arn('client', clientId)}: ${decision}` };
    return { session };
  }

  /** Whether `action` on `resource` is allowed for the session now. */
  allows(session: MqttSession, action: MqttAction, resource: string): boolean {
    return this.decide(session, action, resource) === 'allow';
  }

  private decide(session: MqttSession, action: MqttAction, resource: string): PolicyDecision {
    const policies = this.policies(session.principal);
    if (policies === 'admin') return 'allow';
    return evaluatePolicies(policies, { action, resource, variables: session.variables });
  }

  /** The documents that govern a principal now; 'admin' for the account's own keys. */
  private policies(principal: MqttPrincipal): readonly PolicyDocument[] | 'admin' {
    const ctx = this.context();
    if (principal.kind === 'certificate') {
      const certificate = ctx.iot.get('certificates', principal.certificateId);
      // A certificate deactivated or revoked while connected is allowed nothing more.
      if (!certificate || certificate.status !== 'ACTIVE') return [];
      // IotRegistry.document gives the policy's default version (the one AWS evaluates).
      return ctx.iot.policiesOf(certificate.certificateArn).map((p) => ctx.iot.document(p));
    }
    if (!principal.session) return 'admin';
    const role = ctx.iam.getRoleByArn(principal.session.roleArn);
    return role ? ctx.iam.rolePolicies(role) : [];
  }
}
