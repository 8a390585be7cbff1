import { createPublicKey, sign } from 'node:crypto';
import forge from 'node-forge';
import { AppError } from '../errors.js';
import { toPem } from './certificate.js';
import type { PrivateKeyInfo } from './keys.js';

export interface CsrSubject {
  commonName: string;
  email?: string | undefined;
  country?: string | undefined;
}

export function validateCsrSubject(subject: CsrSubject): CsrSubject {
  if (subject.commonName.trim() === '' || subject.commonName.length > 64) {
    throw new AppError('USAGE', 'read --common-name: it must be 1-64 characters', { hint: 'apns-cert csr --name acme-prod --common-name "ACME MDM"' });
  }
  if (subject.country !== undefined && !/^[A-Z]{2}$/.test(subject.country)) {
    throw new AppError('USAGE', `read --country: "${subject.country}" is not a two-letter ISO 3166 code such as US or CH`, { hint: 'apns-cert csr --name acme-prod --country US' });
  }
  if (subject.email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(subject.email)) {
    throw new AppError('USAGE', `read --email: "${subject.email}" is not an e-mail address`, { hint: 'apns-cert csr --name acme-prod --email admin@example.com' });
  }
  return subject;
}

/**
 * A PKCS#10 CSR (SHA-256 with RSA). forge builds the ASN.1; node's native crypto signs it
 * (forge's pure-JS signing is ~20x slower).
 */
export function buildCsr(key: PrivateKeyInfo, subject: CsrSubject): { pem: string; der: Buffer } {
  const csr = forge.pki.createCertificationRequest();
  const publicPem = createPublicKey(key.key).export({ type: 'spki', format: 'pem' }).toString();
  csr.publicKey = forge.pki.publicKeyFromPem(publicPem);
  const attrs: forge.pki.CertificateField[] = [];
  if (subject.email !== undefined) attrs.push({ name: 'emailAddress', value: subject.email });
  attrs.push({ name: 'commonName', value: forge.util.encodeUtf8(subject.commonName), valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class });
  if (subject.country !== undefined) attrs.push({ name: 'countryName', value: subject.country });
  csr.setSubject(attrs);

  const pki = forge.pki as typeof forge.pki & {
    getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1;
  };
  const info = pki.getCertificationRequestInfo(csr);
  const infoDer = Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary');
  const signature = sign('sha256', infoDer, key.key);
  const { asn1 } = forge;
  const request = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    info,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(forge.pki.oids.sha256WithRSAEncryption!).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${signature.toString('binary')}`),
  ]);
  const der = Buffer.from(asn1.toDer(request).getBytes(), 'binary');
  return { der, pem: toPem(der, 'CERTIFICATE REQUEST') };
}
