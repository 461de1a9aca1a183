import type { SocketFactory, TlsOptions } from '../../io/Socket.ts';
import type { TimerPort } from '../../io/Timer.ts';
import { FieldcamError } from '../errors.ts';
import { HttpResponseParser } from '../http/HttpResponseParser.ts';
import { writeRequestHead } from '../http/writeRequestHead.ts';
import { ViewList } from '../media/ViewList.ts';
import { NET_DEADLINE_DEFAULTS, PhaseDeadline, type NetDeadlines } from './PhaseDeadline.ts';
import { socketError } from './socketError.ts';

export interface HttpTarget {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/** Largest response body kept (control-plane JSON); larger is UPLOAD_BAD_RESPONSE. */
const MAX_BODY = 64 * 1024;
const HEAD_SCRATCH = 8 * 1024;

/**
 * One request/response on a fresh connection (control-plane calls: small JSON both ways). Rejects with
 * UPLOAD_NETWORK, UPLOAD_BAD_RESPONSE, a phase deadline's code (NET_CONNECT_TIMEOUT, NET_TLS_TIMEOUT,
 * HTTP_HEAD_TIMEOUT) or, when the whole exchange outlasts `timeoutMs`, UPLOAD_TIMEOUT; an HTTP error status
 * is a result, not a rejection. Without `timeoutMs` the whole exchange may take what its phases may: connect +
 * TLS + response head (the body of a control-plane answer is small), so a board's `net` deadlines bound it too.
 */
export function httpExchange(
  deps: { readonly sockets: SocketFactory; readonly timers: TimerPort; readonly deadlines?: NetDeadlines },
  target: HttpTarget,
  request: { readonly method: string; readonly path: string; readonly headers: readonly (readonly [string, string])[] },
  body: Uint8Array,
  timeoutMs?: number,
): Promise<HttpResult> {
  const phases = deps.deadlines ?? NET_DEADLINE_DEFAULTS;
  const boundMs = timeoutMs ?? phases.connectMs + phases.tlsMs + phases.headMs;
  return new Promise((resolve, reject) => {
    const head = new Uint8Array(HEAD_SCRATCH);
    const headLength = writeRequestHead(request.method, request.path, request.headers as [string, string][], head);
    const received = new Uint8Array(16 * 1024);
    const chunks: Uint8Array[] = [];
    let bodyBytes = 0;
    let status = 0;
    let headers: readonly (readonly [string, string])[] = [];
    let settled = false;
    const finish = (err: FieldcamError | undefined, result?: HttpResult) => {
      if (settled) return;
      settled = true;
      deps.timers.clear(timer);
      deadline.clear();
      socket.close();
      if (err) reject(err);
      else resolve(result!);
    };
    const parser = new HttpResponseParser({
      onHead(code, _reason, list) {
        deadline.clear();
        status = code;
        headers = list.map(([k, v]) => [k, v] as const);
      },
      onBody(bytes, offset, length) {
        bodyBytes += length;
        if (bodyBytes > MAX_BODY) {
          finish(new FieldcamError('UPLOAD_BAD_RESPONSE', `response body from ${target.host} exceeds ${MAX_BODY} bytes`));
          return;
        }
        chunks.push(bytes.slice(offset, offset + length));
      },
      onEnd() {
        const all = new Uint8Array(bodyBytes);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.length;
        }
        finish(undefined, { status, headers, body: all });
      },
    });
    // The whole exchange's bound; when it runs out inside a timed phase, the error names that phase.
    const timer = deps.timers.set(boundMs, () => {
      if (!deadline.expire(boundMs))
        finish(new FieldcamError('UPLOAD_TIMEOUT', `${request.method} ${request.path} to ${target.host}:${target.port}: no answer in ${boundMs} ms`));
    });
    const deadline = new PhaseDeadline(deps.timers, phases, `${request.method} ${request.path} to ${target.host}:${target.port}`, (error) => finish(error));
    deadline.enterConnect(target.tls !== undefined);
    const socket = deps.sockets({
      host: target.host,
      port: target.port,
      ...(target.tls ? { tls: target.tls } : {}),
      onTransportConnect() {
        if (!settled) deadline.enter('tls');
      },
      onConnect() {
        if (settled) return;
        deadline.enter('head');
        const views = new ViewList(2);
        views.push(head, 0, headLength);
        views.push(body, 0, body.length);
        socket.write(views);
      },
      onReadable() {
        try {
          for (let n = socket.read(received, 0, received.length); n > 0 && !settled; n = socket.read(received, 0, received.length)) {
            parser.push(received, 0, n);
          }
        } catch (err) {
          finish(
            err instanceof FieldcamError
              ? new FieldcamError('UPLOAD_BAD_RESPONSE', `${target.host}: ${err.message}`)
              : new FieldcamError('UPLOAD_BAD_RESPONSE', String(err)),
          );
        }
      },
      onWritable() {},
      onClose(error) {
        if (settled) return;
        if (error) {
          finish(socketError(error, `${target.host}:${target.port}`));
          return;
        }
        try {
          parser.end();
        } catch (err) {
          finish(new FieldcamError('UPLOAD_NETWORK', `${target.host}:${target.port} closed the connection early: ${(err as Error).message}`));
        }
      },
    });
  });
}

/** A response header value (names are lowercase), or undefined. */
export function headerValue(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  for (const [k, v] of headers) if (k === name) return v;
  return undefined;
}
