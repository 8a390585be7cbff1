import { serverText } from './server-text.js';
import { exchange, isLoopbackHost, seconds } from './http-exchange.js';

/**
 * The sign request of mdmcert.download, as the public clients send it (MicroMDM cmd/mdmctl/mdmcert.download.go,
 * Commandment commandment/mdmcert.py): POST JSON { csr: base64(PEM of the CSR), email, key: <API key>,
 * encrypt: base64(PEM of the exchange certificate) }. The service answers 200 {"result":"success"} and mails the
 * signed request, encrypted to the exchange certificate, to `email`; a failure is another status or
 * {"result":"failure","reason":"..."}.
 */

export const MDMCERT_SIGN_URL = 'https://mdmcert.download/api/v1/signrequest';
export const MDMCERT_TIMEOUT_MS = 10_000;
/** Far more than {"result":"failure","reason":"..."}; more is not the service answering. */
export const MAX_MDMCERT_ANSWER_BYTES = 65_536;
/** Longest `reason` passed on, in characters. */
const MAX_REASON = 300;

export interface SignRequest {
  url: string | URL;
  csrPem: string;
  email: string;
  /** The admin's mdmcert.download API key: sent in the body, never in any result. */
  apiKey: string;
  exchangeCertPem: string;
  timeoutMs?: number;
}

export type SignRequestResult =
  /** HTTP 200 {"result":"success"}: the signed request is on its way to `email`. */
  | { kind: 'sent' }
  /** {"result":"failure","reason":...}, or a status other than 200 (`reason` then says which, with the body's reason if any). */
  | { kind: 'refused'; status: number; reason: string }
  /** No connection, a connection error, or no complete answer within the timeout. */
  | { kind: 'unreachable'; cause: string }
  /** HTTP 200 whose body is not the service's JSON, or an answer longer than the cap. */
  | { kind: 'bad-answer'; status: number; cause: string }
  /** Not sent: the URL is not https:, nor http: to a loopback address. */
  | { kind: 'insecure-url'; cause: string };

/** Checks the URL before anything is sent; the error names the URL's origin only. */
export function checkMdmcertUrl(url: string | URL): URL | { kind: 'insecure-url'; cause: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'insecure-url', cause: 'not a URL' };
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return parsed;
  if (parsed.protocol === 'http:')
    return { kind: 'insecure-url', cause: `plain HTTP to ${parsed.host} (HTTPS, or HTTP to a loopback address only)` };
  return { kind: 'insecure-url', cause: `${parsed.protocol} is not https:` };
}

/** A one-line, printable, bounded text from the service, with the API key blanked out should it be echoed. */
const clean = (text: string, apiKey: string) => serverText(text, [apiKey], '<api key>', MAX_REASON);

function answerOf(body: string): { result?: unknown; reason?: unknown } | null {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? parsed : null;
  } catch {
    return null;
  }
}

/** What a finished answer means. */
function judge(status: number, body: string, apiKey: string): SignRequestResult {
  const answer = answerOf(body);
  const reason =
    typeof answer?.reason === 'string' && answer.reason.trim() !== '' ? clean(answer.reason, apiKey) : null;
  if (status === 200) {
    if (answer?.result === 'success') return { kind: 'sent' };
    if (answer?.result === 'failure') return { kind: 'refused', status, reason: reason ?? 'no reason given' };
    return { kind: 'bad-answer', status, cause: 'the answer is not {"result": ...} JSON' };
  }
  const what = status >= 300 && status < 400 ? `HTTP ${status} (a redirect; not followed)` : `HTTP ${status}`;
  return { kind: 'refused', status, reason: reason === null ? what : `${what}: ${reason}` };
}

/**
 * Sends the sign request. Never throws; `timeoutMs` (default 10 s) bounds the whole exchange: connection,
 * request, status and the (capped) answer. No result carries the API key or more of the URL than its origin.
 */
export async function sendSignRequest(request: SignRequest): Promise<SignRequestResult> {
  const url = checkMdmcertUrl(request.url);
  if (!(url instanceof URL)) return url;
  const timeoutMs = request.timeoutMs ?? MDMCERT_TIMEOUT_MS;
  const payload = Buffer.from(
    JSON.stringify({
      csr: Buffer.from(request.csrPem, 'utf8').toString('base64'),
      email: request.email,
      key: request.apiKey,
      encrypt: Buffer.from(request.exchangeCertPem, 'utf8').toString('base64'),
    }),
  );
  const r = await exchange({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: payload,
    timeoutMs,
    maxAnswerBytes: MAX_MDMCERT_ANSWER_BYTES,
  });
  switch (r.kind) {
    case 'answer':
      return judge(r.status, r.body, request.apiKey);
    case 'error':
      return { kind: 'unreachable', cause: clean(`${url.host}: ${r.code}`, request.apiKey) };
    case 'timeout':
      return { kind: 'unreachable', cause: `${url.host}: no complete answer within ${seconds(timeoutMs)}` };
    case 'cut-short':
      return { kind: 'unreachable', cause: `${url.host}: the answer (HTTP ${r.status}) was cut short` };
    case 'too-long':
      return {
        kind: 'bad-answer',
        status: r.status,
        cause: `the answer (HTTP ${r.status}) is longer than ${MAX_MDMCERT_ANSWER_BYTES} bytes`,
      };
  }
}
