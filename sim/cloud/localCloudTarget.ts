import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, type RunningCloud } from './startCloud.ts';

/** What a device configuration (sim/board/writeDeviceConfig.ts) needs to reach a local cloud with static keys. */
export interface LocalCloudTarget {
  readonly region: string;
  readonly endpoint: { readonly host: string; readonly port: number; readonly caFile: string };
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * The region, endpoint and example keys of `cloud` for a device configuration; `at` reaches it another way (a fault
 * proxy's port, a host name the device must resolve).
 */
export function localCloudTarget(cloud: RunningCloud, at: { readonly host?: string; readonly port?: number } = {}): LocalCloudTarget {
  const url = new URL(cloud.endpoint);
  return {
    region: 'us-east-1',
    endpoint: { host: at.host ?? url.hostname, port: at.port ?? Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
  };
}
