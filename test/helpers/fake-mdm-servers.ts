/**
 * Loopback fakes of the MDM servers' push certificate APIs, following their public code (see src/net/mdm/*.ts):
 * - nanomdm (micromdm/nanomdm http/api/v1.go, http/api/pushcert.go, http/api/api.go, cmd/nanomdm/main.go):
 *   PUT/GET /v1/pushcert, Basic "nanomdm"; certificates kept per topic; errors 400/500 {"error"}.
 * - nanohub (micromdm/nanohub cmd/nanohub/nanohub.go): the same under /api/v1/nanomdm, Basic "nanohub".
 * - micromdm (micromdm/micromdm platform/config/*.go, builtin/db.go): PUT/GET /v1/config/certificate, JSON
 *   {"cert","key"} as base64; the PUT stores blindly, the GET parses the key as PKCS#1 (500 otherwise).
 * - fleet (fleetdm/fleet server/service/apple_mdm.go): multipart POST .../apns_certificate (202, 422 "Invalid
 *   certificate" when it does not pair with Fleet's key), GET /api/v1/fleet/apns, GET .../request_csr, Bearer.
 * Every request is recorded (method, path, headers without authorization, body) so tests can prove what was sent.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import forge from 'node-forge';

export type FakeMdmKind = 'nanomdm' | 'nanohub' | 'micromdm' | 'fleet';

export type FakeMdmMode =
  | 'normal'
  /** nanomdm/nanohub before GET existed (nanomdm ≤ v0.9.0): GET reaches the PUT handler, 400 "no PEM data". */
  | 'old-get-400'
  /** A proxy or build answering 405 to GET. */
  | 'old-get-405'
  /** Accepts the upload, keeps reading back the certificate it ran before. */
  | 'sticky'
  /** Accepts the connection and never answers. */
  | 'silent'
  /** Answers one byte every dripMs. */
  | 'drip';

export interface FakeMdmOptions {
  kind: FakeMdmKind;
  credential: string;
  mode?: FakeMdmMode;
  dripMs?: number;
  /** Fleet: the key Fleet holds (PEM); uploads must pair with it, request_csr answers a CSR for it. */
  fleetKeyPem?: string;
  /** Fleet: what fleetdm.com makes of the CSR's DER (the base64 signed request); absent: the CSR as PEM. */
  fleetSignsCsr?: (csrDer: Buffer) => string;
  /** The certificate (and key) running before any upload. */
  initial?: { certPem: string; keyPem?: string };
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FakeMdm {
  url: string;
  requests: RecordedRequest[];
  /** Per topic for nanomdm/nanohub; one entry ('') for the others. */
  running: Map<string, { certPem: string; keyPem?: string }>;
  close(): Promise<void>;
}

const USERS: Record<FakeMdmKind, string> = {
  nanomdm: 'nanomdm',
  nanohub: 'nanohub',
  micromdm: 'micromdm',
  fleet: '',
};

function pemBlocks(text: string): { type: string; pem: string; headers: string }[] {
  const out: { type: string; pem: string; headers: string }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text))
    out.push({ type: m[1]!, pem: m[0], headers: m[2]!.includes(':') ? m[2]! : '' });
  return out;
}

/** tls.X509KeyPair's pairing check, with node crypto; null when they pair, else Go's error text. */
function pairError(certPem: string, keyPem: string): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'tls: failed to find any PEM data in certificate input';
  }
  try {
    const pub = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    if (!pub.equals(cert.publicKey.export({ type: 'spki', format: 'der' })))
      return 'tls: private key does not match public key';
  } catch {
    return 'tls: failed to parse private key';
  }
  return null;
}

/** A PKCS#10 CSR (PEM) signed by `keyPem`, as Fleet makes for its own APNs key. */
function csrFor(keyPem: string): string {
  const key = forge.pki.privateKeyFromPem(keyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: 'Fleet' }]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

function topicOf(certPem: string): string {
  const m = /UID=([^\n]+)/.exec(new X509Certificate(certPem).subject);
  return m?.[1] ?? '';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export async function startFakeMdm(options: FakeMdmOptions): Promise<FakeMdm> {
  const mode = options.mode ?? 'normal';
  const requests: RecordedRequest[] = [];
  const running = new Map<string, { certPem: string; keyPem?: string }>();
  const key = (certPem: string) => (options.kind === 'nanomdm' || options.kind === 'nanohub' ? topicOf(certPem) : '');
  if (options.initial) running.set(key(options.initial.certPem), options.initial);
  // What the read-back shows in 'sticky' mode: what ran before the first upload.
  const stuck = new Map(running);
  const sockets = new Set<Socket>();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const { authorization, ...headers } = req.headers;
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers, body });
    if (mode === 'silent') return;
    const send = (status: number, value: unknown) => {
      const text = value === undefined ? '' : `${JSON.stringify(value, null, '\t')}\n`;
      res.writeHead(status, { 'content-type': 'application/json' });
      if (mode !== 'drip') return void res.end(text);
      let i = 0;
      const tick = setInterval(() => {
        if (res.destroyed || i >= text.length) {
          clearInterval(tick);
          res.end();
        } else res.write(text[i++]);
      }, options.dripMs ?? 200);
    };
    const expected =
      options.kind === 'fleet'
        ? `Bearer ${options.credential}`
        : `Basic ${Buffer.from(`${USERS[options.kind]}:${options.credential}`).toString('base64')}`;
    if (authorization !== expected) {
      if (options.kind === 'fleet')
        return send(401, {
          message: 'Authentication required',
          errors: [{ name: 'base', reason: 'Authentication required' }],
        });
      res.writeHead(401, { 'www-authenticate': 'Basic realm="api"', 'content-type': 'text/plain' });
      return void res.end('Unauthorized\n');
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const shown =
      mode === 'sticky' && requests.some((r) => r.method === 'PUT' || r.method === 'POST') ? stuck : running;

    if (options.kind === 'nanomdm' || options.kind === 'nanohub') {
      const path = options.kind === 'nanomdm' ? '/v1/pushcert' : '/api/v1/nanomdm/pushcert';
      if (url.pathname !== path) return send(404, undefined);
      const put = async () => {
        const blocks = pemBlocks(body);
        const cert = blocks.find((b) => b.type === 'CERTIFICATE');
        const keyBlock = blocks.find((b) => b.type.endsWith('PRIVATE KEY'));
        if (keyBlock?.headers.includes('ENCRYPTED'))
          return send(400, { error: 'private key PEM appears to be encrypted' });
        if (!cert) return send(400, { error: 'tls: failed to find any PEM data in certificate input' });
        if (!keyBlock) return send(400, { error: 'tls: failed to find any PEM data in key input' });
        const wrong = pairError(cert.pem, keyBlock.pem);
        if (wrong !== null) return send(400, { error: wrong });
        const topic = topicOf(cert.pem);
        if (topic === '') return send(400, { error: 'topic from cert: missing topic' });
        running.set(topic, { certPem: cert.pem, keyPem: keyBlock.pem });
        return send(200, { not_after: new Date(new X509Certificate(cert.pem).validTo).toISOString(), topic });
      };
      if (req.method === 'PUT') return put();
      if (req.method === 'GET' && mode === 'old-get-405') return send(405, undefined);
      if (req.method === 'GET' && mode === 'old-get-400')
        return send(400, { error: 'tls: failed to find any PEM data in certificate input' });
      if (req.method !== 'GET') return send(405, undefined);
      const topic = url.searchParams.get('topic') ?? '';
      if (topic === '') return send(400, { error: 'missing required query parameter: topic' });
      const held = shown.get(topic);
      if (!held) return send(500, { error: `open ${topic}.pem: no such file or directory` });
      return send(200, { not_after: new Date(new X509Certificate(held.certPem).validTo).toISOString(), topic });
    }

    if (options.kind === 'micromdm') {
      if (url.pathname !== '/v1/config/certificate') return send(404, undefined);
      if (req.method === 'PUT') {
        let parsed: { cert?: unknown; key?: unknown };
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch (error) {
          return send(500, { error: (error as Error).message });
        }
        if (typeof parsed.cert !== 'string' || typeof parsed.key !== 'string')
          return send(500, { error: 'json: cannot unmarshal' });
        running.set('', {
          certPem: Buffer.from(parsed.cert, 'base64').toString('utf8'),
          keyPem: Buffer.from(parsed.key, 'base64').toString('utf8'),
        });
        return send(200, {});
      }
      if (req.method !== 'GET') return send(405, undefined);
      const held = shown.get('');
      if (!held) return send(500, { error: 'get push certificate: get server config for push cert: not found' });
      if (!/^-----BEGIN RSA PRIVATE KEY-----/.test(held.keyPem ?? ''))
        return send(500, {
          error:
            'get push certificate: parse push certificate key from server config: x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)',
        });
      return send(200, { cert: new X509Certificate(held.certPem).raw.toString('base64') });
    }

    // fleet
    // GetMDMAppleCSR (apple_mdm.go): a new CSR for the key Fleet holds (GenerateAPNSCSR), which real Fleet has
    // fleetdm.com sign (GetSignedAPNSCSRNoEmail: the base64 PushCertificateRequest) and answers as "csr" ([]byte,
    // so base64 again). Here the CSR is a PKCS#10 PEM, or what fleetSignsCsr makes of its DER.
    if (url.pathname === '/api/v1/fleet/mdm/apple/request_csr' && req.method === 'GET') {
      if (options.fleetKeyPem === undefined)
        return send(200, { csr: Buffer.from('c2lnbmVkIHJlcXVlc3Q=').toString('base64') });
      const csr = forge.pki.certificationRequestFromPem(csrFor(options.fleetKeyPem));
      const der = Buffer.from(forge.asn1.toDer(forge.pki.certificationRequestToAsn1(csr)).getBytes(), 'binary');
      const answer = options.fleetSignsCsr ? options.fleetSignsCsr(der) : csrFor(options.fleetKeyPem);
      return send(200, { csr: Buffer.from(answer).toString('base64') });
    }
    if (url.pathname === '/api/v1/fleet/apns' && req.method === 'GET') {
      const held = shown.get('');
      if (!held) return send(404, { message: 'Resource Not Found', errors: [{ name: 'base', reason: 'not found' }] });
      const x = new X509Certificate(held.certPem);
      const cn = /CN=([^\n]+)/.exec(x.subject)?.[1] ?? '';
      const issuer = /CN=([^\n]+)/.exec(x.issuer)?.[1] ?? '';
      return send(200, {
        common_name: cn,
        serial_number: BigInt(`0x${x.serialNumber}`).toString(10),
        issuer,
        renew_date: new Date(x.validTo).toISOString(),
      });
    }
    if (url.pathname === '/api/v1/fleet/mdm/apple/apns_certificate' && req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      const boundary = /boundary=([^;]+)/.exec(type)?.[1];
      const invalid = {
        message: 'Validation Failed',
        errors: [
          {
            name: 'certificate',
            reason: 'Invalid certificate. Please provide a valid certificate from Apple Push Certificate Portal.',
          },
        ],
      };
      if (!type.startsWith('multipart/form-data') || boundary === undefined)
        return send(400, {
          message: 'Bad request',
          errors: [{ name: 'base', reason: 'failed to parse multipart form' }],
        });
      const part = body.split(`--${boundary}`).find((p) => /name="certificate"; filename="/.test(p));
      if (!part)
        return send(400, {
          message: 'Bad request',
          errors: [{ name: 'base', reason: 'certificate multipart field is required' }],
        });
      const content = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
      const cert = pemBlocks(content).find((b) => b.type === 'CERTIFICATE');
      if (!cert || options.fleetKeyPem === undefined || pairError(cert.pem, options.fleetKeyPem) !== null)
        return send(422, invalid);
      running.set('', { certPem: cert.pem });
      return send(202, {});
    }
    return send(404, undefined);
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (q, s) => void handler(q, s))
    : createHttpServer((q, s) => void handler(q, s));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    running,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
