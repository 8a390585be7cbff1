import { isIP } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** One HTTP request and its answer, as the clients of src/net/ and the webhook send it. */
export interface Exchange {
  method: 'GET' | 'PUT' | 'POST';
  url: URL;
  /** The text of a --ca-file: replaces the system's CAs for https:. */
  caPem?: string | undefined;
  headers: Record<string, string>;
  body?: Buffer;
  /** Bounds the whole exchange: connection, TLS, request, status and the (capped) answer. */
  timeoutMs: number;
  /** An answer longer than this is not the server answering: the exchange ends there. */
  maxAnswerBytes: number;
}

/** How an exchange ended; `code` and `status` are for the caller's wording, which decides what to show. */
export type ExchangeResult =
  | { kind: 'answer'; status: number; body: string }
  /** A connection, TLS or socket error (its code, else its message). */
  | { kind: 'error'; code: string }
  | { kind: 'timeout' }
  | { kind: 'cut-short'; status: number }
  | { kind: 'too-long'; status: number };

/**
 * Sends one request and reads its answer; never throws. Redirects are not followed, and no agent is used, so no
 * connection (or TLS session) outlives the exchange.
 */
export function exchange(x: Exchange): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ExchangeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      resolve(result);
    };
    const failed = (error: NodeJS.ErrnoException) => finish({ kind: 'error', code: error.code ?? error.message });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), x.timeoutMs);
    const headers: Record<string, string | number> = { ...x.headers, 'user-agent': 'apns-cert' };
    if (x.body !== undefined) headers['content-length'] = x.body.length;
    const https = x.url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    let req: ReturnType<typeof send> | undefined;
    try {
      req = send(
        {
          protocol: x.url.protocol,
          hostname: x.url.hostname.replace(/^\[|\]$/g, ''),
          port: x.url.port || undefined,
          path: `${x.url.pathname}${x.url.search}`,
          method: x.method,
          headers,
          ...(https && x.caPem !== undefined ? { ca: x.caPem } : {}),
          agent: false,
        },
        (response: IncomingMessage) => {
          const status = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > x.maxAnswerBytes) finish({ kind: 'too-long', status });
            else chunks.push(chunk);
          });
          response.on('error', failed);
          response.on('end', () => finish({ kind: 'answer', status, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('close', () => finish({ kind: 'cut-short', status }));
        },
      );
    } catch (error) {
      // node refuses the request itself (a header with a control character: ERR_INVALID_CHAR), before any connection
      failed(error as NodeJS.ErrnoException);
      return;
    }
    req.on('error', failed);
    req.end(x.body);
  });
}

/** "within 2.5 s": the timeout in words. */
export const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and localhost: where plain HTTP may go (tests, a local proxy). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || host === '0:0:0:0:0:0:0:1';
  return false;
}
