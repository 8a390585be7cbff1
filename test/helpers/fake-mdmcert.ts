/**
 * A loopback fake of mdmcert.download's sign request, following what the public clients show of the real service:
 * - MicroMDM cmd/mdmctl/mdmcert.download.go: POST https://mdmcert.download/api/v1/signrequest, Content-Type
 *   application/json, body { csr: base64(PEM CSR), email, key, encrypt: base64(PEM exchange certificate) }; success
 *   is HTTP 200 with {"result":"success"}, else the result and `reason`; the mailed
 *   mdm_signed_request.<yyyymmdd_hhmmss_nnn>.plist.b64.p7 is hex text of a DER PKCS#7 that the exchange key
 *   opens (smallstep/pkcs7 Decrypt) to the base64 PushCertificateRequest plist (pkg/crypto/mdmcertutil).
 * - Commandment commandment/mdmcert.py: the same four fields, `result` / `reason` in the answer, and the mailed
 *   file unhexlified and opened as S/MIME (OpenSSL) with the exchange key.
 * The fake signs the CSR with a test vendor (root → WWDR-like → "MDM Vendor" from fake-apple.ts), builds the plist
 * with src/core/push-request.ts, encrypts it to the posted exchange certificate and writes the hex into `mailbox`.
 */
import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import { parseCertificate } from '../../src/core/certificate.js';
import type { ContentCipher } from '../../src/core/pkcs7-envelope.js';
import { buildPushRequest } from '../../src/core/push-request.js';
import { createVendorHierarchy } from './fake-apple.js';
import { encryptEnvelope } from './pkcs7-encrypt.js';

export type FakeMdmcertMode =
  /** Check the request, sign it, mail the file, answer {"result":"success"}. */
  | 'sign'
  /** Answer 200 {"result":"failure","reason": failureReason}. */
  | 'failure'
  | 'http-500'
  /** Accept the connection and never answer. */
  | 'silent'
  /** Answer the success JSON one byte every `dripMs`. */
  | 'drip'
  /** Answer 200 with a body far over any sane cap. */
  | 'huge';

export interface FakeMdmcertOptions {
  apiKey: string;
  mailbox: string;
  cipher?: ContentCipher;
  mode?: FakeMdmcertMode;
  failureReason?: string;
  dripMs?: number;
  /** The vendor's clock (its certificates' validity) and the mailed file's name; default: the real clock. */
  now?: () => Date;
  /** Hex as mailed: one line of lower case digits by default. */
  hexStyle?: 'lower' | 'upper-wrapped';
}

export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown> | null;
  /** Why the fake refused it, or null when it signed. */
  refusal: string | null;
  mailed: string | null;
}

export interface FakeMdmcert {
  url: string;
  options: FakeMdmcertOptions;
  vendor: ReturnType<typeof createVendorHierarchy>;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function mailedFileName(at: Date): string {
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `mdm_signed_request.${date}_${time}_${pad(at.getUTCMilliseconds(), 3)}.plist.b64.p7`;
}

function decodeField(body: Record<string, unknown>, field: string): string | null {
  const v = body[field];
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return null;
  return Buffer.from(v, 'base64').toString('utf8');
}

export async function startFakeMdmcert(options: FakeMdmcertOptions): Promise<FakeMdmcert> {
  const now = options.now ?? (() => new Date());
  const vendor = createVendorHierarchy(now());
  const chain = [vendor.vendor, vendor.wwdr, vendor.root].map((c) =>
    parseCertificate(Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(c.cert)).getBytes(), 'binary')),
  );
  const vendorKey = createPrivateKey(vendor.vendor.privatePem);
  const requests: ReceivedRequest[] = [];

  /** The request's four fields checked as the service must; the refusal or the signed, encrypted request. */
  function handle(body: Record<string, unknown> | null): { refusal: string } | { envelope: Buffer } {
    if (body === null) return { refusal: 'the body is not JSON' };
    if (body.key !== options.apiKey) return { refusal: 'invalid API key' };
    if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email))
      return { refusal: 'invalid email address' };
    const csrPem = decodeField(body, 'csr');
    let csr: ReturnType<typeof forge.pki.certificationRequestFromPem>;
    try {
      csr = forge.pki.certificationRequestFromPem(csrPem ?? '');
    } catch {
      return { refusal: 'csr is not a base64 PEM CSR' };
    }
    if (!csr.verify()) return { refusal: 'the CSR signature is invalid' };
    const certPem = decodeField(body, 'encrypt');
    try {
      forge.pki.certificateFromPem(certPem ?? '');
    } catch {
      return { refusal: 'encrypt is not a base64 PEM certificate' };
    }
    const csrDer = Buffer.from(forge.asn1.toDer(forge.pki.certificationRequestToAsn1(csr)).getBytes(), 'binary');
    const { base64 } = buildPushRequest(csrDer, chain, vendorKey);
    return { envelope: encryptEnvelope(Buffer.from(base64), certPem!, options.cipher ?? 'aes-256-cbc') };
  }

  function answer(res: ServerResponse, status: number, json: object) {
    const text = JSON.stringify(json);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
      } catch {
        body = null;
      }
      const record: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body,
        refusal: null,
        mailed: null,
      };
      requests.push(record);
      const mode = options.mode ?? 'sign';
      if (mode === 'silent') return;
      if (mode === 'http-500') return answer(res, 500, { error: 'internal error' });
      if (mode === 'failure') return answer(res, 200, { result: 'failure', reason: options.failureReason ?? 'no' });
      if (mode === 'huge') return answer(res, 200, { result: 'success', padding: 'x'.repeat(200_000) });
      if (req.method !== 'POST' || req.url !== '/api/v1/signrequest') return answer(res, 404, { error: 'not found' });
      if (!/^application\/json\b/.test(record.contentType ?? ''))
        return answer(res, 200, { result: 'failure', reason: 'expected application/json' });
      const outcome = handle(body);
      if ('refusal' in outcome) {
        record.refusal = outcome.refusal;
        return answer(res, 200, { result: 'failure', reason: outcome.refusal });
      }
      let hex = outcome.envelope.toString('hex');
      if (options.hexStyle === 'upper-wrapped') hex = `${hex.toUpperCase().replace(/(.{76})/g, '$1\r\n')}\r\n`;
      const file = join(options.mailbox, mailedFileName(now()));
      writeFileSync(file, hex);
      record.mailed = file;
      if (mode === 'drip') {
        const text = JSON.stringify({ result: 'success' });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
        let i = 0;
        const tick = setInterval(() => {
          if (res.destroyed || i >= text.length) {
            clearInterval(tick);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(text[i++]!);
        }, options.dripMs ?? 200);
        res.on('close', () => clearInterval(tick));
        return;
      }
      answer(res, 200, { result: 'success' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/signrequest`,
    options,
    vendor,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
