/**
 * inspect says what a certificate or request says, and no more: the environment only from its extension, an MDM
 * vendor certificate as one, and a push certificate request's chain checked link by link.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../src/core/certificate.js';
import { decodeCertificateFile, decodeCsrFile } from '../../src/core/input.js';
import { buildPushRequest } from '../../src/core/push-request.js';
import { REAL, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, createVendorHierarchy, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const info = (pem: string) => decodeCertificateFile(Buffer.from(pem), 'chain.pem').certificates[0]!;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g;

describe('inspect: push certificate requests, their chain link by link', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    const csrDer = decodeCsrFile(readFileSync(join(REAL, 'csr_abacus-push_2020.pem')), 'csr');
    const mine = createVendorHierarchy(new Date());
    const other = createVendorHierarchy(new Date()); // the same names, other keys
    const request = (chain: string[]) =>
      buildPushRequest(csrDer, chain.map(info), createPrivateKey(mine.vendor.privatePem)).base64;
    writeFileSync(join(dir, 'whole.req'), request([mine.vendor.pem, mine.wwdr.pem, mine.root.pem]));
    writeFileSync(join(dir, 'wrong-intermediate.req'), request([mine.vendor.pem, other.wwdr.pem, mine.root.pem]));
    // the real request with its WWDR G1 intermediate swapped for G3: the vendor signature over the CSR still verifies
    const real = readFileSync(join(REAL, 'push-cert-request_abacus_2018.plist'), 'utf8');
    let n = 0;
    const g3 = readFileSync(join(REAL, 'ca_apple-wwdr-ca-g3.pem'), 'utf8');
    writeFileSync(
      join(dir, 'real-wrong-wwdr.plist'),
      real.replace(PEM_BLOCK, (block) => (n++ === 1 ? g3 : block)),
    );
  });

  it('the real request chains to Apple Root CA (exit 0)', async () => {
    const r = await runInProcess(['inspect', join(REAL, 'push-cert-request_abacus_2018.plist')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /chain links\s+valid: MDM Vendor: Abacus Research AG -> Apple Worldwide Developer Relations Certification Authority -> Apple Root CA\n/,
    );
  });

  it('the real request with the wrong WWDR intermediate: the signature verifies but is not called valid, the chain is broken, exit 1', async () => {
    const file = join(dir, 'real-wrong-wwdr.plist');
    const r = await runInProcess(['inspect', file]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/OU=G3/);
    expect(r.stdout).toMatch(
      /chain links\s+BROKEN: "MDM Vendor: Abacus Research AG" is issued by ".*OU=Apple Worldwide Developer Relations.*", but the next certificate of the chain is ".*OU=G3.*"/,
    );
    // the bug of issue 11: this said "signature valid"; the signature verifies with a vendor key Apple does not vouch for
    expect(r.stdout).not.toMatch(/signature\s+valid/);
    expect(r.stdout).toMatch(
      /signature\s+verifies \(sha1WithRSAEncryption, by the first certificate of the chain, but that certificate does not chain to a trusted root/,
    );
    expect(r.stdout).toMatch(/^\s+FAIL chain-order: /m);
    const json = await runInProcess(['inspect', file, '--json', '--at', '2019-01-01']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      signatureValid: true,
      chainCheck: { valid: false, brokenLink: 0 },
      ok: false,
    });
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check)).toEqual([
      'chain-order',
      'chain-validity', // WWDR G3 begins in 2020, after this vendor certificate ended
    ]);
  });

  it('a minted vendor chain with an intermediate of the right name and another key: broken link, exit 1', async () => {
    const r = await runInProcess(['inspect', join(dir, 'wrong-intermediate.req'), '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ signatureValid: true, chainCheck: { valid: false, brokenLink: 0 } });
    expect(report.chainCheck.problem).toMatch(
      /the signature of "MDM Vendor: Example MDM Inc." does not verify with the key of "Test Worldwide Developer Relations CA"/,
    );
  });

  it('a minted vendor chain whose links hold is shown as not Apple-issued (exit 0, as for certificates)', async () => {
    const r = await runInProcess(['inspect', join(dir, 'whole.req')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /chain links\s+not Apple-issued \(the chain ends at "Test Root CA", which is not an Apple root\)/,
    );
  });
});

describe('inspect: certificates, only what they say', () => {
  it('the real MDM vendor certificate: kind mdm-vendor, its UID is not a push topic', async () => {
    const file = join(REAL, 'mdm-vendor_abacus_REVH4Q2Z39_2018.pem');
    const r = await runInProcess(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kind\s+mdm-vendor$/m);
    expect(r.stdout).toMatch(
      /^topic\s+none \(the UID "REVH4Q2Z39" is not a push topic: this is an MDM vendor certificate, which signs push certificate requests\)$/m,
    );
    expect(r.stdout).not.toMatch(/no UID/);
    const json = JSON.parse((await runInProcess(['inspect', file, '--json'])).stdout);
    expect(json).toMatchObject({ kind: 'mdm-vendor', uid: 'REVH4Q2Z39', topic: null, environment: null });
  });

  it('a v1 MDM certificate without the environment extension is not called production', async () => {
    const ca = createFakeCa();
    const cert = forge.pki.createCertificate();
    cert.version = 0; // X.509 v1
    cert.publicKey = forge.pki.publicKeyFromPem(newKeyPem().publicPem);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2036-01-01T00:00:00Z');
    cert.setSubject([
      { type: OID.uid, value: mdmTopic() },
      { name: 'commonName', value: 'APSP:v1' },
    ]);
    cert.setIssuer(ca.cert.subject.attributes);
    cert.sign(ca.key, forge.md.sha256.create());
    const file = join(tempDir(), 'v1.pem');
    writeFileSync(file, forge.pki.certificateToPem(cert));
    const r = await runInProcess(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kind\s+mdm$/m);
    expect(r.stdout).toMatch(/^environment\s+not stated \(no APNs environment extension in the certificate\)$/m);
    expect(r.stdout).not.toMatch(/production/);
    expect(JSON.parse((await runInProcess(['inspect', file, '--json'])).stdout)).toMatchObject({
      kind: 'mdm',
      environment: null,
    });
  });
});
