/**
 * checkPushRequest: each check of a PushCertificateRequest fails on purpose, with a minted vendor hierarchy and a
 * fixed clock; and the real requests (Abacus 2018 and 2020) hold at their dates, with their SHA-1 reported.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCertificateFile, decodeCsrFile } from '../../src/core/input.js';
import { parseCsr } from '../../src/core/csr-parse.js';
import { buildCsr } from '../../src/core/csr.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { checkPushRequest } from '../../src/core/request-checks.js';
import type { RequestCheckName, RequestCheckOptions } from '../../src/core/request-checks.js';
import { BadInput } from '../../src/core/errors.js';
import { REAL } from '../helpers/cli.js';
import { createVendorHierarchy, daysFrom } from '../helpers/fake-apple.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const derOf = (pem: string) => decodeCertificateFile(Buffer.from(pem), 'cert.pem').certificates[0]!.der;

type Vendor = ReturnType<typeof createVendorHierarchy>;

/** A plist as Apple's portal takes it, with every part replaceable. */
function plistOf(fields: Array<[string, string, string?]>): string {
  const body = fields.map(([k, v, type = 'string']) => `<key>${k}</key><${type}>${v}</${type}>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>\n${body}\n</dict></plist>\n`;
}

function request(
  v: Vendor,
  opts: { csrDer?: Buffer; chain?: string[]; hash?: 'sha256' | 'sha1'; signer?: string; extra?: [string, string] } = {},
): Buffer {
  const csrDer = opts.csrDer ?? csr.der;
  const signature = sign(opts.hash ?? 'sha256', csrDer, createPrivateKey(opts.signer ?? v.vendor.privatePem));
  const fields: Array<[string, string, string?]> = [
    ['PushCertCertificateChain', (opts.chain ?? [v.vendor.pem, v.wwdr.pem, v.root.pem]).join('')],
    ['PushCertRequestCSR', csrDer.toString('base64')],
    ['PushCertSignature', signature.toString('base64')],
  ];
  if (opts.extra) fields.push(opts.extra);
  return Buffer.from(Buffer.from(plistOf(fields)).toString('base64').replace(/.{76}/g, '$&\n'));
}

const pushKey = describePrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const csr = buildCsr(pushKey, { commonName: 'push', email: 'admin@example.com', country: 'US' });
const pendingSpki = createPublicKey(pushKey.key).export({ type: 'spki', format: 'der' });

function run(bytes: Uint8Array, extra: Partial<RequestCheckOptions> = {}) {
  return checkPushRequest(bytes, { at: NOW, purpose: 'upload', ...extra });
}
const failed = (r: ReturnType<typeof run>) => r.checks.filter((c) => !c.ok).map((c) => c.check);
const named = (r: ReturnType<typeof run>, name: RequestCheckName) => r.checks.find((c) => c.check === name);

describe('checkPushRequest on a minted vendor hierarchy, at a fixed instant', () => {
  let v: Vendor;
  let other: Vendor;
  let roots: Uint8Array[];
  beforeAll(() => {
    v = createVendorHierarchy(NOW);
    other = createVendorHierarchy(NOW); // the same names, other keys
    roots = [derOf(v.root.pem)];
  });

  it('a whole request holds every check with its root given (the raw plist and its base64 alike)', () => {
    const r = run(request(v), { extraRoots: roots, pendingPublicKeySpki: pendingSpki });
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.check)).toEqual([
      'plist-keys',
      'csr-decodes',
      'chain-decodes',
      'signature-decodes',
      'csr-signature',
      'csr-key',
      'vendor-signature',
      'signature-hash',
      'chain-order',
      'chain-root',
      'chain-validity',
      'vendor-days-left',
    ]);
    expect(r.checks.every((c) => c.severity === 'ok')).toBe(true);
    const raw = Buffer.from(request(v).toString(), 'base64');
    expect(run(raw, { extraRoots: roots }).ok).toBe(true);
    expect(run(raw, { extraRoots: roots, pendingKeyId: pushKey.keyId }).ok).toBe(true);
  });

  it('an extra plist key fails plist-keys, and so does a key of another type', () => {
    expect(failed(run(request(v, { extra: ['Comment', 'hi'] }), { extraRoots: roots }))).toEqual(['plist-keys']);
    const asData = plistOf([
      ['PushCertCertificateChain', [v.vendor.pem, v.wwdr.pem, v.root.pem].join('')],
      ['PushCertRequestCSR', csr.der.toString('base64'), 'data'],
      ['PushCertSignature', sign('sha256', csr.der, createPrivateKey(v.vendor.privatePem)).toString('base64')],
    ]);
    const r = run(Buffer.from(asData), { extraRoots: roots });
    expect(failed(r)).toEqual(['plist-keys']);
    expect(named(r, 'plist-keys')!.actual).toMatch(/PushCertRequestCSR \(data\)/);
  });

  it('an undecodable CSR fails csr-decodes; the checks that need the CSR are left out', () => {
    const bytes = Buffer.from(
      plistOf([
        ['PushCertCertificateChain', [v.vendor.pem, v.wwdr.pem, v.root.pem].join('')],
        ['PushCertRequestCSR', Buffer.from('not a csr').toString('base64')],
        ['PushCertSignature', 'AAAA'],
      ]),
    );
    const r = run(bytes, { extraRoots: roots });
    expect(failed(r)).toEqual(['csr-decodes']);
    expect(r.checks.map((c) => c.check)).not.toContain('vendor-signature');
    expect(r.ok).toBe(false);
  });

  it('a CSR whose own signature is broken fails csr-signature', () => {
    const broken = Buffer.from(csr.der);
    broken[broken.length - 5]! ^= 0xff;
    const r = run(request(v, { csrDer: broken }), { extraRoots: roots });
    expect(failed(r)).toEqual(['csr-signature']);
  });

  it('a CSR of another key than the pending one fails csr-key', () => {
    const otherKey = describePrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const r = run(request(v), { extraRoots: roots, pendingKeyId: otherKey.keyId });
    expect(failed(r)).toEqual(['csr-key']);
    expect(named(r, 'csr-key')).toMatchObject({ expected: `the pending key ${otherKey.keyId}` });
  });

  it('a signature by another vendor key fails vendor-signature', () => {
    const r = run(request(v, { signer: other.vendor.privatePem }), { extraRoots: roots });
    expect(failed(r)).toEqual(['vendor-signature']);
  });

  it('a SHA-1 signature fails for an upload and is a warning on inspect', () => {
    const bytes = request(v, { hash: 'sha1' });
    const upload = run(bytes, { extraRoots: roots });
    expect(failed(upload)).toEqual(['signature-hash']);
    expect(named(upload, 'signature-hash')!.actual).toMatch(/SHA-1: Apple has required SHA-256 since 2021/);
    const inspect = run(bytes, { extraRoots: roots, purpose: 'inspect' });
    expect(inspect.ok).toBe(true);
    expect(named(inspect, 'signature-hash')).toMatchObject({ ok: true, severity: 'warn', actual: 'SHA-1' });
  });

  it('a chain with the wrong intermediate (same name, other key) fails chain-order although the signature is valid', () => {
    const r = run(request(v, { chain: [v.vendor.pem, other.wwdr.pem, v.root.pem] }), { extraRoots: roots });
    expect(failed(r)).toEqual(['chain-order']);
    expect(named(r, 'vendor-signature')!.ok).toBe(true);
    expect(named(r, 'chain-order')!.actual).toMatch(/does not verify with the key of "Test Worldwide Developer/);
  });

  it('an out-of-order chain fails chain-order (and the vendor signature, when the vendor is not first)', () => {
    const swapped = run(request(v, { chain: [v.vendor.pem, v.root.pem, v.wwdr.pem] }), { extraRoots: roots });
    expect(failed(swapped)).toEqual(['chain-order']);
    const rootFirst = run(request(v, { chain: [v.root.pem, v.wwdr.pem, v.vendor.pem] }), { extraRoots: roots });
    expect(failed(rootFirst)).toEqual(expect.arrayContaining(['vendor-signature', 'chain-order']));
  });

  it('an unknown root fails chain-root; the same root given as an extra root passes', () => {
    const bytes = request(v);
    const r = run(bytes);
    expect(failed(r)).toEqual(['chain-root']);
    expect(named(r, 'chain-root')!.actual).toMatch(/"Test Root CA", which is not an Apple root/);
    expect(run(bytes, { extraRoots: [derOf(other.root.pem)] }).ok).toBe(false);
    expect(run(bytes, { extraRoots: roots }).ok).toBe(true);
    // a chain that stops at the intermediate reaches the given root too
    expect(run(request(v, { chain: [v.vendor.pem, v.wwdr.pem] }), { extraRoots: roots }).ok).toBe(true);
  });

  it('an expired chain certificate fails chain-validity; an expired vendor certificate also fails vendor-days-left', () => {
    const r = run(request(v), { extraRoots: roots, at: daysFrom(NOW, 1200) }); // the intermediate ends at +1000
    expect(failed(r)).toEqual(['chain-validity', 'vendor-days-left']);
    expect(named(r, 'chain-validity')!.actual).toMatch(/"Test Worldwide Developer Relations CA" valid/);
    const early = run(request(v), { extraRoots: roots, at: daysFrom(NOW, -40) }); // before the vendor's notBefore
    expect(failed(early)).toEqual(['chain-validity']);
  });

  it('a vendor certificate with under 30 days left is a warning, not a failure', () => {
    const short = createVendorHierarchy(NOW, 20);
    const r = run(request(short), { extraRoots: [derOf(short.root.pem)] });
    expect(r.ok).toBe(true);
    expect(named(r, 'vendor-days-left')).toMatchObject({
      ok: true,
      severity: 'warn',
      actual: expect.stringMatching(/^20 days left/),
    });
    expect(named(r, 'vendor-days-left')!.warning).toMatch(/expires in 20 days/);
    const thirty = createVendorHierarchy(NOW, 30);
    expect(named(run(request(thirty), { extraRoots: [derOf(thirty.root.pem)] }), 'vendor-days-left')!.severity).toBe(
      'ok',
    );
  });

  it('bytes that are no plist at all are a typed core error', () => {
    expect(() => run(Buffer.from('hello'))).toThrow(BadInput);
    expect(() => run(Buffer.from('<plist><array/></plist>'))).toThrow(/not a dictionary/);
  });
});

describe('checkPushRequest on the real Abacus requests (SHA-1, WWDR G1, Apple Root CA)', () => {
  for (const [year, at] of [
    ['2018', '2019-01-01T00:00:00Z'],
    ['2020', '2020-06-01T00:00:00Z'],
  ] as const) {
    it(`${year}: valid at its date; SHA-1 reported, accepted on inspect, failed for an upload`, () => {
      for (const file of [`push-cert-request_abacus_${year}.plist`, `push-cert-request_abacus_${year}.plist.b64`]) {
        const bytes = readFileSync(join(REAL, file));
        const inspect = checkPushRequest(bytes, { at: new Date(at), purpose: 'inspect' });
        expect(
          inspect.checks.filter((c) => !c.ok),
          file,
        ).toEqual([]);
        expect(inspect.signatureHash).toBe('sha1');
        expect(inspect.checks.find((c) => c.check === 'chain-root')!.actual).toMatch(
          /^MDM Vendor: Abacus Research AG -> Apple Worldwide Developer Relations Certification Authority -> Apple Root CA/,
        );
        const upload = checkPushRequest(bytes, { at: new Date(at), purpose: 'upload' });
        expect(upload.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['signature-hash']);
        // today, the vendor certificate and WWDR G1 have long expired
        const now = checkPushRequest(bytes, { at: NOW, purpose: 'inspect' });
        expect(now.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['chain-validity', 'vendor-days-left']);
      }
    });
  }

  it('the real base64 with line breaks and spaces anywhere reads the same', () => {
    const b64 = readFileSync(join(REAL, 'push-cert-request_abacus_2018.plist.b64'), 'utf8');
    const wrapped = Buffer.from(`  ${b64.replace(/.{64}/g, '$&\r\n').replace(/(.{10})(.{5})/, '$1 \t$2')}\n\n`);
    const r = checkPushRequest(wrapped, { at: new Date('2019-01-01T00:00:00Z'), purpose: 'inspect' });
    expect(r.ok).toBe(true);
    expect(r.checks).toHaveLength(11);
  });

  it('2020: the CSR carries the key of the 2020 push CSR', () => {
    const bytes = readFileSync(join(REAL, 'push-cert-request_abacus_2020.plist'));
    const csrDer = decodeCsrFile(readFileSync(join(REAL, 'csr_abacus-push_2020.pem')), 'csr');
    const csrSpki = parseCsr(csrDer, 'csr').publicKey.export({ type: 'spki', format: 'der' });
    const at = new Date('2020-06-01T00:00:00Z');
    expect(checkPushRequest(bytes, { at, purpose: 'inspect', pendingPublicKeySpki: csrSpki }).ok).toBe(true);
    expect(checkPushRequest(bytes, { at, purpose: 'inspect', pendingPublicKeySpki: pendingSpki }).ok).toBe(false);
  });
});
