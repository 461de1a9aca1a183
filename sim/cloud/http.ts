// HTTP plumbing shared by every route table of the local cloud: bodies, hashes, JSON answers, and errors in
// the AWS REST-JSON shape that the SDK v3 deserializer reads (x-amzn-ErrorType header first, then the body).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloudError, type CloudContext, type Route } from './types.ts';

/** Control-plane bodies are small JSON documents; anything larger is refused before it is buffered. */
export const MAX_JSON_BODY = 1 << 20;

/**
 * Errors raised by AWS's front door (authentication, routing, parsing) carry `{"message": …}`; errors that
 * KVS itself models carry `{"Message": …}` — the member name in the service model, and what the real
 * service sends (e.g. `{"Message":"The requested stream is not found or not active."}`). The SDK reads
 * either for `err.message`, and only `Message` for the modeled member.
 */
const FRONT_DOOR_ERRORS: ReadonlySet<string> = new Set([
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'UnknownOperationException',
  'SerializationException',
  'RequestEntityTooLargeException',
  'InternalFailure',
]);

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a whole request body, refusing more than `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new CloudError(413, 'RequestEntityTooLargeException', `Request body of ${declared} bytes exceeds ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new CloudError(413, 'RequestEntityTooLargeException', `Request body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function writeJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

/** Answers `err` as AWS does: status, `x-amzn-ErrorType: <Type>:`, JSON body with the message. */
export function writeCloudError(res: ServerResponse, err: CloudError, closeConnection = false): void {
  const key = FRONT_DOOR_ERRORS.has(err.type) ? 'message' : 'Message';
  const body = Buffer.from(JSON.stringify({ [key]: err.message }), 'utf8');
  const headers: Record<string, string | number> = {
    'x-amzn-ErrorType': `${err.type}:`,
    'Content-Type': 'application/json',
    'Content-Length': body.length,
  };
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(err.status, headers);
  res.end(body);
}

export type JsonHandler = (input: Record<string, unknown>, ctx: CloudContext, req: IncomingMessage) => Promise<unknown> | unknown;

/**
 * A POST route with a JSON body, signed over the SHA-256 of that body: read, authenticate, parse, handle,
 * answer 200 with the handler's value as JSON (`{}` when it returns nothing).
 */
export function jsonRoute(path: string, handler: JsonHandler): Route {
  return Object.freeze({
    method: 'POST',
    path,
    async handler(req: IncomingMessage, res: ServerResponse, ctx: CloudContext) {
      const input = await readJsonRequest(req, ctx);
      const output = await handler(input, ctx, req);
      writeJson(res, 200, output ?? {});
    },
  } as const);
}

/**
 * Reads a JSON request body, authenticates the request with SigV4 over the body's SHA-256, and parses it
 * (an empty body is `{}`). Malformed JSON or a non-object is 400 SerializationException, as AWS answers.
 */
export async function readJsonRequest(req: IncomingMessage, ctx: CloudContext): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  await ctx.authenticate(req, sha256Hex(body));
  return parseJsonObject(body);
}

/** A JSON request body as an object (an empty body is `{}`); otherwise 400 SerializationException, as AWS answers. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let input: unknown = {};
  if (body.length > 0) {
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      throw new CloudError(400, 'SerializationException', 'The request body is not valid JSON');
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CloudError(400, 'SerializationException', 'The request body must be a JSON object');
  }
  return input as Record<string, unknown>;
}
