// Helpers for the IoT / IAM / credentials-provider suites: unmodified @aws-sdk/client-iot and client-iam
// pointed at the local cloud, the provisioning steps of kvs-reference.md §13 done through them, and a raw
// mTLS GET of the credentials provider with node:https (what a device or curl does).
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateRoleAliasCommand,
  CreateThingCommand,
  DescribeEndpointCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent, request } from 'node:https';
import type { RunningCloud } from '../../../../sim/cloud/startCloud.ts';
import { CREDENTIALS } from '../support.ts';

type SdkCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

function sdkConfig(cloud: RunningCloud, credentials: SdkCredentials = CREDENTIALS) {
  return {
    region: cloud.ctx.config.region,
    endpoint: cloud.endpoint,
    credentials: { ...credentials }, // the SDK writes into its credentials object
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: cloud.caPem }) }),
    maxAttempts: 1,
  };
}

/** An unmodified IoT client with an endpoint override and the cloud's CA; the example root keys unless told. */
export function iotClient(cloud: RunningCloud, credentials?: SdkCredentials): IoTClient {
  return new IoTClient(sdkConfig(cloud, credentials));
}

/** An unmodified IAM client with an endpoint override and the cloud's CA; the example root keys unless told. */
export function iamClient(cloud: RunningCloud, credentials?: SdkCredentials): IAMClient {
  return new IAMClient(sdkConfig(cloud, credentials));
}

/** The trust policy of kvs-reference.md §9.1 step 2. */
export const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'credentials.iot.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** The KVS permission policy of kvs-reference.md §9.1 step 3 (plus CreateStream), scoped to the thing's stream. */
export const KVS_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['kinesisvideo:DescribeStream', 'kinesisvideo:CreateStream', 'kinesisvideo:PutMedia', 'kinesisvideo:TagStream', 'kinesisvideo:GetDataEndpoint'],
      Resource: 'arn:aws:kinesisvideo:*:*:stream/${credentials-iot:ThingName}/*',
    },
  ],
});

export function assumeRolePolicy(roleAliasArn: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:AssumeRoleWithCertificate', Resource: roleAliasArn }] });
}

export interface DeviceCertificate {
  readonly certificateArn: string;
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function createCertificate(iot: IoTClient, active = true): Promise<DeviceCertificate> {
  const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: active }));
  return {
    certificateArn: out.certificateArn!,
    certificateId: out.certificateId!,
    certificatePem: out.certificatePem!,
    privateKeyPem: out.keyPair!.PrivateKey!,
  };
}

/** Role + KVS policy + role alias + IoT policy allowing AssumeRoleWithCertificate on it (§13 steps 2-4). */
export async function provisionRole(
  cloud: RunningCloud,
  names: { role: string; alias: string; policy: string; durationSeconds?: number },
): Promise<{ roleArn: string; roleAliasArn: string }> {
  const iam = iamClient(cloud);
  const iot = iotClient(cloud);
  const role = await iam.send(new CreateRoleCommand({ RoleName: names.role, AssumeRolePolicyDocument: TRUST_POLICY }));
  await iam.send(new PutRolePolicyCommand({ RoleName: names.role, PolicyName: 'kvs', PolicyDocument: KVS_POLICY }));
  const alias = await iot.send(
    new CreateRoleAliasCommand({ roleAlias: names.alias, roleArn: role.Role!.Arn!, credentialDurationSeconds: names.durationSeconds ?? 3600 }),
  );
  await iot.send(new CreatePolicyCommand({ policyName: names.policy, policyDocument: assumeRolePolicy(alias.roleAliasArn!) }));
  return { roleArn: role.Role!.Arn!, roleAliasArn: alias.roleAliasArn! };
}

/** A thing with an active certificate carrying `policy` (§13 steps 1 and 5). */
export async function provisionThing(cloud: RunningCloud, thingName: string, policy: string): Promise<DeviceCertificate> {
  const iot = iotClient(cloud);
  await iot.send(new CreateThingCommand({ thingName }));
  const cert = await createCertificate(iot);
  await iot.send(new AttachPolicyCommand({ policyName: policy, target: cert.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
  return cert;
}

export interface ProviderResponse {
  readonly status: number;
  readonly errorType: string | undefined;
  readonly json: Record<string, unknown>;
}

/**
 * `GET /role-aliases/<alias>/credentials` over mTLS at the endpoint DescribeEndpoint(iot:CredentialProvider)
 * names, as kvs-reference.md §9.1 step 10's curl does. Rejects with the TLS error when the handshake fails.
 */
export async function fetchCredentials(
  cloud: RunningCloud,
  options: { cert?: DeviceCertificate | { certificatePem: string; privateKeyPem: string }; thingName?: string; roleAlias: string },
): Promise<ProviderResponse> {
  const endpoint = await iotClient(cloud).send(new DescribeEndpointCommand({ endpointType: 'iot:CredentialProvider' }));
  const [host, port] = endpoint.endpointAddress!.split(':');
  return new Promise((done, fail) => {
    const req = request(
      {
        host,
        port,
        method: 'GET',
        path: `/role-aliases/${encodeURIComponent(options.roleAlias)}/credentials`,
        headers: options.thingName !== undefined ? { 'x-amzn-iot-thingname': options.thingName } : {},
        ca: cloud.caPem,
        ...(options.cert ? { cert: options.cert.certificatePem, key: options.cert.privateKeyPem } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const errorType = res.headers['x-amzn-errortype'];
          done({
            status: res.statusCode ?? 0,
            errorType: Array.isArray(errorType) ? errorType[0] : errorType,
            json: JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** SDK credentials from a provider answer (the SDK wants a Date expiration). */
export function sdkCredentials(answer: ProviderResponse): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date } {
  const c = answer.json.credentials as Record<string, string>;
  return { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken!, expiration: new Date(c.expiration!) };
}
