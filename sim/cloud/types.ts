// Contracts shared by the parts of the local cloud (sim/cloud). The server owns TLS, routing, state and
// authentication; feature modules (control plane, PutMedia, archived media) are route tables over this.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IamStore } from './iam/IamStore.ts';
import type { CertificateAuthority } from './iot/CertificateAuthority.ts';
import type { IotRegistry } from './iot/IotRegistry.ts';

/** A stream as DescribeStream reports it (kvs-reference.md §12). */
export interface StreamRecord {
  readonly StreamName: string;
  readonly StreamARN: string;
  readonly Status: 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING';
  readonly CreationTime: number; // epoch seconds, as the AWS JSON protocol sends timestamps
  readonly DataRetentionInHours: number;
  readonly MediaType?: string;
  readonly KmsKeyId: string;
  readonly Version: string;
  readonly DeviceName?: string;
  readonly Tags: Readonly<Record<string, string>>;
}

/** The streams, persisted under the state directory (every write atomic). */
export interface StreamStore {
  get(name: string): StreamRecord | undefined;
  getByArn(arn: string): StreamRecord | undefined;
  list(): StreamRecord[];
  put(record: StreamRecord): void;
  delete(name: string): void;
  /** A directory private to this stream (fragments live there). Created on demand. */
  dir(name: string): string;
}

/** Fault knobs (kvs-reference.md §4.8 item 10); changed at run time by tests and `fieldcam cloud --fault`. */
export interface Faults {
  /** Drop PutMedia connections after this many body bytes (then reset to undefined). */
  dropAfterBytes?: number;
  /** Delay every ACK by this many ms. */
  ackDelayMs?: number;
  /** Answer the next N fragments with ERROR <errorId> instead of persisting them. */
  errorAck?: { readonly errorId: 4000 | 5000 | 5001; remaining: number };
  /** Refuse the next N PutMedia requests with 400 ClientLimitExceededException. */
  throttle?: number;
  /** Treat credentials (session tokens) issued before this epoch-ms instant as expired (403 ExpiredTokenException). */
  expireTokensBefore?: number;
  /** Server clock offset in ms (skew the clock: SigV4 time checks, Date headers, timestamps). */
  clockSkewMs?: number;
  /**
   * The IoT credentials provider is down: `true` answers every request 503 ServiceUnavailableException (what
   * an AWS regional outage looks like behind its load balancers); `'reset'` drops every new connection
   * before the TLS handshake (what a network path failure looks like to the device).
   */
  credentialsDown?: boolean | 'reset';
}

export interface CloudConfig {
  readonly region: string;
  readonly accountId: string;
  /** Accepted static credentials, access key id → secret (default: the AWS documentation example pair). */
  readonly credentials: ReadonlyMap<string, string>;
  /** Max PutMedia connection duration, ms (KVS: 45 minutes, kvs-reference.md §4.7). */
  readonly maxConnectionMs: number;
  /** IDLE ACK period and idle close after last data, ms (KVS: close 30 s after the last data). */
  readonly idleAckMs: number;
  readonly idleCloseMs: number;
  /** Longest fragment accepted before ERROR 4002 (20 s quota, or 10 s strict; kvs-reference.md Q1). */
  readonly maxFragmentMs: number;
  /** Producer timestamps further than this in the future → ERROR 4007. */
  readonly maxFutureMs: number;
  /**
   * Enforce the control-plane TPS quotas of kvs-reference.md §6.1 (ClientLimitExceededException).
   * Default true; false only for load tests that hammer one stream on purpose.
   */
  readonly enforceTps?: boolean;
  /**
   * A test and simulation knob: `ctx.now()` runs this many times faster (whole numbers, 1 = real time), as
   * `fieldcam-runtime --time-scale N` runs a device's clocks, so that credential lifetimes, SigV4 time checks
   * and producer-timestamp checks pass in device time. Server-side timers that measure in `ctx.now()` (the
   * PutMedia idle ACK and close, the connection limit, the TPS windows) wait their duration / timeScale in
   * real time; fault delays (`ackDelayMs`) stay real milliseconds.
   */
  readonly timeScale?: number;
  /**
   * The real epoch-ms instant where the scaled clock starts: `ctx.now()` = origin + (Date.now() - origin) ×
   * timeScale. Default: when the cloud started. A device run with `--time-origin` at the same instant reads
   * the same time.
   */
  readonly timeOrigin?: number;
}

/** Temporary credentials (access key + secret + session token), as the IoT credentials provider issues them. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch ms after which requests signed with these get 403 ExpiredTokenException. */
  readonly expiration: number;
  /** Epoch ms (server clock) when issued; `faults.expireTokensBefore` compares against it. */
  readonly issuedAt: number;
  /**
   * The role these credentials act as, when the IoT credentials provider issued them: requests signed with
   * them are authorized against the role's inline policies. Absent: unrestricted, like the static keys.
   */
  readonly session?: AssumedRoleSession;
}

/** An IAM role assumed by the IoT credentials provider for a device certificate (kvs-reference.md §9). */
export interface AssumedRoleSession {
  readonly roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<role name>/<certificate id>`: what AccessDenied messages name. */
  readonly arn: string;
  /**
   * The session's policy variables: `credentials-iot:AwsCertificateId` always, `credentials-iot:ThingName`
   * and `credentials-iot:ThingTypeName` when the device named its thing (x-amzn-iot-thingname).
   */
  readonly variables: Readonly<Record<string, string>>;
}

/** The temporary credentials the cloud accepts; persisted in the state directory so restarts keep them. */
export interface TemporaryCredentialStore {
  /**
   * Mints fresh credentials (ASIA… key id, random secret and token) valid for `durationMs` from `ctx.now()`,
   * acting as `session` when given.
   */
  issue(durationMs: number, session?: AssumedRoleSession): TemporaryCredentials;
  /** Accepts credentials minted elsewhere (a test, a later IoT credentials provider). Replaces the same key id. */
  register(credentials: TemporaryCredentials): void;
  revoke(accessKeyId: string): void;
  get(accessKeyId: string): TemporaryCredentials | undefined;
}

/** Who signed a request, once SigV4 verification succeeded. */
export interface CallerIdentity {
  readonly accessKeyId: string;
  readonly sessionToken?: string;
  /** The assumed role, for credentials the IoT credentials provider issued. */
  readonly session?: AssumedRoleSession;
}

export interface CloudContext {
  readonly config: CloudConfig;
  readonly streams: StreamStore;
  readonly faults: Faults;
  /** Temporary credentials accepted next to the static ones of `config.credentials`. */
  readonly temporaryCredentials: TemporaryCredentialStore;
  /** https://127.0.0.1:<port> — what GetDataEndpoint returns. */
  readonly endpoint: string;
  /** Server time, epoch ms, including the clock-skew fault. */
  now(): number;
  /**
   * Verifies the request's SigV4 signature with @smithy/signature-v4 (an implementation independent of the
   * device's), for `service` (the scope's service name: `kinesisvideo` by default, `iot`, `iam`). `payloadHash`
   * is the hex SHA-256 of the body, or of the empty string for a streamed PutMedia body. Throws CloudError
   * (403) on any failure. The caller is remembered for `authorize`.
   */
  authenticate(req: IncomingMessage, payloadHash: string, service?: string): Promise<CallerIdentity>;
  /**
   * Authorizes the authenticated caller of `req` for `action` (`kinesisvideo:PutMedia`) on `resource` (an
   * ARN, or `*`): static keys and unrestricted temporary credentials may do anything; an assumed role is
   * held to its inline policies. Throws CloudError 403 AccessDeniedException naming the caller, the action
   * and `shown` (the resource as the request named it; default `resource`).
   */
  authorize(req: IncomingMessage, action: string, resource: string, shown?: string): void;
  /** AWS IoT things, certificates, policies and role aliases (sim/cloud/iot). */
  readonly iot: IotRegistry;
  /** IAM roles and their inline policies (sim/cloud/iam). */
  readonly iam: IamStore;
  /** Issues device certificates signed by the cloud's CA. */
  readonly ca: CertificateAuthority;
  /** DescribeEndpoint's answers by endpoint type: `127.0.0.1:<port>` (docs/architecture.md, "The local cloud"). */
  readonly iotEndpoints: Readonly<Record<string, string>>;
  log(event: string, fields?: Record<string, unknown>): void;
}

/** An error answered in the AWS JSON shape: HTTP status, x-amzn-ErrorType header, {"message": …} body. */
export class CloudError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: CloudContext) => Promise<void>;

/**
 * <method> <path> → handler. Control-plane and media APIs of KVS are all POST with JSON or streamed bodies;
 * IoT is REST (paths carry names), so a path ending in `/*` serves every path below it (longest wins).
 */
export interface Route {
  readonly method: 'POST' | 'GET' | 'PUT' | 'DELETE' | 'PATCH';
  readonly path: string;
  readonly handler: RouteHandler;
}
