/** What happened when a push was sent with a certificate, and what it means. Pure: no network here. */
export type ProbeOutcome =
  | { kind: 'response'; status: number; reason: string | null }
  | { kind: 'tls-error'; code: string; message: string }
  | { kind: 'server-untrusted'; code: string; message: string }
  | { kind: 'not-tls'; code: string; message: string; port: number }
  | { kind: 'closed-before-response' }
  | { kind: 'unreachable'; code: string; message: string; port: number }
  | { kind: 'timeout'; port: number; seconds: number };

export type ProbeVerdict = 'accepted' | 'rejected' | 'unreachable';

export interface ProbeResult {
  verdict: ProbeVerdict;
  status: number | null;
  reason: string | null;
  detail: string;
}

/** Answers that prove APNs accepted the certificate: the push reached no device, but the identity was taken. */
const ACCEPTED_REASONS = new Set(['BadDeviceToken', 'DeviceTokenNotForTopic', 'Unregistered']);

export function interpretProbe(outcome: ProbeOutcome): ProbeResult {
  switch (outcome.kind) {
    case 'response': {
      const { status, reason } = outcome;
      if (status === 200) return { verdict: 'accepted', status, reason, detail: 'APNs accepted the push (HTTP 200)' };
      if ((status === 400 || status === 410) && reason !== null && ACCEPTED_REASONS.has(reason)) {
        return {
          verdict: 'accepted',
          status,
          reason,
          detail: `APNs accepted the certificate (${status} ${reason}: the probe token reaches no device, as intended)`,
        };
      }
      if (status === 429 || status >= 500) {
        return {
          verdict: 'unreachable',
          status,
          reason,
          detail: `APNs could not answer now (${status}${reason ? ` ${reason}` : ''}); try again later`,
        };
      }
      return {
        verdict: 'rejected',
        status,
        reason,
        detail: `APNs rejected the certificate (${status}${reason ? ` ${reason}` : ''})`,
      };
    }
    case 'tls-error':
      return {
        verdict: 'rejected',
        status: null,
        reason: outcome.code,
        detail: `the server refused the certificate in the TLS handshake (${outcome.message})`,
      };
    case 'not-tls':
      // No alert and no answer: nothing was said about the certificate (an HTTP or other non-TLS port).
      return {
        verdict: 'unreachable',
        status: null,
        reason: 'NotTls',
        detail: `port ${outcome.port} does not answer as a TLS server (${outcome.message}): is it the APNs port?`,
      };
    case 'server-untrusted':
      return {
        verdict: 'unreachable',
        status: null,
        reason: outcome.code,
        detail: `the server's own certificate could not be verified (${outcome.message}): is something intercepting TLS? (--ca-file for a test server)`,
      };
    case 'closed-before-response':
      // Under TLS 1.3 a server refuses a client certificate after the client thinks the handshake is done:
      // the session just closes. That is a rejection, not a success.
      return {
        verdict: 'rejected',
        status: null,
        reason: 'ConnectionClosed',
        detail: 'the server closed the connection before answering: it refused the client certificate',
      };
    case 'unreachable':
      return {
        verdict: 'unreachable',
        status: null,
        reason: outcome.code,
        detail: `no connection to port ${outcome.port} (${outcome.message})`,
      };
    case 'timeout':
      return {
        verdict: 'unreachable',
        status: null,
        reason: 'Timeout',
        detail: `no answer on port ${outcome.port} within ${outcome.seconds} s`,
      };
  }
}
