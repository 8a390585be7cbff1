/** inspect says what a certificate says, and no more: the environment only from its extension, an MDM vendor certificate as one. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { OID } from '../../src/core/certificate.js';
import { REAL, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

describe('inspect: certificates, only what they say', () => {
  it('the real MDM vendor certificate: kind mdm-vendor, its UID is not a push topic', async () => {
    const file = join(REAL, 'mdm-vendor_abacus_REVH4Q2Z39_2018.pem');
    const r = await runCli(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kind\s+mdm-vendor$/m);
    expect(r.stdout).toMatch(/^topic\s+none \(the UID "REVH4Q2Z39" is not a push topic: this is an MDM vendor certificate, which signs push certificate requests\)$/m);
    expect(r.stdout).not.toMatch(/no UID/);
    const json = JSON.parse((await runCli(['inspect', file, '--json'])).stdout);
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
    cert.setSubject([{ type: OID.uid, value: mdmTopic() }, { name: 'commonName', value: 'APSP:v1' }]);
    cert.setIssuer(ca.cert.subject.attributes);
    cert.sign(ca.key, forge.md.sha256.create());
    const file = join(tempDir(), 'v1.pem');
    writeFileSync(file, forge.pki.certificateToPem(cert));
    const r = await runCli(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kind\s+mdm$/m);
    expect(r.stdout).toMatch(/^environment\s+not stated \(no APNs environment extension in the certificate\)$/m);
    expect(r.stdout).not.toMatch(/production/);
    expect(JSON.parse((await runCli(['inspect', file, '--json'])).stdout)).toMatchObject({ kind: 'mdm', environment: null });
  });
});
