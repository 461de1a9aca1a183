// The AWS IoT control plane (API version 2015-05-28) as the unmodified @aws-sdk/client-iot sends it: REST
// with names in the path, JSON bodies, SigV4 scoped to the service `iot`, errors as `x-amzn-ErrorType` plus
// `{"message": …}`. One dispatcher serves every operation of certificateOperations, policyOperations,
// roleAliasOperations and thingOperations (DeletePolicyVersion is a DELETE, SetDefaultPolicyVersion a PATCH).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJsonObject, readBody, sha256Hex, writeJson } from '../http.ts';
import { CloudError, type CloudContext, type Route } from '../types.ts';
import { certificateOperations } from './certificateOperations.ts';
import { IotError, type IotOperation } from './IotOperation.ts';
import { policyOperations } from './policyOperations.ts';
import { roleAliasOperations } from './roleAliasOperations.ts';
import { thingOperations } from './thingOperations.ts';

const OPERATIONS: readonly IotOperation[] = Object.freeze([...thingOperations, ...certificateOperations, ...policyOperations, ...roleAliasOperations]);

function writeIotError(res: ServerResponse, err: CloudError, closeConnection: boolean): void {
  // Model validation is InvalidRequestException in IoT (InvalidArgumentException in KVS, whose validator we share).
  const type = err.type === 'InvalidArgumentException' ? 'InvalidRequestException' : err.type;
  const fields = err instanceof IotError ? err.fields : {};
  const body = Buffer.from(JSON.stringify({ message: err.message, ...fields }), 'utf8');
  const headers: Record<string, string | number> = { 'x-amzn-ErrorType': `${type}:`, 'Content-Type': 'application/json', 'Content-Length': body.length };
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(err.status, headers);
  res.end(body);
}

function decodeLabels(match: RegExpExecArray): string[] {
  return match.slice(1).map((label) => {
    try {
      return decodeURIComponent(label!);
    } catch {
      throw new IotError(400, 'InvalidRequestException', `The path segment '${label}' is not valid percent-encoding.`);
    }
  });
}

async function dispatch(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  try {
    const body = await readBody(req);
    await ctx.authenticate(req, sha256Hex(body), 'iot');
    const url = new URL(req.url ?? '/', 'https://iot.invalid');
    let match: RegExpExecArray | null = null;
    const operation = OPERATIONS.find((op) => op.method === req.method && (match = op.path.exec(url.pathname)) !== null);
    if (!operation || !match) throw new CloudError(404, 'UnknownOperationException', `No IoT operation ${req.method} ${url.pathname}`);
    const input = parseJsonObject(body);
    const output = await operation.run({ params: decodeLabels(match), query: url.searchParams, body: input, req, ctx });
    writeJson(res, 200, output ?? {});
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof CloudError) {
      writeIotError(res, err, !req.complete);
      return;
    }
    ctx.log('internal-error', { path: req.url, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    writeIotError(res, new CloudError(500, 'InternalFailureException', 'An unexpected error has occurred.'), !req.complete);
  }
}

/** The paths of the IoT API (`/*`: every path below); each (method, path) pair routes to the dispatcher. */
const PATHS = Object.freeze([
  '/things',
  '/things/*',
  '/thing-types/*',
  '/keys-and-certificate',
  '/certificates',
  '/certificates/*',
  '/policies/*',
  '/target-policies/*',
  '/role-aliases/*',
  '/endpoint',
] as const);

export const iotRoutes: readonly Route[] = Object.freeze(
  PATHS.flatMap((path) => (['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const).map((method): Route => Object.freeze({ method, path, handler: dispatch }))),
);
