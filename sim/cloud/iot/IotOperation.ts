// What every AWS IoT operation of the local cloud shares: its request (path labels, query, JSON body), its
// errors (the IoT REST-JSON shape: `x-amzn-ErrorType` plus `{"message": …}` and, for
// ResourceAlreadyExistsException, `resourceId` / `resourceArn`), ARNs and model constraints (AWS IoT API
// reference, "Request Parameters" of each operation).
import type { IncomingMessage } from 'node:http';
import { CloudError, type CloudContext, type Route } from '../types.ts';

export interface IotRequest {
  /** The decoded path labels, in order (`/things/{thingName}/principals` → [thingName]). */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly req: IncomingMessage;
  readonly ctx: CloudContext;
}

export interface IotOperation {
  /** The operation name, as in the IAM action `iot:<name>`. */
  readonly name: string;
  readonly method: Route['method'];
  /** Matches the raw (still percent-encoded) path; each group is one label. */
  readonly path: RegExp;
  run(r: IotRequest): unknown;
}

/** An IoT error; `fields` are extra members of the error body (resourceId, resourceArn). */
export class IotError extends CloudError {
  readonly fields: Readonly<Record<string, string>>;
  constructor(status: number, type: string, message: string, fields: Record<string, string> = {}) {
    super(status, type, message);
    this.fields = fields;
  }
}

export function notFound(message: string): IotError {
  return new IotError(404, 'ResourceNotFoundException', message);
}

export function invalidRequest(message: string): IotError {
  return new IotError(400, 'InvalidRequestException', message);
}

export function alreadyExists(message: string, resourceId: string, resourceArn: string): IotError {
  return new IotError(409, 'ResourceAlreadyExistsException', message, { resourceId, resourceArn });
}

/** Model constraints of the IoT API (AWS IoT API reference). */
export const IOT_PATTERNS = Object.freeze({
  thingName: /^[a-zA-Z0-9:_-]+$/,
  thingTypeName: /^[a-zA-Z0-9:_-]+$/,
  certificateId: /^(0x)?[a-fA-F0-9]+$/,
  policyName: /^[\w+=,.@-]+$/,
  roleAlias: /^[\w=,@-]+$/,
  attributeName: /^[a-zA-Z0-9_.,@/:#-]+$/,
  attributeValue: /^[a-zA-Z0-9_.,@/:#=[\]-]*$/,
  thingTypeDescription: /^[\p{L}\p{N}\p{P}\p{S}\p{Z}]*$/u,
  nextToken: /^[a-zA-Z0-9+/=]*$/,
} as const);

export type IotResource = 'thing' | 'thingtype' | 'cert' | 'policy' | 'rolealias';

/** `arn:aws:iot:<region>:<account>:<resource>/<name>` (IAM "Resource types defined by AWS IoT"). */
export function iotArn(ctx: CloudContext, resource: IotResource, name: string): string {
  return `arn:aws:iot:${ctx.config.region}:${ctx.config.accountId}:${resource}/${name}`;
}

/** REST-JSON timestamps are epoch seconds. */
export function seconds(ms: number): number {
  return ms / 1000;
}

/** `true` / `false` query flags (setAsActive); anything else is a bad request. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidRequest(`${name} must be true or false, got '${value}'.`);
}

/** Whole-number query parameters (maxResults), as numbers for the validator. */
export function queryNumber(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^-?\d{1,10}$/.test(value)) throw invalidRequest(`${name} must be a whole number, got '${value}'.`);
  return Number(value);
}

/** A page of names after `nextToken` (base64 of the last name of the previous page), and the next token. */
export function page<T>(items: readonly T[], keyOf: (item: T) => string, max: number, token: string | undefined): { items: T[]; nextToken?: string } {
  let start = 0;
  if (token !== undefined && token !== '') {
    const after = Buffer.from(token, 'base64').toString('utf8');
    if (Buffer.from(after, 'utf8').toString('base64') !== token)
      throw invalidRequest('The nextToken is not valid; pass the nextToken of the previous response.');
    start = items.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + max);
  const more = start + max < items.length;
  return more ? { items: slice, nextToken: Buffer.from(keyOf(slice[slice.length - 1]!), 'utf8').toString('base64') } : { items: slice };
}
