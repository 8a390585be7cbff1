import { exchange, seconds } from '../net/http-exchange.js';

/** Enough for any webhook's answer (Slack: "ok", Teams: "1"); more is not a webhook answering. */
export const MAX_ANSWER_BYTES = 4096;

/**
 * POSTs a JSON message to a webhook (Slack and Teams read its `text`). Resolves to null on success, else to a
 * one-line cause; never throws, so a failed notification cannot hide the expiry status. `timeoutMs` bounds the
 * whole exchange: connection, request, status and the (capped) answer. Only a 2xx is a success; a redirect is not
 * followed. A `user:password@` in the URL is sent as HTTP Basic authentication. No cause names more of the URL than
 * its origin: the path and query of a webhook URL are its credential.
 */
export async function postWebhook(url: URL, body: object, timeoutMs: number): Promise<string | null> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (url.username !== '' || url.password !== '') {
    let userPass: string;
    try {
      userPass = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      return "the webhook URL's user or password is not well-formed percent-encoding (%XX)";
    }
    headers.authorization = `Basic ${Buffer.from(userPass).toString('base64')}`;
  }
  const r = await exchange({
    method: 'POST',
    url,
    headers,
    body: Buffer.from(JSON.stringify(body)),
    timeoutMs,
    maxAnswerBytes: MAX_ANSWER_BYTES,
  });
  switch (r.kind) {
    case 'answer':
      if (r.status >= 200 && r.status < 300) return null;
      if (r.status >= 300 && r.status < 400)
        return `the webhook answered HTTP ${r.status} (a redirect; apns-cert does not follow it)`;
      return `the webhook answered HTTP ${r.status}`;
    case 'error':
      return r.code;
    case 'timeout':
      return `no complete answer within ${seconds(timeoutMs)}`;
    case 'cut-short':
      return `the webhook's answer (HTTP ${r.status}) was cut short`;
    case 'too-long':
      return `the webhook's answer (HTTP ${r.status}) is longer than ${MAX_ANSWER_BYTES} bytes`;
  }
}
