/**
 * A loopback HTTP/2 server that answers like APNs: it requires a client certificate from a test CA and
 * answers a push to an unknown device with 400 BadDeviceToken, an expired certificate with 403.
 */
import { createSecureServer } from 'node:http2';
import type { Http2SecureServer, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { daysFrom, issueCert } from './fake-apple.js';
import type { FakeCa } from './fake-apple.js';

export type FakeApnsMode = 'answers' | 'refuses-tls12' | 'refuses-tls13';

export interface SeenPush {
  topic: string | undefined;
  pushType: string | undefined;
  path: string | undefined;
  body: string;
}

export interface FakeApns {
  url: string;
  serverCaPem: string;
  seen: SeenPush[];
  close(): Promise<void>;
}

export async function startFakeApns(clientCa: FakeCa, mode: FakeApnsMode): Promise<FakeApns> {
  const now = new Date();
  const serverRoot = issueCert(null, {
    subject: [{ name: 'commonName', value: `Fake APNs server CA (${mode}, ${Math.random().toString(16).slice(2)})` }],
    notBefore: daysFrom(now, -10),
    notAfter: daysFrom(now, 100),
    isCa: true,
  });
  const server = issueCert(serverRoot, {
    subject: [{ name: 'commonName', value: 'localhost' }],
    notBefore: daysFrom(now, -1),
    notAfter: daysFrom(now, 30),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const seen: SeenPush[] = [];
  const strict = mode !== 'answers';
  const http2: Http2SecureServer = createSecureServer({
    key: server.privatePem,
    cert: server.pem,
    ca: clientCa.pem,
    requestCert: true,
    rejectUnauthorized: strict,
    ...(mode === 'refuses-tls12' ? { maxVersion: 'TLSv1.2' as const } : {}),
    ...(mode === 'refuses-tls13' ? { minVersion: 'TLSv1.3' as const } : {}),
  });
  http2.on('stream', (stream: ServerHttp2Stream, headers) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      seen.push({
        topic: headers['apns-topic'] as string | undefined,
        pushType: headers['apns-push-type'] as string | undefined,
        path: headers[':path'],
        body,
      });
      const socket = stream.session?.socket as TLSSocket | undefined;
      const error = socket?.authorizationError as unknown as string | undefined;
      const peer = socket?.getPeerCertificate();
      let status = 400;
      let reason = 'BadDeviceToken';
      if (!peer || Object.keys(peer).length === 0) [status, reason] = [403, 'MissingProviderToken'];
      else if (error === 'CERT_HAS_EXPIRED') [status, reason] = [403, 'CertificateExpired'];
      else if (error) [status, reason] = [403, 'BadCertificate'];
      stream.respond({
        ':status': status,
        'content-type': 'application/json',
        'apns-id': '00000000-0000-0000-0000-000000000000',
      });
      stream.end(JSON.stringify({ reason }));
    });
  });
  http2.on('sessionError', () => undefined);
  http2.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => http2.listen(0, '127.0.0.1', resolve));
  const { port } = http2.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    serverCaPem: serverRoot.pem,
    seen,
    close: () => new Promise<void>((resolve) => http2.close(() => resolve())),
  };
}
