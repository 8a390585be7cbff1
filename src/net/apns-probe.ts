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
const SERVER_VERIFY_CODES = /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;

/**
 * Sends one push, with the certificate as the TLS client identity, to a syntactically valid device token
 * that belongs to no device. Reports what happened; never throws.
 */
export function sendProbe(req: ProbeRequest): Promise<ProbeOutcome> {
  const port = Number(req.url.port || 443);
  return new Promise((resolve) => {
    let settled = false;
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

    session.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'ERROR';
      if (/^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ETIMEDOUT)$/.test(code)) {
        finish({ kind: 'unreachable', code, message: error.message, port });
      } else if (SERVER_VERIFY_CODES.test(code)) {
        finish({ kind: 'server-untrusted', code, message: error.message.split('\n')[0]! });
      } else {
        finish({ kind: 'tls-error', code, message: error.message.split('\n')[0]! });
      }
    });
    session.on('close', () => finish({ kind: 'closed-before-response' }));

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
    stream.on('error', () => undefined);
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
