// Plain HTTPS requests of `fieldcam doctor` with node:https: the server's Date and TLS verdict against the
// bundle's CA, and the IoT credentials call over mTLS (kvs-reference.md §9.1 step 10, what curl does there).
import { request } from 'node:https';

export interface HttpsAnswer {
  readonly status: number;
  readonly date: string | undefined;
  readonly errorType: string | undefined;
  readonly body: string;
}

export interface HttpsFailure {
  readonly error: NodeJS.ErrnoException;
}

export interface HttpsRequest {
  readonly url: string;
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: Record<string, string>;
  readonly method?: 'GET' | 'HEAD';
  readonly timeoutMs?: number;
}

export function httpsRequest(r: HttpsRequest): Promise<HttpsAnswer | HttpsFailure> {
  return new Promise((done) => {
    let url: URL;
    try {
      url = new URL(r.url);
    } catch (err) {
      done({ error: err as NodeJS.ErrnoException });
      return;
    }
    const req = request(
      {
        host: url.hostname,
        port: url.port || 443,
        path: url.pathname + url.search,
        method: r.method ?? 'GET',
        headers: r.headers ?? {},
        ca: r.ca,
        ...(r.cert !== undefined ? { cert: r.cert } : {}),
        ...(r.key !== undefined ? { key: r.key } : {}),
        agent: false,
        timeout: r.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const type = res.headers['x-amzn-errortype'];
          done({
            status: res.statusCode ?? 0,
            date: res.headers.date,
            errorType: (Array.isArray(type) ? type[0] : type)?.replace(/:.*$/, ''),
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within the timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => done({ error }));
    req.end();
  });
}

/** TLS failures where the client could not verify the server with the given CA. */
export const SERVER_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
