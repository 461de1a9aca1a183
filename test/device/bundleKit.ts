// Provisioning a simulated device against the local cloud with the unmodified AWS SDK v3 clients (thing,
// keys and certificate, IAM role and policy, role alias, IoT policy, attachments; kvs-reference.md §9.1,
// through test/sim/cloud/iot/iotKit.ts), then its bundle written as docs/device-bundle.md specifies.
import { DescribeEndpointCommand } from '@aws-sdk/client-iot';
import { join } from 'node:path';
import type { RunningCloud } from '../../sim/cloud/startCloud.ts';
import { writeDeviceBundle, type DeviceBundleDocument } from '../../sim/board/writeDeviceBundle.ts';
import { iotClient, provisionRole, provisionThing, type DeviceCertificate } from '../sim/cloud/iot/iotKit.ts';

export const ROLE_ALIAS = 'FieldcamDeviceAlias';
export const IOT_POLICY = 'FieldcamDeviceAssume';

/** The role, its KVS policy (${credentials-iot:ThingName}), the role alias and the IoT policy: once per cloud. */
export function provisionFleetRole(cloud: RunningCloud, durationSeconds = 3600): Promise<{ roleArn: string; roleAliasArn: string }> {
  return provisionRole(cloud, { role: 'FieldcamDeviceRole', alias: ROLE_ALIAS, policy: IOT_POLICY, durationSeconds });
}

/** A thing with an active certificate carrying the IoT policy, and its bundle in `dir/<thing>`. */
export async function provisionDevice(
  cloud: RunningCloud,
  dir: string,
  thingName: string,
  device: Partial<DeviceBundleDocument> = {},
): Promise<{ bundle: string; cert: DeviceCertificate }> {
  const cert = await provisionThing(cloud, thingName, IOT_POLICY);
  const endpoint = await iotClient(cloud).send(new DescribeEndpointCommand({ endpointType: 'iot:CredentialProvider' }));
  const bundle = writeDeviceBundle(join(dir, thingName), {
    device: {
      version: 1,
      thingName,
      region: 'us-east-1',
      roleAlias: ROLE_ALIAS,
      endpoints: { credentialProvider: endpoint.endpointAddress!, kinesisVideo: cloud.endpoint },
      retentionHours: 24,
      ...device,
    },
    certificatePem: cert.certificatePem,
    privateKeyPem: cert.privateKeyPem,
    caPem: cloud.caPem,
  });
  return { bundle, cert };
}
