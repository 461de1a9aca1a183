// Where and as whom an operator command talks: the AWS configuration resolved as the AWS CLI resolves it
// (awsClientConfig), the IoT control plane (ListThings, DescribeThing, DescribeEndpoint), the MQTT endpoint
// (--mqtt-endpoint, else DescribeEndpoint iot:Data-ATS), and credentials for the presigned WebSocket URL.
import { DescribeEndpointCommand, DescribeThingCommand, IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { readFileSync } from 'node:fs';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { awsClientConfig, type AwsStaticCredentials } from '../../aws/awsClientConfig.ts';
import { THING_TYPE } from '../provision/provisionNames.ts';
import { OperatorConnection, type OperatorConnectionOptions } from './OperatorConnection.ts';
import { presignMqttUrl, type MqttEndpoint } from './presignMqttUrl.ts';

export interface OperatorFlags {
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly profile?: string;
  readonly mqttEndpoint?: string;
}

/** The flags every operator command shares, for their CommandSpecs. */
export const OPERATOR_OPTIONS = Object.freeze({
  region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION / profile)' },
  'endpoint-url': { type: 'string', value: 'URL', help: 'IoT control-plane endpoint (e.g. the local cloud), for ListThings and DescribeEndpoint' },
  'mqtt-endpoint': { type: 'string', value: 'host[:port]', help: 'MQTT endpoint (default: DescribeEndpoint iot:Data-ATS); port 443 unless given' },
  profile: { type: 'string', value: 'name', help: 'AWS profile (default: AWS_PROFILE)' },
} as const);

export function operatorFlags(values: Record<string, unknown>): OperatorFlags {
  const pick = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const flags = { region: pick('region'), endpointUrl: pick('endpoint-url'), profile: pick('profile'), mqttEndpoint: pick('mqtt-endpoint') };
  if (flags.mqttEndpoint !== undefined) parseMqttEndpoint(flags.mqttEndpoint, '--mqtt-endpoint');
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as OperatorFlags;
}

/** `host[:port]` (what DescribeEndpoint answers: AWS a host name on 443, the local cloud `127.0.0.1:<port>`). */
export function parseMqttEndpoint(text: string, what: string): MqttEndpoint {
  const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[2] === undefined ? 443 : Number(m[2]);
  if (!m || port < 1 || port > 65_535)
    throw new FieldcamError('CLI_USAGE', `${what} '${text}' is not host[:port] (e.g. abc123-ats.iot.us-east-1.amazonaws.com or 127.0.0.1:4590)`);
  return { host: m[1]!, port };
}

function sdkFailure(what: string, err: unknown): FieldcamError {
  if (err instanceof FieldcamError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'CredentialsProviderError') {
    return new FieldcamError('CLI_AWS_FAILED', `${what}: no AWS credentials (${e.message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  }
  if (/Region is missing/i.test(e?.message ?? '')) return new FieldcamError('CLI_USAGE', 'no region: pass --region or set AWS_REGION');
  const status = e?.$metadata?.httpStatusCode;
  return new FieldcamError('CLI_AWS_FAILED', `${what}: ${e?.name ?? 'Error'}${status ? ` (${status})` : ''}: ${e?.message ?? String(err)}`);
}

/** Edit distance, for "did you mean" among thing names (both ≤ 128 characters). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** At most this many things are listed (ListThings pages of 250); a bigger fleet wants a filter. */
export const MAX_LISTED_THINGS = 10_000;

export class OperatorTarget {
  readonly region: string;
  readonly iot: IoTClient;
  readonly #flags: OperatorFlags;
  readonly #ca: string | undefined;
  readonly #explicit: AwsStaticCredentials | undefined;

  constructor(flags: OperatorFlags, env: Readonly<Record<string, string | undefined>> = process.env) {
    const config = awsClientConfig({ ...flags, env });
    if (!config.region) throw new FieldcamError('CLI_USAGE', 'no region: pass --region or set AWS_REGION');
    this.region = config.region;
    this.iot = new IoTClient({ ...config, maxAttempts: 2 });
    this.#flags = flags;
    this.#explicit = config.credentials;
    const caFile = env.AWS_CA_BUNDLE?.trim();
    // awsClientConfig already checked that the file reads and holds a certificate.
    this.#ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  }

  /** The fieldcam cameras (things of the type provision creates), sorted by name. */
  async listThings(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.iot
        .send(new ListThingsCommand({ thingTypeName: THING_TYPE, maxResults: 250, ...(nextToken ? { nextToken } : {}) }))
        .catch((err: unknown) => Promise.reject(sdkFailure('ListThings', err)));
      for (const t of page.things ?? []) if (t.thingName) names.push(t.thingName);
      nextToken = page.nextToken;
    } while (nextToken && names.length < MAX_LISTED_THINGS);
    return names.sort();
  }

  /** Fails with CLI_THING_UNKNOWN (and close names, when there are some) if the thing does not exist. */
  async requireThing(thing: string): Promise<void> {
    try {
      await this.iot.send(new DescribeThingCommand({ thingName: thing }));
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw sdkFailure('DescribeThing', err);
      const close = (await this.listThings().catch(() => [] as string[]))
        .map((name) => ({ name, d: distance(name.toLowerCase(), thing.toLowerCase()) }))
        .filter((c) => c.d <= Math.max(2, Math.floor(thing.length / 4)))
        .sort((a, b) => a.d - b.d)
        .slice(0, 5)
        .map((c) => c.name);
      throw new FieldcamError('CLI_THING_UNKNOWN', `no thing '${thing}' in ${this.region}${close.length ? `; did you mean ${close.join(', ')}?` : ''}`);
    }
  }

  async mqttEndpoint(): Promise<MqttEndpoint> {
    if (this.#flags.mqttEndpoint !== undefined) return parseMqttEndpoint(this.#flags.mqttEndpoint, '--mqtt-endpoint');
    const answer = await this.iot
      .send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))
      .catch((err: unknown) => Promise.reject(sdkFailure('DescribeEndpoint iot:Data-ATS', err)));
    if (!answer.endpointAddress) throw new FieldcamError('CLI_AWS_FAILED', 'DescribeEndpoint iot:Data-ATS answered no address');
    return parseMqttEndpoint(answer.endpointAddress, 'DescribeEndpoint answer');
  }

  async credentials(): Promise<AwsStaticCredentials> {
    if (this.#explicit) return this.#explicit;
    try {
      const c = await defaultProvider({ ...(this.#flags.profile ? { profile: this.#flags.profile } : {}) })();
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
    } catch (err) {
      throw sdkFailure('credentials', err);
    }
  }

  /** Resolves the endpoint, signs the URL and connects. */
  async connect(options: Omit<OperatorConnectionOptions, 'signUrl' | 'ca'>): Promise<OperatorConnection> {
    const endpoint = await this.mqttEndpoint();
    const signUrl = async (): Promise<string> => presignMqttUrl({ endpoint, region: this.region, credentials: await this.credentials() });
    return OperatorConnection.open({ ...options, signUrl, ...(this.#ca ? { ca: this.#ca } : {}) });
  }

  destroy(): void {
    this.iot.destroy();
  }
}
