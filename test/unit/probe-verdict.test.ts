import { describe, expect, it } from 'vitest';
import { interpretProbe } from '../../src/core/probe-verdict.js';

describe('what an APNs answer means', () => {
  it.each([
    [{ kind: 'response', status: 400, reason: 'BadDeviceToken' }, 'accepted'],
    [{ kind: 'response', status: 400, reason: 'DeviceTokenNotForTopic' }, 'accepted'],
    [{ kind: 'response', status: 200, reason: null }, 'accepted'],
    [{ kind: 'response', status: 403, reason: 'BadCertificate' }, 'rejected'],
    [{ kind: 'response', status: 403, reason: 'BadCertificateEnvironment' }, 'rejected'],
    [{ kind: 'response', status: 403, reason: 'CertificateExpired' }, 'rejected'],
    [{ kind: 'response', status: 400, reason: 'TopicDisallowed' }, 'rejected'],
    [{ kind: 'response', status: 503, reason: 'ServiceUnavailable' }, 'unreachable'],
    [{ kind: 'response', status: 429, reason: 'TooManyRequests' }, 'unreachable'],
    [{ kind: 'tls-error', code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', message: 'alert unknown ca' }, 'rejected'],
    [{ kind: 'closed-before-response' }, 'rejected'],
    [
      { kind: 'not-tls', code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number', port: 8080 },
      'unreachable',
    ],
    [
      { kind: 'server-untrusted', code: 'CERT_SIGNATURE_FAILURE', message: 'certificate signature failure' },
      'unreachable',
    ],
    [{ kind: 'unreachable', code: 'ECONNREFUSED', message: 'refused', port: 2197 }, 'unreachable'],
    [{ kind: 'timeout', port: 443, seconds: 10 }, 'unreachable'],
  ] as const)('%j is %s', (outcome, verdict) => {
    expect(interpretProbe(outcome).verdict).toBe(verdict);
  });
  it('a session that closes before any response is a rejection, not a success (TLS 1.3 client certificate refusal)', () => {
    expect(interpretProbe({ kind: 'closed-before-response' }).detail).toMatch(/refused the client certificate/);
  });
  it('names the port when there is no connection', () => {
    expect(interpretProbe({ kind: 'unreachable', code: 'ECONNREFUSED', message: 'x', port: 2197 }).detail).toContain(
      'port 2197',
    );
  });
});
