// The URL of AWS IoT's MQTT-over-WebSocket endpoint for an IAM principal: `wss://<iot:Data-ATS>/mqtt` with a
// SigV4 query-string signature (AWS IoT developer guide, "MQTT over WebSocket protocol": service
// `iotdevicegateway`, signed header `host`, the SHA-256 of an empty payload). AWS IoT's quirk: a session token
// is NOT part of the canonical query string; X-Amz-Security-Token is appended after the signature.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsStaticCredentials } from '../../aws/awsClientConfig.ts';

export interface MqttEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface PresignMqttUrlOptions {
  readonly endpoint: MqttEndpoint;
  readonly region: string;
  readonly credentials: AwsStaticCredentials;
  /** Seconds the URL may be used to open a connection (X-Amz-Expires); an open connection is not cut. */
  readonly expiresIn?: number;
  /** Signing time; default now. */
  readonly date?: Date;
}

/** Default lifetime of a presigned URL: one connection attempt plus its reconnects over the next hour. */
export const MQTT_URL_EXPIRES_S = 3600;

export async function presignMqttUrl(options: PresignMqttUrlOptions): Promise<string> {
  const { endpoint, region, credentials } = options;
  const signer = new SignatureV4({
    service: 'iotdevicegateway',
    region,
    // The token is added after signing, so the signer never sees it.
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    sha256: Sha256,
  });
  // The Host header a WebSocket client sends: the port is part of it unless it is 443 (RFC 9110 §7.2).
  const hostHeader = endpoint.port === 443 ? endpoint.host : `${endpoint.host}:${endpoint.port}`;
  const signed = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname: endpoint.host, port: endpoint.port, path: '/mqtt', query: {}, headers: { host: hostHeader } },
    { expiresIn: options.expiresIn ?? MQTT_URL_EXPIRES_S, ...(options.date ? { signingDate: options.date } : {}) },
  );
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    if (typeof value === 'string') query.append(name, value);
  }
  if (credentials.sessionToken) query.append('X-Amz-Security-Token', credentials.sessionToken);
  return `wss://${hostHeader}/mqtt?${query.toString()}`;
}
