// What every camera of one `fieldcam provision` run shares: the SDK clients, the region and account, the
// role alias, the endpoints and the CA the bundles carry.
import { IAMClient } from '@aws-sdk/client-iam';
import { IoTClient } from '@aws-sdk/client-iot';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { AwsClientConfig } from '../../aws/awsClientConfig.ts';

export interface ProvisionClients {
  readonly iot: IoTClient;
  readonly iam: IAMClient;
  readonly kvs: KinesisVideoClient;
  destroy(): void;
}

/** The three clients, all at --endpoint-url when given (the local cloud serves IoT, IAM and KVS on one port). */
export function provisionClients(config: AwsClientConfig): ProvisionClients {
  const iot = new IoTClient(config);
  const iam = new IAMClient(config);
  const kvs = new KinesisVideoClient(config);
  return {
    iot,
    iam,
    kvs,
    destroy() {
      iot.destroy();
      iam.destroy();
      kvs.destroy();
    },
  };
}

export interface ProvisionContext {
  readonly clients: ProvisionClients;
  readonly region: string;
  /** From the role ARN; undefined only in a dry run before the role exists. */
  readonly account: string | undefined;
  readonly roleAlias: string;
  /** undefined only in a dry run before the alias exists. */
  readonly roleAliasArn: string | undefined;
  readonly endpoints: { readonly credentialProvider: string; readonly iotData: string; readonly kinesisVideo: string };
  /** The CA PEM written as ca.pem; undefined only in a dry run without one. */
  readonly caPem: string | undefined;
  /** Of a stream provision creates; of every stream when `retentionGiven`. */
  readonly retentionHours: number;
  /** --retention-hours was given: existing streams with another retention are updated to it. */
  readonly retentionGiven: boolean;
  readonly dryRun: boolean;
}
