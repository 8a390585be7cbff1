import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLE_CAS } from '../../src/core/apple-ca-bundle.js';
import { checkChain, checkRequestChain, extraCas } from '../../src/core/chain.js';
import { formatName } from '../../src/core/certificate.js';
import { parseCsr } from '../../src/core/csr-parse.js';
import { decodeCertificateFile, decodeCsrFile } from '../../src/core/input.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { decodePkcs12, encodePkcs12 } from '../../src/core/pkcs12.js';
import { buildPushRequest, parsePushRequest, verifyPushRequest } from '../../src/core/push-request.js';
import type { AppError } from '../../src/errors.js';
import { BadInput, WrongPassword } from '../../src/core/errors.js';
import { userError } from '../../src/commands/shared/errors.js';
import { codeOf } from '../helpers/errors.js';
import { REAL, tempDir } from '../helpers/cli.js';
import {
  createFakeCa,
  createVendorHierarchy,
  issueCert,
  issuePushCert,
  mdmTopic,
  newKeyPem,
} from '../helpers/fake-apple.js';

const read = (name: string) => readFileSync(join(REAL, name));
const leaf = (name: string) => decodeCertificateFile(read(name), name).certificates[0]!;

describe('app push certificates: topics and environment', () => {
  it.each([
    ['app-push_com.td.demo_2015_development-ios.pem', 'app', 'development'],
    ['app-push_ru.firstbit.bitmobile_2015_production-ios.pem', 'app', 'production'],
    ['mdm-push_abacus_APSP-51423b26_2020.pem', 'mdm', 'production'],
    ['mdm-push_nanomdm-e2e_APSP-e0bd1eac_2021.pem', 'mdm', 'production'],
  ])('%s is %s / %s', (file, kind, environment) => {
    const cert = leaf(file);
    expect(cert.kind).toBe(kind);
    expect(cert.environment).toBe(environment);
  });

  it('reads the full topic list of a multi-topic certificate', () => {
    expect(leaf('fake_pushy_multi-topic-client.pem').topics).toEqual([
      { topic: 'com.eatthepath.pushy', types: ['app'] },
      { topic: 'com.eatthepath.pushy.voip', types: ['voip'] },
      { topic: 'com.eatthepath.pushy.complication', types: ['complication'] },
    ]);
    expect(leaf('fake_pushy_single-topic-client.pem').topics).toEqual([
      { topic: 'com.eatthepath.pushy', types: ['app'] },
    ]);
  });

  it('reports a truncated topic extension as bad input', () => {
    const der = Buffer.from(leaf('fake_pushy_multi-topic-client.pem').der);
    // The topic list's inner SEQUENCE length byte sits right after its OCTET STRING header (see openssl asn1parse):
    const at = der.indexOf(Buffer.from('30730c14636f6d2e656174746865706174682e7075736879', 'hex'));
    expect(at).toBeGreaterThan(0);
    der[at + 1] = 0x7f; // the topic list now claims more bytes than its extension holds
    expect(() => decodeCertificateFile(der, 'bad-ext.der')).toThrow(/topic list extension is damaged/);
  });
});

describe('Apple chain validation', () => {
  it('the bundled CAs are, byte for byte, the published certificates in test/fixtures/real, and their subjects are right', () => {
    expect(APPLE_CAS.length).toBeGreaterThanOrEqual(16);
    for (const ca of APPLE_CAS) {
      const published = leaf(ca.file);
      expect(Buffer.from(ca.der, 'base64').equals(published.der), ca.file).toBe(true);
      expect(ca.subject, `${ca.file}: subject as scripts/gen-apple-ca.py wrote it`).toBe(formatName(published.subject));
    }
  });

  it.each([
    ['mdm-push_abacus_APSP-51423b26_2018.pem', '2019-01-01', 'Apple Application Integration 2 Certification Authority'],
    ['mdm-push_abacus_APSP-51423b26_2020.pem', '2020-06-01', 'Apple Application Integration 2 Certification Authority'],
    [
      'mdm-push_nanomdm-e2e_APSP-e0bd1eac_2021.pem',
      '2021-06-01',
      'Apple Application Integration 2 Certification Authority',
    ],
    [
      'mdm-vendor_abacus_REVH4Q2Z39_2018.pem',
      '2019-01-01',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'mdm-vendor_abacus_REVH4Q2Z39_2020.pem',
      '2020-06-01',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'app-push_com.td.demo_2015_development-ios.pem',
      '2016-01-01',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'app-push_ru.firstbit.bitmobile_2015_production-ios.pem',
      '2016-01-01',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'app-push_com.zuehlke.zwarm_2012_development-ios.pem',
      '2013-03-01',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    ['ca_apple-application-integration-2-ca.pem', '2020-01-01', null],
    ['ca_apple-wwdr-ca-g3.pem', '2022-01-01', null],
    ['ca_apple-wwdr-ca-g6.pem', '2022-01-01', null],
  ])('%s chains to an Apple root at %s', (file, at, intermediate) => {
    const verdict = checkChain(leaf(file), new Date(at));
    expect(verdict.problem).toBeNull();
    expect(verdict).toMatchObject({ appleIssued: true, valid: true });
    if (intermediate) expect(verdict.intermediate).toBe(intermediate);
    expect(verdict.root).toMatch(/^Apple Root CA/);
  });

  it('is invalid outside the validity window, and says why', () => {
    const verdict = checkChain(leaf('mdm-push_abacus_APSP-51423b26_2018.pem'), new Date('2026-11-29'));
    expect(verdict).toMatchObject({ appleIssued: true, valid: false });
    expect(verdict.problem).toMatch(/is not valid at 2026-11-29/);
  });

  it('reports a test CA as not Apple-issued rather than as an error', () => {
    const verdict = checkChain(leaf('fake_pushy_single-topic-client.pem'), new Date('2020-01-01'));
    expect(verdict).toMatchObject({ appleIssued: false, valid: false });
    expect(verdict.problem).toMatch(/PushyTestRoot.*not an Apple CA/);
  });

  it('catches a forgery that copies the Apple issuer name but is signed by another key', () => {
    const real = leaf('mdm-push_abacus_APSP-51423b26_2020.pem');
    const fakeAai2 = issueCert(null, {
      subject: real.issuer.map((a) => ({ type: a.oid, value: a.value })),
      notBefore: new Date('2013-01-01'),
      notAfter: new Date('2030-01-01'),
      isCa: true,
    });
    const forged = decodeCertificateFile(
      Buffer.from(
        issuePushCert(
          { cert: fakeAai2.cert, key: fakeAai2.key, pem: fakeAai2.pem },
          {
            publicKeyPem: newKeyPem().publicPem,
            topic: mdmTopic(),
            notBefore: new Date('2020-01-01'),
            notAfter: new Date('2021-01-01'),
          },
        ),
      ),
      'forged.pem',
    ).certificates[0]!;
    const verdict = checkChain(forged, new Date('2020-06-01'));
    expect(verdict.appleIssued).toBe(true);
    expect(verdict.valid).toBe(false);
    expect(verdict.problem).toMatch(/does not verify/);
  });
});

describe('PushCertificateRequest', () => {
  it.each([
    ['push-cert-request_abacus_2018.plist.b64', 'csr_abacus-push_2018.pem', 'mdm-push_abacus_APSP-51423b26_2018.pem'],
    ['push-cert-request_abacus_2018.plist', 'csr_abacus-push_2018.pem', 'mdm-push_abacus_APSP-51423b26_2018.pem'],
    ['push-cert-request_abacus_2020.plist.b64', 'csr_abacus-push_2020.pem', 'mdm-push_abacus_APSP-51423b26_2020.pem'],
    ['push-cert-request_abacus_2020.plist', 'csr_abacus-push_2020.pem', 'mdm-push_abacus_APSP-51423b26_2020.pem'],
  ])('the real %s verifies (SHA-1), holds the real CSR, whose key Apple certified', (file, csrFile, certFile) => {
    const request = parsePushRequest(read(file), file);
    expect(verifyPushRequest(request)).toEqual({ signatureAlgorithm: 'sha1WithRSAEncryption', signatureValid: true });
    expect(request.csr.der.equals(decodeCsrFile(read(csrFile), csrFile))).toBe(true);
    expect(request.csr.signatureValid).toBe(true);
    expect(request.csr.publicKeyId).toBe(leaf(certFile).publicKeyId);
    expect(request.chain.map((c) => c.subject.find((a) => a.type === 'CN')?.value)).toEqual([
      'MDM Vendor: Abacus Research AG',
      'Apple Worldwide Developer Relations Certification Authority',
      'Apple Root CA',
    ]);
  });

  it('builds a request whose SHA-256 signature openssl verifies with the vendor certificate', () => {
    const now = new Date();
    const { vendor, wwdr, root } = createVendorHierarchy(now);
    const vendorInfo = decodeCertificateFile(Buffer.from(vendor.pem), 'vendor.pem').certificates[0]!;
    const chain = [
      vendorInfo,
      ...checkChain(
        vendorInfo,
        now,
        extraCas(decodeCertificateFile(Buffer.from(wwdr.pem + root.pem), 'chain.pem').certificates),
      ).cas,
    ];
    expect(chain).toHaveLength(3);
    const csrDer = decodeCsrFile(read('csr_abacus-push_2020.pem'), 'csr');
    const built = buildPushRequest(csrDer, chain, createPrivateKey(vendor.privatePem));
    const parsed = parsePushRequest(Buffer.from(built.base64), 'built');
    expect(verifyPushRequest(parsed)).toEqual({ signatureAlgorithm: 'sha256WithRSAEncryption', signatureValid: true });
    const dir = tempDir();
    writeFileSync(join(dir, 'csr.der'), parsed.csr.der);
    writeFileSync(join(dir, 'sig.bin'), parsed.signature);
    writeFileSync(join(dir, 'vendor.pem'), vendor.pem);
    execFileSync('openssl', [
      'x509',
      '-in',
      join(dir, 'vendor.pem'),
      '-pubkey',
      '-noout',
      '-out',
      join(dir, 'pub.pem'),
    ]);
    const out = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(dir, 'pub.pem'),
      '-signature',
      join(dir, 'sig.bin'),
      join(dir, 'csr.der'),
    ]).toString();
    expect(out.trim()).toBe('Verified OK');
  });

  it('reports a signature by another key as invalid', () => {
    const request = parsePushRequest(read('push-cert-request_abacus_2018.plist'), 'r');
    const other = { ...request, chain: [leaf('mdm-vendor_abacus_REVH4Q2Z39_2020.pem'), ...request.chain.slice(1)] };
    expect(verifyPushRequest(other)).toEqual({ signatureAlgorithm: null, signatureValid: false });
  });

  it.each([
    ['not base64 or a plist', 'hello world, this is not a request'],
    ['base64 of something else', Buffer.from('just text').toString('base64')],
    [
      'a plist without the keys',
      '<?xml version="1.0"?><plist version="1.0"><dict><key>A</key><string>b</string></dict></plist>',
    ],
    ['a broken plist', '<?xml version="1.0"?><plist version="1.0"><dict><key>A</key>'],
    ['empty', ''],
  ])('refuses %s with a clear message', (_what, text) => {
    expect(codeOf(() => parsePushRequest(Buffer.from(text), 'req'))).toBe('BAD_INPUT');
  });
});

describe('the chain of a PushCertificateRequest, link by link', () => {
  const info = (pem: string) => decodeCertificateFile(Buffer.from(pem), 'chain.pem').certificates[0]!;
  const realChain = () => parsePushRequest(read('push-cert-request_abacus_2018.plist'), 'r').chain;

  it.each(['push-cert-request_abacus_2018.plist', 'push-cert-request_abacus_2020.plist.b64'])(
    'the real %s chains, link by link, to Apple Root CA',
    (file) => {
      expect(checkRequestChain(parsePushRequest(read(file), file).chain)).toEqual({
        valid: true,
        appleIssued: true,
        brokenLink: null,
        path: [
          'MDM Vendor: Abacus Research AG',
          'Apple Worldwide Developer Relations Certification Authority',
          'Apple Root CA',
        ],
        notInRequest: [],
        problem: null,
      });
    },
  );

  it('the real chain with the wrong WWDR intermediate (G3 for G1) is broken at the vendor certificate', () => {
    const chain = realChain();
    chain[1] = leaf('ca_apple-wwdr-ca-g3.pem');
    const verdict = checkRequestChain(chain);
    expect(verdict).toMatchObject({ valid: false, appleIssued: false, brokenLink: 0 });
    expect(verdict.problem).toBe(
      '"MDM Vendor: Abacus Research AG" is issued by "C=US, O=Apple Inc., OU=Apple Worldwide Developer Relations, CN=Apple Worldwide Developer Relations Certification Authority", ' +
        'but the next certificate of the chain is "CN=Apple Worldwide Developer Relations Certification Authority, OU=G3, O=Apple Inc., C=US"',
    );
  });

  it('a minted vendor chain whose intermediate has the right name but another key is broken at the vendor certificate', () => {
    const mine = createVendorHierarchy(new Date());
    const other = createVendorHierarchy(new Date()); // same names, other keys
    const verdict = checkRequestChain([info(mine.vendor.pem), info(other.wwdr.pem), info(mine.root.pem)]);
    expect(verdict).toMatchObject({ valid: false, brokenLink: 0 });
    expect(verdict.problem).toMatch(
      /the signature of "MDM Vendor: Example MDM Inc." does not verify with the key of "Test Worldwide Developer Relations CA"/,
    );
    const rootSwapped = checkRequestChain([info(mine.vendor.pem), info(mine.wwdr.pem), info(other.root.pem)]);
    expect(rootSwapped).toMatchObject({ valid: false, brokenLink: 1 });
  });

  it('a minted chain whose links all hold, ending at a test root, is whole but not Apple-issued', () => {
    const h = createVendorHierarchy(new Date());
    expect(checkRequestChain([info(h.vendor.pem), info(h.wwdr.pem), info(h.root.pem)])).toMatchObject({
      valid: false,
      appleIssued: false,
      brokenLink: null,
      problem: 'the chain ends at "Test Root CA", which is not an Apple root',
    });
  });

  it('a real chain without its root is completed from the bundled Apple CAs, and says what the request lacks', () => {
    expect(checkRequestChain(realChain().slice(0, 2))).toMatchObject({
      valid: true,
      brokenLink: null,
      notInRequest: ['Apple Root CA'],
    });
  });

  it("a forged root with Apple's name is a broken link", () => {
    const forged = issueCert(null, {
      subject: realChain()[2]!.subject.map((a) => ({ type: a.oid, value: a.value })),
      notBefore: new Date('2020-01-01'),
      notAfter: new Date('2030-01-01'),
      isCa: true,
    });
    const chain = realChain();
    chain[2] = info(forged.pem);
    expect(checkRequestChain(chain)).toMatchObject({ valid: false, brokenLink: 1 });
  });
});

describe('PKCS#12', () => {
  const dir = tempDir();
  const ca = createFakeCa();
  const keys = newKeyPem();
  const certPem = issuePushCert(ca, {
    publicKeyPem: keys.publicPem,
    topic: mdmTopic(),
    notBefore: new Date('2026-01-01'),
    notAfter: new Date('2027-01-01'),
  });
  writeFileSync(join(dir, 'cert.pem'), certPem);
  writeFileSync(join(dir, 'key.pem'), keys.privatePem);
  writeFileSync(join(dir, 'ca.pem'), ca.pem);
  const openssl = (out: string, ...extra: string[]) =>
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      join(dir, 'cert.pem'),
      '-inkey',
      join(dir, 'key.pem'),
      '-out',
      join(dir, out),
      ...extra,
    ]);
  openssl('modern.p12', '-passout', 'pass:secret', '-certfile', join(dir, 'ca.pem'));
  openssl('legacy.p12', '-passout', 'pass:secret', '-legacy');
  openssl('empty.p12', '-passout', 'pass:');
  const keyId = describePrivateKey(createPrivateKey(keys.privatePem)).keyId;

  it.each([
    ['modern.p12', 'secret'],
    ['legacy.p12', 'secret'],
    ['empty.p12', ''],
  ])('opens %s made by OpenSSL 3', (file, password) => {
    const decoded = decodePkcs12(readFileSync(join(dir, file)), password, file);
    expect(decoded.privateKeys.map((k) => k.keyId)).toEqual([keyId]);
    expect(decoded.certificates.some((c) => c.publicKeyId === keyId && c.kind === 'mdm')).toBe(true);
  });

  it('keeps the certificate bytes exactly as they were', () => {
    const decoded = decodePkcs12(readFileSync(join(dir, 'modern.p12')), 'secret', 'modern.p12');
    const original = decodeCertificateFile(Buffer.from(certPem), 'cert.pem').certificates[0]!;
    expect(decoded.certificates.map((c) => c.fingerprintSha256)).toContain(original.fingerprintSha256);
    expect(decoded.certificates).toHaveLength(2);
  });

  it.each([
    ['fake_pushy_single-topic-client.p12', 'pushy-test', 'com.eatthepath.pushy'],
    ['fake_pushy_multi-topic-client.p12', 'pushy-test', 'com.eatthepath.pushy'],
    ['fake_apns2_certificate-valid.p12', '', null],
  ])('opens the test-library fixture %s (RC2-40)', (file, password, topic) => {
    const decoded = decodePkcs12(read(file), password, file);
    expect(decoded.privateKeys).toHaveLength(1);
    expect(decoded.certificates[0]!.topic).toBe(topic);
    expect(decoded.certificates[0]!.publicKeyId).toBe(decoded.privateKeys[0]!.keyId);
  });

  it('says "wrong password" (77) for a wrong password, modern or legacy', () => {
    for (const file of ['modern.p12', 'legacy.p12']) {
      try {
        decodePkcs12(readFileSync(join(dir, file)), 'nope', file);
        expect.fail('should throw');
      } catch (error) {
        expect(error).toBeInstanceOf(WrongPassword);
        expect((error as WrongPassword).source).toBe(file);
        const shown = userError(error, 'import') as AppError;
        expect(shown.code).toBe('WRONG_PASSWORD');
        expect(shown.exitCode).toBe(77);
      }
    }
  });

  it('writes .p12 files OpenSSL reads: modern (AES-256, SHA-256 MAC) and legacy (3DES)', () => {
    const key = describePrivateKey(createPrivateKey(keys.privatePem));
    const cert = decodeCertificateFile(Buffer.from(certPem), 'cert.pem').certificates[0]!;
    for (const legacy of [false, true]) {
      const file = join(dir, legacy ? 'out-legacy.p12' : 'out.p12');
      writeFileSync(
        file,
        encodePkcs12(key, [cert], 'pw', { legacy, iterations: legacy ? 2048 : 600_000, friendlyName: 'test' }),
      );
      const text = execFileSync('sh', [
        '-c',
        `openssl pkcs12 -in ${file} -info -noout -passin pass:pw 2>&1`,
      ]).toString();
      expect(text).toContain(legacy ? 'MAC: sha1' : 'MAC: sha256');
      expect(text).toContain(legacy ? 'pbeWithSHA1And3-KeyTripleDES-CBC' : 'AES-256-CBC');
      const back = decodePkcs12(readFileSync(file), 'pw', file);
      expect(back.privateKeys[0]!.keyId).toBe(key.keyId);
      expect(back.certificates[0]!.fingerprintSha256).toBe(cert.fingerprintSha256);
    }
  });
});

describe('CSR parsing', () => {
  it('reads and verifies the real customer CSR', () => {
    const csr = parseCsr(decodeCsrFile(read('csr_abacus-push_2018.pem'), 'csr'), 'csr');
    expect(csr.signatureValid).toBe(true);
    expect(csr.subject.find((a) => a.type === 'CN')?.value).toBe('micromdm-user');
  });
  it('says a tampered CSR does not verify', () => {
    const der = Buffer.from(decodeCsrFile(read('csr_abacus-push_2018.pem'), 'csr'));
    der[40] = der[40]! ^ 0x01;
    let valid: boolean;
    try {
      valid = parseCsr(der, 'csr').signatureValid;
    } catch (error) {
      expect(error).toBeInstanceOf(BadInput);
      valid = false;
    }
    expect(valid).toBe(false);
  });
});
