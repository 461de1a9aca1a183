// The child-process side of cloudProcess.ts: starts the local cloud (control plane and media, as
// `fieldcam cloud` serves them) with the options given as JSON in argv[2], prints one JSON line with its
// endpoints, then one JSON line per logged event, and closes on SIGTERM. Not a suite.
import { controlPlaneRoutes } from '../../../sim/cloud/kvs/controlPlane.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { startCloud, type StartCloudOptions } from '../../../sim/cloud/startCloud.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as Pick<StartCloudOptions, 'stateDir' | 'config' | 'connectionTimeouts'>;
const cloud = await startCloud({
  ...options,
  routes: [...controlPlaneRoutes, ...mediaRoutes],
  log: (event, fields) => process.stdout.write(JSON.stringify({ event, fields }) + '\n'),
});
process.stdout.write(
  JSON.stringify({
    ready: {
      pid: process.pid,
      endpoint: cloud.endpoint,
      credentialsEndpoint: cloud.credentialsEndpoint,
      caFile: cloud.caFile,
      mqttPort: cloud.mqtt.port,
      region: cloud.ctx.config.region,
      accountId: cloud.ctx.config.accountId,
    },
  }) + '\n',
);
process.once('SIGTERM', () => {
  void cloud.close().then(() => process.exit(0));
});
