import { readFileSync } from 'node:fs';
import { FieldcamError } from '../shared/hostErrors.ts';
import type { HttpTarget } from '../../firmware/core/net/httpExchange.ts';

export interface AwsTarget {
  readonly region: string;
  readonly control: HttpTarget;
  /** PEM bundle from AWS_CA_BUNDLE, for the data endpoint too. */
  readonly ca?: string;
  readonly endpointUrl: string;
}

/**
 * Region, endpoint and CA bundle the way the AWS CLI resolves them: --region, then AWS_REGION /
 * AWS_DEFAULT_REGION; --endpoint-url, then AWS_ENDPOINT_URL_KINESIS_VIDEO / AWS_ENDPOINT_URL, else the
 * regional KVS endpoint; AWS_CA_BUNDLE for a private CA (the local cloud's).
 */
export function resolveAwsTarget(flags: { region?: string; endpointUrl?: string }, env: NodeJS.ProcessEnv = process.env): AwsTarget {
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new FieldcamError('CLI_USAGE', 'no region: pass --region or set AWS_REGION');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new FieldcamError('CLI_USAGE', `'${region}' is not an AWS region name (e.g. us-east-1)`);
  const endpointUrl = flags.endpointUrl ?? env.AWS_ENDPOINT_URL_KINESIS_VIDEO ?? env.AWS_ENDPOINT_URL ?? `https://kinesisvideo.${region}.amazonaws.com`;
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    throw new FieldcamError('CLI_USAGE', `--endpoint-url '${endpointUrl}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FieldcamError('CLI_USAGE', `--endpoint-url must be http(s), got ${url.protocol}`);
  let ca: string | undefined;
  if (env.AWS_CA_BUNDLE) {
    try {
      ca = readFileSync(env.AWS_CA_BUNDLE, 'utf8');
    } catch (err) {
      throw new FieldcamError('CONFIG_INVALID', `AWS_CA_BUNDLE=${env.AWS_CA_BUNDLE}: ${(err as Error).message}`);
    }
  }
  const tls = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    region,
    endpointUrl,
    ...(ca ? { ca } : {}),
    control: {
      host,
      port: url.port ? Number(url.port) : tls ? 443 : 80,
      ...(tls ? { tls: ca ? { ca } : {} } : {}),
    },
  };
}
