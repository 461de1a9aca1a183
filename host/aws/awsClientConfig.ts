// Configuration for AWS SDK v3 clients, resolved the way the AWS CLI resolves it, so `fieldcam` commands and
// `aws` commands given the same flags and environment talk to the same place with the same identity:
//   region       --region, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` (SDK)
//   endpoint     --endpoint-url, else AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL / profile (SDK)
//   credentials  explicit keys, else the SDK default chain: env, --profile / AWS_PROFILE, SSO, process, IMDS…
//   trust        --ca-bundle, else AWS_CA_BUNDLE: a PEM file that REPLACES the default CAs, as the CLI does;
//                the SDK for JavaScript ignores AWS_CA_BUNDLE on its own.
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { FieldcamError } from '../shared/hostErrors.ts';

export interface AwsStaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsClientOptions {
  /** --region */
  readonly region?: string;
  /** --endpoint-url */
  readonly endpointUrl?: string;
  /** --profile (otherwise AWS_PROFILE, read by the SDK) */
  readonly profile?: string;
  /** --ca-bundle: path of a PEM bundle (otherwise AWS_CA_BUNDLE). */
  readonly caBundle?: string;
  /** Explicit keys, bypassing the default chain. */
  readonly credentials?: AwsStaticCredentials;
  /** The environment to read; default process.env (tests pass their own). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The subset of SDK v3 client configuration fieldcam sets; spread it into any client's constructor. */
export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  profile?: string;
  credentials?: AwsStaticCredentials;
  requestHandler?: NodeHttpHandler;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function awsClientConfig(options: AwsClientOptions = {}): AwsClientConfig {
  const env = options.env ?? process.env;
  const config: AwsClientConfig = {};

  const region = nonEmpty(options.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined) {
    if (!/^[a-z0-9-]+$/.test(region)) throw new FieldcamError('CLI_USAGE', `'${region}' is not an AWS region name (e.g. us-east-1)`);
    config.region = region;
  }

  const endpoint = nonEmpty(options.endpointUrl);
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new FieldcamError('CLI_USAGE', `--endpoint-url '${endpoint}' is not a URL (e.g. https://127.0.0.1:4590)`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new FieldcamError('CLI_USAGE', `--endpoint-url '${endpoint}' must be an http:// or https:// URL`);
    }
    config.endpoint = endpoint;
  }

  const profile = nonEmpty(options.profile);
  if (profile !== undefined) config.profile = profile;

  if (options.credentials) {
    const { accessKeyId, secretAccessKey, sessionToken } = options.credentials;
    if (!accessKeyId || !secretAccessKey) throw new FieldcamError('CLI_USAGE', 'both an access key id and a secret access key are needed');
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }

  const caBundle = nonEmpty(options.caBundle) ?? nonEmpty(env.AWS_CA_BUNDLE);
  if (caBundle !== undefined) {
    let ca: string;
    try {
      ca = readFileSync(caBundle, 'utf8');
    } catch (err) {
      throw new FieldcamError('CLI_INPUT_NOT_FOUND', `the CA bundle ${caBundle} (AWS_CA_BUNDLE / --ca-bundle) cannot be read: ${(err as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new FieldcamError('CLI_INPUT_NOT_FOUND', `the CA bundle ${caBundle} holds no PEM certificate`);
    }
    config.requestHandler = new NodeHttpHandler({ httpsAgent: new Agent({ ca, keepAlive: true }) });
  }
  return config;
}
