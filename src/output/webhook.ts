import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Enough for any webhook's answer (Slack: "ok", Teams: "1"); more is not a webhook answering. */
export const MAX_ANSWER_BYTES = 4096;

/**
 * POSTs a JSON message to a webhook (Slack and Teams read its `text`). Resolves to null on success, else to a
 * one-line cause; never throws, so a failed notification cannot hide the expiry status. `timeoutMs` bounds the
 * whole exchange: connection, request, status and the (capped) answer. Only a 2xx is a success; a redirect is not
 * followed. A `user:password@` in the URL is sent as HTTP Basic authentication. No cause names more of the URL than
 * its origin: the path and query of a webhook URL are its credential.
 */
export function postWebhook(url: URL, body: object, timeoutMs: number): Promise<string | null> {
  const payload = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': payload.length,
    'user-agent': 'apns-cert',
  };
  if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (cause: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(cause);
    };
    const timer = setTimeout(
      () => finish(`no complete answer within ${Math.round(timeoutMs / 100) / 10} s`),
      timeoutMs,
    );
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
      },
      (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_ANSWER_BYTES)
            finish(`the webhook's answer (HTTP ${status}) is longer than ${MAX_ANSWER_BYTES} bytes`);
        });
        response.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
        response.on('end', () => {
          if (status >= 200 && status < 300) finish(null);
          else if (status >= 300 && status < 400)
            finish(`the webhook answered HTTP ${status} (a redirect; apns-cert does not follow it)`);
          else finish(`the webhook answered HTTP ${status}`);
        });
        response.on('close', () => finish(`the webhook's answer (HTTP ${status}) was cut short`));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    req.end(payload);
  });
}
