import { randomBytes } from 'node:crypto';
import { connect } from 'node:http2';
import type { ProbeOutcome } from '../core/probe-verdict.js';

export interface ProbeRequest {
  url: URL;
  certPem: string;
  keyPem: string;
  /** Extra trusted CA (PEM) for test servers; APNs itself needs none. */
  caPem: string | undefined;
  topic: string;
  mdm: boolean;
  timeoutMs: number;
}

/** Our side could not verify the server (as opposed to an alert the server sent about our certificate). */
const SERVER_VERIFY_CODES =
  /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;
const NO_CONNECTION_CODES = /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ETIMEDOUT)$/;
/** What OpenSSL says when the peer's first bytes are not a TLS record (an HTTP, SSH or SMTP port). */
const NOT_TLS_CODES = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE)$/;

/**
 * What a failed connection means. A TLS alert from the server (ERR_SSL_..._ALERT_...) is its answer to our
 * certificate, whether it arrives during the handshake (TLS 1.2) or after the client finished it (TLS 1.3, Go's
 * crypto/tls). A server that answered the TLS handshake and then closed the connection (node's own TLS server does
 * so without an alert) refused it too. A peer that never answered as a TLS server said nothing about the
 * certificate: the port does not speak TLS.
 */
function classifyFailure(error: NodeJS.ErrnoException, serverSpokeTls: boolean, port: number): ProbeOutcome {
  const code = error.code ?? 'ERROR';
  const message = error.message.split('\n')[0]!;
  if (NO_CONNECTION_CODES.test(code)) return { kind: 'unreachable', code, message, port };
  if (SERVER_VERIFY_CODES.test(code)) return { kind: 'server-untrusted', code, message };
  if (/^ERR_SSL_.*ALERT/.test(code)) return { kind: 'tls-error', code, message: alertText(message) };
  if (NOT_TLS_CODES.test(code)) return { kind: 'not-tls', code, message: alertText(message), port };
  if (/^(ECONNRESET|EPIPE)$/.test(code)) {
    return serverSpokeTls
      ? { kind: 'tls-error', code, message: 'the server closed the connection during the handshake' }
      : { kind: 'not-tls', code, message, port };
  }
  return { kind: 'tls-error', code, message };
}

/** "...:ssl3_read_bytes:sslv3 alert bad certificate:../deps/...:SSL alert number 42" -> "TLS alert 42, bad certificate". */
function alertText(message: string): string {
  const alert = /alert ([a-z ]+?)(?::|$)/.exec(message)?.[1];
  const number = /SSL alert number (\d+)/.exec(message)?.[1];
  if (alert !== undefined) return `TLS alert${number ? ` ${number}` : ''}, ${alert}`;
  const reason = /:SSL routines:[^:]*:([^:]+)/.exec(message)?.[1];
  return reason ?? message;
}

/**
 * Sends one push, with the certificate as the TLS client identity, to a syntactically valid device token
 * that belongs to no device. Reports what happened; never throws.
 */
export function sendProbe(req: ProbeRequest): Promise<ProbeOutcome> {
  const port = Number(req.url.port || 443);
  return new Promise((resolve) => {
    let settled = false;
    // Set once the server's TLS handshake messages arrive: the client derives its first key from the ServerHello
    // (TLS 1.3) or on the ServerHelloDone (TLS 1.2, before it sends its certificate), and node reports that key.
    let serverSpokeTls = false;
    const session = connect(req.url.origin, {
      cert: req.certPem,
      key: req.keyPem,
      ...(req.caPem !== undefined ? { ca: req.caPem } : {}),
    });
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.removeAllListeners();
      session.on('error', () => undefined);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', port, seconds: req.timeoutMs / 1000 }), req.timeoutMs);

    session.socket.once('keylog', () => (serverSpokeTls = true));
    session.on('error', (error: NodeJS.ErrnoException) => finish(classifyFailure(error, serverSpokeTls, port)));
    session.on('close', () =>
      finish(
        serverSpokeTls
          ? { kind: 'closed-before-response' }
          : { kind: 'not-tls', code: 'ConnectionClosed', message: 'closed without a TLS answer', port },
      ),
    );

    const token = randomBytes(32).toString('hex');
    const payload = req.mdm ? JSON.stringify({ mdm: 'probe' }) : JSON.stringify({ aps: { 'content-available': 1 } });
    const stream = session.request({
      ':method': 'POST',
      ':path': `/3/device/${token}`,
      'apns-topic': req.topic,
      'apns-push-type': req.mdm ? 'mdm' : 'background',
      'apns-priority': '5',
      'content-type': 'application/json',
    });
    // An alert that arrives after the handshake (TLS 1.3) reaches the open stream, not the session.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (/^(ERR_SSL_|E[A-Z]+$)/.test(error.code ?? '')) finish(classifyFailure(error, serverSpokeTls, port));
    });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      body += chunk;
    });
    stream.on('end', () => {
      if (status === 0) return finish({ kind: 'closed-before-response' });
      let reason: string | null = null;
      try {
        const parsed = JSON.parse(body) as { reason?: unknown };
        if (typeof parsed.reason === 'string') reason = parsed.reason;
      } catch {
        // no JSON body (200 has none)
      }
      finish({ kind: 'response', status, reason });
    });
    stream.end(payload);
  });
}
