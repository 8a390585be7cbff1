/**
 * A fake "Apple" CA for tests: issues push certificates with the real subject layout
 * (UID = topic, CN = APSP:<uuid>, C), signed by a CA named like Apple's AAI2 intermediate.
 * Keys come from node's native crypto; forge only builds and signs the X.509 structure.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import forge from 'node-forge';
import { toPem } from '../../src/core/certificate.js';
import { parsePushRequest } from '../../src/core/push-request.js';

export interface FakeCa {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  pem: string;
}

export function newKeyPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function createFakeCa(commonName = 'Apple Application Integration 2 Certification Authority'): FakeCa {
  const { privatePem, publicPem } = newKeyPem();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2013-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2040-01-01T00:00:00Z');
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationalUnitName', value: 'Apple Certification Authority' },
    { name: 'organizationName', value: 'Apple Inc. (TEST)' },
    { name: 'countryName', value: 'US' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }]);
  const key = forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey;
  cert.sign(key, forge.md.sha256.create());
  return { cert, key, pem: forge.pki.certificateToPem(cert) };
}

export function mdmTopic(uuid: string = randomUUID()): string {
  return `com.apple.mgmt.External.${uuid}`;
}

export interface IssueOptions {
  publicKeyPem: string;
  topic: string | null;
  notBefore: Date;
  notAfter: Date;
  country?: string;
  serial?: string;
  commonName?: string;
}

let serialCounter = 0x1000;

export function issuePushCert(ca: FakeCa, opts: IssueOptions): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.publicKeyPem);
  cert.serialNumber = opts.serial ?? (serialCounter++).toString(16).padStart(16, '4');
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  const uuid = opts.topic?.split('.').pop() ?? randomUUID();
  const subject: forge.pki.CertificateField[] = [];
  if (opts.topic !== null) subject.push({ type: '0.9.2342.19200300.100.1.1', value: opts.topic });
  subject.push({ name: 'commonName', value: opts.commonName ?? `APSP:${uuid}` });
  subject.push({ name: 'countryName', value: opts.country ?? 'US' });
  cert.setSubject(subject);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.sign(ca.key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** What Apple's portal does with an uploaded CSR: a certificate for the CSR's key. */
export function signCsr(ca: FakeCa, csrPem: string, opts: Omit<IssueOptions, 'publicKeyPem'>): string {
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  if (!csr.verify()) throw new Error('CSR signature does not verify');
  return issuePushCert(ca, { ...opts, publicKeyPem: forge.pki.publicKeyToPem(csr.publicKey!) });
}

export const DAY = 86_400_000;
export function daysFrom(base: Date, days: number): Date {
  return new Date(base.getTime() + days * DAY);
}

export interface FakeIssued {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  pem: string;
  privatePem: string;
}

/** A certificate with any subject, issued by `issuer` (or self-signed when issuer is null). */
export function issueCert(
  issuer: FakeCa | FakeIssued | null,
  opts: {
    subject: forge.pki.CertificateField[];
    notBefore: Date;
    notAfter: Date;
    isCa?: boolean;
    keyPem?: { privatePem: string; publicPem: string };
    extensions?: object[];
  },
): FakeIssued {
  const keys = opts.keyPem ?? newKeyPem();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = (serialCounter++).toString(16).padStart(16, '5');
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  cert.setSubject(opts.subject);
  const key = forge.pki.privateKeyFromPem(keys.privatePem) as forge.pki.rsa.PrivateKey;
  cert.setIssuer(issuer === null ? opts.subject : issuer.cert.subject.attributes);
  cert.setExtensions([...(opts.isCa ? [{ name: 'basicConstraints', cA: true }] : []), ...(opts.extensions ?? [])]);
  cert.sign(issuer === null ? key : issuer.key, forge.md.sha256.create());
  return { cert, key, pem: forge.pki.certificateToPem(cert), privatePem: keys.privatePem };
}

/** A test "Apple" hierarchy for vendor signing: root → WWDR-like intermediate → MDM vendor certificate. */
export function createVendorHierarchy(now: Date, vendorDays = 365) {
  const root = issueCert(null, {
    subject: [
      { name: 'commonName', value: 'Test Root CA' },
      { name: 'organizationName', value: 'apns-cert tests' },
    ],
    notBefore: daysFrom(now, -3650),
    notAfter: daysFrom(now, 3650),
    isCa: true,
  });
  const wwdr = issueCert(root, {
    subject: [
      { name: 'commonName', value: 'Test Worldwide Developer Relations CA' },
      { name: 'organizationName', value: 'apns-cert tests' },
    ],
    notBefore: daysFrom(now, -1000),
    notAfter: daysFrom(now, 1000),
    isCa: true,
  });
  const vendor = issueCert(wwdr, {
    subject: [
      { type: '0.9.2342.19200300.100.1.1', value: 'TESTTEAM01' },
      { name: 'commonName', value: 'MDM Vendor: Example MDM Inc.' },
      { name: 'organizationalUnitName', value: 'TESTTEAM01' },
      { name: 'countryName', value: 'US' },
    ],
    notBefore: daysFrom(now, -30),
    notAfter: daysFrom(now, vendorDays),
  });
  return { root, wwdr, vendor };
}

/** Apple's portal in one step: signs the CSR in `csrPath` and writes the certificate to `certPath`. */
export function signCsrFile(
  ca: FakeCa,
  csrPath: string,
  certPath: string,
  opts: Omit<IssueOptions, 'publicKeyPem'>,
): string {
  writeFileSync(certPath, signCsr(ca, readFileSync(csrPath, 'utf8'), opts));
  return certPath;
}

/** What Apple's portal does with an uploaded PushCertificateRequest: a certificate for the CSR inside it, to `certPath`. */
export function signPushRequestFile(
  ca: FakeCa,
  requestPath: string,
  certPath: string,
  opts: Omit<IssueOptions, 'publicKeyPem'>,
): string {
  const request = parsePushRequest(readFileSync(requestPath), requestPath);
  writeFileSync(certPath, signCsr(ca, toPem(request.csr.der, 'CERTIFICATE REQUEST'), opts));
  return certPath;
}
