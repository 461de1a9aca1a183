import { resolve } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import {
  controlPlaneRoutes,
  DEFAULT_CONFIG,
  EXAMPLE_ACCESS_KEY_ID,
  EXAMPLE_SECRET_ACCESS_KEY,
  mediaRoutes,
  startCloud,
  viewerUrl,
  type Route,
} from '../../sim/index.ts';
import { EXIT } from '../lib/CliError.ts';
import { fingerprintSecret } from '../shared/fingerprintSecret.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';

/** Next to LocalStack's 4566 but not on it, so both can run on one machine. */
export const DEFAULT_CLOUD_PORT = 4590;
export const DEFAULT_CREDENTIALS_PORT = 4591;
/** MQTT's registered TLS port (IANA secure-mqtt), as AWS IoT serves device MQTT on. */
export const DEFAULT_MQTT_PORT = 8883;

const spec: CommandSpec = {
  name: 'cloud',
  usage: 'cloud [options]',
  summary:
    'Runs the local AWS emulator on https://127.0.0.1 — Kinesis Video Streams, AWS IoT, IAM, the IoT credentials\n' +
    'provider (mTLS, its own port) and the IoT MQTT broker (its own port) — for devices, fieldcam and the unmodified AWS CLI / SDKs. State (streams, media,\n' +
    'things, certificates, roles, the CA) persists in the state directory. Stop with Ctrl-C.',
  options: {
    'state-dir': { type: 'string', value: 'dir', help: 'where state, the CA and media live (default: ./.state/cloud)' },
    port: { type: 'string', value: 'n', help: `TCP port on 127.0.0.1 (default: ${DEFAULT_CLOUD_PORT}; 0 = any free port)` },
    'credentials-port': {
      type: 'string',
      value: 'n',
      help: `port of the IoT credentials provider (mTLS; default: ${DEFAULT_CREDENTIALS_PORT}; 0 = any free port)`,
    },
    'mqtt-port': {
      type: 'string',
      value: 'n',
      help: `port of the MQTT broker (TLS + client certificate, and WSS at /mqtt; default: ${DEFAULT_MQTT_PORT}; 0 = any free port)`,
    },
    region: { type: 'string', value: 'name', help: `the region requests must be signed for (default: ${DEFAULT_CONFIG.region})` },
    'access-key-id': { type: 'string', value: 'id', help: `accepted access key id (default: ${EXAMPLE_ACCESS_KEY_ID}, the AWS documentation example)` },
    'secret-access-key': { type: 'string', value: 'key', help: 'its secret (required with --access-key-id)' },
    quiet: { type: 'boolean', help: 'do not log each request' },
  },
  details:
    'On start it prints the export line for AWS_CA_BUNDLE, the credentials and the region. Then, e.g.:\n' +
    `  aws kinesisvideo create-stream --stream-name cam1 --data-retention-in-hours 24 --endpoint-url https://127.0.0.1:${DEFAULT_CLOUD_PORT}`,
};

/** Quotes a value for a POSIX shell when it needs it. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=+@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment to point clients at the cloud. The AWS documentation's example key is printed whole (it is
 * public, and copy-paste is the point); a secret given with --secret-access-key never is — the operator has
 * it, the banner only shows its fingerprint so a mismatch can be told apart.
 */
function exportLines(caFile: string, accessKeyId: string, secretAccessKey: string, region: string): string[] {
  const example = secretAccessKey === EXAMPLE_SECRET_ACCESS_KEY;
  const secret = example ? ` AWS_SECRET_ACCESS_KEY=${shellQuote(secretAccessKey)}` : '';
  const line = `  export AWS_CA_BUNDLE=${shellQuote(caFile)} AWS_ACCESS_KEY_ID=${shellQuote(accessKeyId)}${secret} AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`;
  return example ? [line] : [line, `  and AWS_SECRET_ACCESS_KEY: the key given with --secret-access-key (${fingerprintSecret(secretAccessKey)})`];
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

/** One concise line per event on stderr; a signature mismatch also shows the canonical request we expected. */
function logEvent(quiet: boolean): (event: string, fields: Record<string, unknown>) => void {
  return (event, fields) => {
    if (event === 'request') {
      if (quiet) return;
      const f = fields as { method: string; path: string; status: number; ms: number; error?: string };
      process.stderr.write(`${clock()} ${f.method} ${f.path} ${f.status} ${f.ms}ms${f.error ? ` ${f.error}` : ''}\n`);
      return;
    }
    const { expectedCanonicalRequest, ...rest } = fields;
    const pairs = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    process.stderr.write(`${clock()} ${event} ${pairs.join(' ')}\n`);
    if (typeof expectedCanonicalRequest === 'string') {
      process.stderr.write(`  expected canonical request:\n${expectedCanonicalRequest.replace(/^/gm, '    ')}\n`);
    }
  };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      done(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const cloudCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const stateDir = resolve(typeof values['state-dir'] === 'string' ? values['state-dir'] : '.state/cloud');
    const port = numberFlag(spec, 'port', values.port, 0, 65535) ?? DEFAULT_CLOUD_PORT;
    if (!Number.isInteger(port)) throw new FieldcamError('CLI_USAGE', `cloud: --port must be a whole number, got '${String(values.port)}'`);
    const credentialsPort = numberFlag(spec, 'credentials-port', values['credentials-port'], 0, 65535) ?? (port === 0 ? 0 : DEFAULT_CREDENTIALS_PORT);
    if (!Number.isInteger(credentialsPort)) throw new FieldcamError('CLI_USAGE', 'cloud: --credentials-port must be a whole number');
    const mqttPort = numberFlag(spec, 'mqtt-port', values['mqtt-port'], 0, 65535) ?? (port === 0 ? 0 : DEFAULT_MQTT_PORT);
    if (!Number.isInteger(mqttPort)) throw new FieldcamError('CLI_USAGE', 'cloud: --mqtt-port must be a whole number');
    const region = typeof values.region === 'string' ? values.region : DEFAULT_CONFIG.region;
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new FieldcamError('CLI_USAGE', `cloud: '${region}' is not an AWS region name (e.g. us-east-1)`);
    const keyId = values['access-key-id'];
    const secret = values['secret-access-key'];
    if ((keyId === undefined) !== (secret === undefined)) {
      throw new FieldcamError('CLI_USAGE', 'cloud: --access-key-id and --secret-access-key go together');
    }
    const accessKeyId = typeof keyId === 'string' ? keyId : EXAMPLE_ACCESS_KEY_ID;
    const secretAccessKey = typeof secret === 'string' ? secret : EXAMPLE_SECRET_ACCESS_KEY;
    if (!/^[A-Z0-9]{4,128}$/.test(accessKeyId)) throw new FieldcamError('CLI_USAGE', 'cloud: --access-key-id must be upper-case letters and digits');
    if (secretAccessKey === '') throw new FieldcamError('CLI_USAGE', 'cloud: --secret-access-key must not be empty');

    const routes: Route[] = [...controlPlaneRoutes, ...mediaRoutes];

    let cloud;
    try {
      cloud = await startCloud({
        stateDir,
        port,
        credentialsPort,
        mqttPort,
        routes,
        config: { region, credentials: new Map([[accessKeyId, secretAccessKey]]) },
        log: logEvent(values.quiet === true),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new FieldcamError(
          'CLI_USAGE',
          `cloud: port ${port}, ${credentialsPort} or ${mqttPort} on 127.0.0.1 is in use; pick others with --port / --credentials-port / --mqtt-port (0 = any free port)`,
        );
      }
      throw err;
    }
    const { endpoint, caFile } = cloud;
    process.stdout.write(
      [
        `fieldcam cloud: Kinesis Video Streams, IoT and IAM on ${endpoint} (region ${region}, account ${cloud.ctx.config.accountId})`,
        `viewer: ${viewerUrl(endpoint)} (streams, live player, timeline, clips; the browser must accept the cloud's CA)`,
        `IoT credentials provider (mTLS) on ${cloud.credentialsEndpoint}`,
        `MQTT broker (iot:Data-ATS) on ${cloud.mqtt.endpoint}: mqtts:// with a device certificate, wss://${cloud.mqtt.endpoint}/mqtt with SigV4`,
        `state: ${stateDir}`,
        '',
        'Point the AWS CLI, SDKs and fieldcam at it:',
        ...exportLines(caFile, accessKeyId, secretAccessKey, region),
        `  aws kinesisvideo list-streams --endpoint-url ${endpoint}`,
        '',
        `endpoint-url: ${endpoint}`,
        'Ctrl-C stops it.',
        '',
      ].join('\n'),
    );
    const signal = await waitForSignal();
    process.stderr.write(`fieldcam cloud: ${signal}, stopping\n`);
    await cloud.close();
    return EXIT.OK;
  },
};
