import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/core/csr.js';
import { buildExchangeCertificate } from '../../src/core/exchange-cert.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { decodeHex, decryptEnvelope } from '../../src/core/pkcs7-envelope.js';
import type { ContentCipher } from '../../src/core/pkcs7-envelope.js';
import { parsePushRequest, verifyPushRequest } from '../../src/core/push-request.js';
import { MDMCERT_SIGN_URL, checkMdmcertUrl, sendSignRequest } from '../../src/net/mdmcert.js';
import type { SignRequest, SignRequestResult } from '../../src/net/mdmcert.js';
import { startFakeMdmcert } from '../helpers/fake-mdmcert.js';
import type { FakeMdmcert } from '../helpers/fake-mdmcert.js';

const API_KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const NOW = new Date('2026-03-01T09:49:10.220Z');

let dir: string;
let exchangeKey: KeyObject;
let exchangeCert: { der: Buffer; pem: string };
let exchangeKeyFile: string;
let exchangeCertFile: string;
let csr: { pem: string; der: Buffer };
let fake: FakeMdmcert;

function openssl(args: string[], input?: Buffer): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apns-mdmcert-'));
  exchangeKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  exchangeCert = buildExchangeCertificate(exchangeKey, NOW);
  exchangeKeyFile = join(dir, 'exchange.key');
  exchangeCertFile = join(dir, 'exchange.pem');
  writeFileSync(exchangeKeyFile, exchangeKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(exchangeCertFile, exchangeCert.pem);
  const pushKey = describePrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  csr = buildCsr(pushKey, { commonName: 'mdm-push', email: 'admin@example.org', country: 'US' });
  fake = await startFakeMdmcert({ apiKey: API_KEY, mailbox: dir, now: () => NOW });
});

afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  fake.options.mode = 'sign';
  fake.options.cipher = 'aes-256-cbc';
  delete fake.options.hexStyle;
});

const request = (over: Partial<SignRequest> = {}): SignRequest => ({
  url: fake.url,
  csrPem: csr.pem,
  email: 'admin@example.org',
  apiKey: API_KEY,
  exchangeCertPem: exchangeCert.pem,
  timeoutMs: 3000,
  ...over,
});

/** A result never carries the API key, whatever happened. */
function keyless(result: SignRequestResult): SignRequestResult {
  expect(JSON.stringify(result)).not.toContain(API_KEY);
  expect(JSON.stringify(result)).not.toContain(API_KEY.slice(0, 16));
  return result;
}

function mailed(): string {
  const file = fake.requests.at(-1)?.mailed;
  if (!file) throw new Error(`nothing mailed (${fake.requests.at(-1)?.refusal})`);
  return file;
}

describe('the exchange certificate', () => {
  it('opens with openssl x509 -text, as the public clients make it', () => {
    const text = openssl(['x509', '-noout', '-text', '-in', exchangeCertFile]).toString();
    expect(text).toContain('Issuer: CN = mdmcert.download');
    expect(text).toContain('Subject: CN = mdmcert.download');
    expect(text).toContain('Not Before: Mar  1 09:49:10 2026 GMT');
    expect(text).toContain('Not After : Mar  1 09:49:10 2027 GMT');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain('DNS:mdmcert.download');
    expect(text).toContain('sha256WithRSAEncryption');
    expect(text).toContain('Public-Key: (2048 bit)');
    // its self-signature verifies (openssl: the certificate as its own trust anchor)
    expect(
      openssl([
        'verify',
        '-partial_chain',
        '-attime',
        String(Math.floor(NOW.getTime() / 1000) + 60),
        '-CAfile',
        exchangeCertFile,
        exchangeCertFile,
      ]).toString(),
    ).toContain('OK');
  });
});

describe('sign request through the fake mdmcert.download', () => {
  it.each(['aes-256-cbc', 'des-ede3-cbc'] as ContentCipher[])(
    'sends the four fields, and the mailed file (%s) decrypts, with our reader and with openssl cms, to a request for our CSR',
    async (cipher) => {
      fake.options.cipher = cipher;
      expect(keyless(await sendSignRequest(request()))).toEqual({ kind: 'sent' });
      const seen = fake.requests.at(-1)!;
      expect(seen).toMatchObject({ method: 'POST', path: '/api/v1/signrequest', contentType: 'application/json' });
      expect(Object.keys(seen.body!).sort()).toEqual(['csr', 'email', 'encrypt', 'key']);
      expect(Buffer.from(seen.body!.csr as string, 'base64').toString()).toBe(csr.pem);
      expect(Buffer.from(seen.body!.encrypt as string, 'base64').toString()).toBe(exchangeCert.pem);

      const file = mailed();
      expect(file.slice(dir.length + 1)).toBe('mdm_signed_request.20260301_094910_220.plist.b64.p7');
      const hex = readFileSync(file);
      expect(hex.toString()).toMatch(/^[0-9a-f]+$/);

      const opened = decryptEnvelope(hex, exchangeCert.der, exchangeKey);
      expect(opened.cipher).toBe(cipher);
      const pushRequest = parsePushRequest(opened.plaintext, 'mailed');
      expect(pushRequest.csr.der).toEqual(csr.der);
      expect(verifyPushRequest(pushRequest)).toEqual({
        signatureAlgorithm: 'sha256WithRSAEncryption',
        signatureValid: true,
      });
      expect(pushRequest.chain.map((c) => c.subject.find((a) => a.type === 'CN')?.value)).toEqual([
        'MDM Vendor: Example MDM Inc.',
        'Test Worldwide Developer Relations CA',
        'Test Root CA',
      ]);

      // an independent implementation opens the same file the same way
      const fromOpenssl = openssl(
        ['cms', '-decrypt', '-inform', 'DER', '-inkey', exchangeKeyFile, '-recip', exchangeCertFile, '-binary'],
        decodeHex(hex.toString())!,
      );
      expect(fromOpenssl).toEqual(opened.plaintext);
    },
  );

  it('reads the mailed file wrapped and in upper case too', async () => {
    fake.options.hexStyle = 'upper-wrapped';
    expect(await sendSignRequest(request())).toEqual({ kind: 'sent' });
    const hex = readFileSync(mailed(), 'utf8');
    expect(hex).toMatch(/^[0-9A-F]{76}\r\n/);
    expect(
      parsePushRequest(decryptEnvelope(Buffer.from(hex), exchangeCert.der, exchangeKey).plaintext, 'm').csr.der,
    ).toEqual(csr.der);
  });

  it('is refused, with the reason, for a wrong API key, and the key is in no message', async () => {
    const wrong = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';
    const result = await sendSignRequest(request({ apiKey: wrong }));
    expect(result).toEqual({ kind: 'refused', status: 200, reason: 'invalid API key' });
    expect(JSON.stringify(result)).not.toContain(wrong);
    expect(fake.requests.at(-1)!.mailed).toBeNull();
  });

  it('passes on the service reason of {"result":"failure"}, blanking the API key should it be echoed', async () => {
    fake.options.mode = 'failure';
    fake.options.failureReason = `key ${API_KEY} is over its quota\nfor today`;
    expect(keyless(await sendSignRequest(request()))).toEqual({
      kind: 'refused',
      status: 200,
      reason: 'key <api key> is over its quota for today',
    });
  });

  it('reports HTTP 500 as a refusal with the status', async () => {
    fake.options.mode = 'http-500';
    expect(keyless(await sendSignRequest(request()))).toEqual({ kind: 'refused', status: 500, reason: 'HTTP 500' });
  });

  it('gives up on a service that never answers, within the timeout', async () => {
    fake.options.mode = 'silent';
    const start = Date.now();
    const result = keyless(await sendSignRequest(request({ timeoutMs: 700 })));
    expect(result).toEqual({ kind: 'unreachable', cause: expect.stringMatching(/no complete answer within 0\.7 s/) });
    expect(Date.now() - start).toBeGreaterThanOrEqual(650);
    expect(Date.now() - start).toBeLessThan(2500);
  });

  it('gives up on an answer that drips in past the timeout (the timeout bounds the whole exchange)', async () => {
    fake.options.mode = 'drip';
    fake.options.dripMs = 150;
    const start = Date.now();
    const result = keyless(await sendSignRequest(request({ timeoutMs: 800 })));
    expect(result).toMatchObject({ kind: 'unreachable' });
    expect(Date.now() - start).toBeLessThan(2500);
  });

  it('refuses an answer longer than the cap', async () => {
    fake.options.mode = 'huge';
    expect(keyless(await sendSignRequest(request()))).toEqual({
      kind: 'bad-answer',
      status: 200,
      cause: 'the answer (HTTP 200) is longer than 65536 bytes',
    });
  });

  it('reports a closed port as unreachable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = keyless(await sendSignRequest(request({ url: `http://127.0.0.1:${port}/api/v1/signrequest` })));
    expect(result).toEqual({ kind: 'unreachable', cause: `127.0.0.1:${port}: ECONNREFUSED` });
  });

  it('sends plain HTTP to a loopback address only; nothing leaves for another host', async () => {
    const before = fake.requests.length;
    for (const url of [
      'http://mdmcert.download/api/v1/signrequest',
      'http://10.0.0.1/api/v1/signrequest',
      'http://[fe80::1]/x',
      'ftp://127.0.0.1/x',
    ]) {
      expect(keyless(await sendSignRequest(request({ url })))).toMatchObject({ kind: 'insecure-url' });
    }
    expect(fake.requests.length).toBe(before);
    for (const url of [MDMCERT_SIGN_URL, 'http://127.0.0.1:1/x', 'http://[::1]:1/x', 'http://localhost:1/x'])
      expect(checkMdmcertUrl(url)).toBeInstanceOf(URL);
  });
});

describe('files made by openssl cms -encrypt open with our reader', () => {
  it.each([
    ['-aes256', 'aes-256-cbc', []],
    ['-aes128', 'aes-128-cbc', []],
    ['-aes192', 'aes-192-cbc', []],
    ['-des3', 'des-ede3-cbc', []],
    ['-aes256', 'aes-256-cbc', ['-keyopt', 'rsa_padding_mode:oaep']],
    [
      '-aes256',
      'aes-256-cbc',
      ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-keyopt', 'rsa_mgf1_md:sha256'],
    ],
  ] as const)('%s %s %j', (flag, cipher, keyopts) => {
    const plaintext = Buffer.from(`PushCertificateRequest ${cipher} ${keyopts.join(' ')}`.repeat(20));
    const der = openssl(
      ['cms', '-encrypt', flag, '-binary', '-outform', 'DER', '-recip', exchangeCertFile, ...keyopts],
      plaintext,
    );
    const opened = decryptEnvelope(der, exchangeCert.der, exchangeKey);
    expect(opened).toEqual({
      plaintext,
      cipher,
      keyTransport: keyopts.length > 0 ? 'rsa-oaep' : 'rsa-pkcs1',
    });
    expect(decryptEnvelope(Buffer.from(der.toString('hex')), exchangeCert.der, exchangeKey).plaintext).toEqual(
      plaintext,
    );
  });

  it('openssl cms -encrypt -stream (BER, indefinite lengths, content in chunks) too', () => {
    const plaintext = Buffer.from('streamed '.repeat(2000));
    const ber = openssl(
      ['cms', '-encrypt', '-stream', '-aes256', '-binary', '-outform', 'DER', '-recip', exchangeCertFile],
      plaintext,
    );
    expect(ber.subarray(0, 2)).toEqual(Buffer.from([0x30, 0x80]));
    expect(decryptEnvelope(ber, exchangeCert.der, exchangeKey).plaintext).toEqual(plaintext);
  });

  it('openssl smime -encrypt (PKCS#7, PEM) too', () => {
    const plaintext = Buffer.from('via smime');
    const pem = openssl(['smime', '-encrypt', '-aes256', '-binary', '-outform', 'PEM', exchangeCertFile], plaintext);
    expect(pem.toString()).toContain('-----BEGIN PKCS7-----');
    expect(decryptEnvelope(pem, exchangeCert.der, exchangeKey).plaintext).toEqual(plaintext);
  });
});
