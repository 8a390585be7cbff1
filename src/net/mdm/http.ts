import { serverText } from '../server-text.js';
import { randomBytes } from 'node:crypto';
import { exchange as sendExchange, isLoopbackHost, seconds } from '../http-exchange.js';
import type { Exchange as HttpExchange } from '../http-exchange.js';

/** What a server was asked to run, as far as its read-back (or its upload answer) tells. */
export interface RunningCertificate {
  topic?: string;
  /** Uppercase hex, as openssl prints it (Fleet's decimal serial is converted). */
  serialNumber?: string;
  /** ISO 8601 (UTC). */
  notAfter?: string;
  commonName?: string;
  /** The leaf's DER, when the server gives it (MicroMDM). */
  leafDer?: Uint8Array;
}

export type MdmResult =
  /** 2xx; `running` is what the answer says the server now runs (absent when it says nothing). */
  | { kind: 'ok'; running?: RunningCertificate }
  /** 401/403: the server refused the credential. */
  | { kind: 'unauthorized'; status: number }
  /** Another status, with the server's error text (one line, bounded). */
  | { kind: 'refused'; status: number; message: string }
  /** The server version has no such call (e.g. NanoMDM before 2026-03 has no GET /v1/pushcert). */
  | { kind: 'not-supported'; status: number }
  /** No connection, a connection or TLS error, or no complete answer within the deadline. */
  | { kind: 'unreachable'; cause: string }
  /** A 2xx whose body is not the server's JSON, or an answer over the cap. */
  | { kind: 'bad-answer'; cause: string }
  /** Nothing was sent: plain HTTP to a non-loopback host, or local input the kind cannot take. */
  | { kind: 'not-sent'; cause: string };

/** Where a target is; `caPem` is the text of its --ca-file (else the system's CAs). */
export interface MdmEndpoint {
  url: string;
  caPem?: string | undefined;
}

export interface CertificateMaterial {
  certPem: string;
  /** Unencrypted PEM private key; absent for servers that keep their own key (Fleet). */
  keyPem?: string;
}

export const MDM_TIMEOUT_MS = 10_000;
export const MAX_MDM_ANSWER_BYTES = 65_536;
const MAX_MESSAGE = 300;

/** The base URL checked before anything is sent; the cause names the origin only. */
export function checkBaseUrl(url: string): URL | { kind: 'not-sent'; cause: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'not-sent', cause: 'the target URL is not a URL' };
  }
  if (parsed.username !== '' || parsed.password !== '')
    return { kind: 'not-sent', cause: 'the target URL carries a user or password (use the credential file)' };
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return parsed;
  if (parsed.protocol === 'http:')
    return { kind: 'not-sent', cause: `plain HTTP to ${parsed.host} (HTTPS, or HTTP to a loopback address only)` };
  return { kind: 'not-sent', cause: `${parsed.protocol} is not https:` };
}

/** `base` + `path`, keeping a path prefix the base may have (a server behind /mdm/). */
export function joinUrl(base: URL, path: string, query?: Record<string, string>): URL {
  const out = new URL(base.href);
  out.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  out.search = query === undefined ? '' : new URLSearchParams(query).toString();
  out.hash = '';
  return out;
}

export function basicAuth(user: string, credential: string): string {
  return `Basic ${Buffer.from(`${user}:${credential}`, 'utf8').toString('base64')}`;
}

/** A printable, bounded one-line text, with every form of the credential blanked out. */
export const scrub = (text: string, secrets: readonly string[]) =>
  serverText(text, secrets, '<credential>', MAX_MESSAGE);

/** An exchange with an MDM server: its answer capped at MAX_MDM_ANSWER_BYTES. */
export interface Exchange extends Omit<HttpExchange, 'maxAnswerBytes'> {
  /** Texts that must not appear in any result (the credential, its Basic header). */
  secrets: readonly string[];
}

export type Answer = { kind: 'answer'; status: number; body: string };

/** One bounded exchange (src/net/http-exchange.ts) with an MDM server, its failures in words without the secrets. */
export async function exchange(
  x: Exchange,
): Promise<Answer | Extract<MdmResult, { kind: 'unreachable' | 'bad-answer' | 'not-sent' }>> {
  const host = x.url.host;
  const r = await sendExchange({ ...x, maxAnswerBytes: MAX_MDM_ANSWER_BYTES });
  switch (r.kind) {
    case 'answer':
      return r;
    case 'error':
      // node refused the request before sending it: a header value it cannot carry (a stored credential, say)
      if (r.code === 'ERR_INVALID_CHAR' || r.code === 'ERR_INVALID_HTTP_TOKEN')
        return { kind: 'not-sent', cause: 'the credential holds a character an HTTP header cannot carry' };
      return { kind: 'unreachable', cause: scrub(`${host}: ${r.code}`, x.secrets) };
    case 'timeout':
      return { kind: 'unreachable', cause: `${host}: no complete answer within ${seconds(x.timeoutMs)}` };
    case 'cut-short':
      return { kind: 'unreachable', cause: `${host}: the answer (HTTP ${r.status}) was cut short` };
    case 'too-long':
      return {
        kind: 'bad-answer',
        cause: `the answer (HTTP ${r.status}) is longer than ${MAX_MDM_ANSWER_BYTES} bytes`,
      };
  }
}

export function jsonOf(body: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * The server's error text: {"error": "..."} (NanoMDM http/api/api.go logAndWriteJSONError, MicroMDM
 * pkg/httputil/httputil.go ErrorEncoder), Fleet's {"message", "errors": [{"name","reason"}]}
 * (server/service/transport_error.go), else the start of a plain-text body.
 */
export function errorText(body: string, secrets: readonly string[]): string {
  const json = jsonOf(body);
  const parts: string[] = [];
  if (json !== null) {
    if (typeof json.error === 'string') parts.push(json.error);
    if (Array.isArray(json.errors))
      for (const e of json.errors as unknown[])
        if (typeof e === 'object' && e !== null && typeof (e as { reason?: unknown }).reason === 'string')
          parts.push((e as { reason: string }).reason);
    if (parts.length === 0 && typeof json.message === 'string') parts.push(json.message);
  } else if (body.trim() !== '') parts.push(body);
  return scrub(parts.join('; '), secrets);
}

/** A finished non-2xx answer as a typed result. */
export function failureOf(answer: Answer, secrets: readonly string[]): MdmResult {
  const { status } = answer;
  if (status === 401 || status === 403) return { kind: 'unauthorized', status };
  const text = errorText(answer.body, secrets);
  const what = status >= 300 && status < 400 ? `HTTP ${status} (a redirect; not followed)` : `HTTP ${status}`;
  return { kind: 'refused', status, message: text === '' ? what : `${what}: ${text}` };
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A multipart/form-data body with one file part (Go's ParseMultipartForm files a part under File only when it has a filename). */
export function multipartFile(
  field: string,
  filename: string,
  contentType: string,
  content: string,
): { body: Buffer; contentType: string } {
  let boundary = `apns-cert-${randomBytes(16).toString('hex')}`;
  while (content.includes(boundary)) boundary = `apns-cert-${randomBytes(16).toString('hex')}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    ),
    Buffer.from(content, 'utf8'),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
