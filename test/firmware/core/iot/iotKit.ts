// Helpers for the IoT credentials client suites: the provider's canned HTTP answers on the harness's FakeSocket
// (time and sockets come from test/harness/support.ts). Pure ECMAScript (XS too).
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import type { FakeSocket } from '../../../harness/support.ts';

export type Answer =
  | { readonly status: number; readonly body: string; readonly headers?: readonly string[] }
  | { readonly error: string; readonly code?: string };

/** The provider answers on `socket`: an HTTP response then an orderly close, or a connection error. */
export function answer(socket: FakeSocket, a: Answer): void {
  if ('error' in a) {
    const error = new Error(a.error) as Error & { code?: string };
    if (a.code) error.code = a.code;
    socket.options.onClose(error);
    return;
  }
  socket.options.onConnect();
  const body = encodeUtf8(a.body);
  const head = [`HTTP/1.1 ${a.status} X`, 'content-type: application/json', `content-length: ${body.length}`, ...(a.headers ?? []), '', ''].join('\r\n');
  const h = encodeUtf8(head);
  const all = new Uint8Array(h.length + body.length);
  all.set(h, 0);
  all.set(body, h.length);
  socket.deliver(all);
  if (!socket.closed) socket.options.onClose(undefined);
}

/** Lets promise jobs run (httpExchange resolves through several). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A provider answer: credentials valid for `lifetimeMs` from `nowMs`. */
export function credentialsBody(nowMs: number, lifetimeMs: number, id = 'ASIAEXAMPLEKEY000001'): string {
  const expiration = new Date(nowMs + lifetimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify({
    credentials: { accessKeyId: id, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN', expiration },
  });
}
