import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { BadInput, CoreError } from './errors.js';
import { parseName, sha256Hex } from './certificate.js';
import type { NameAttribute } from './certificate.js';
import { DerError, Tag, children, decodeOid, expectTag, readTlv, value } from './der.js';

/** Signature algorithm OID → node hash name (RSA PKCS#1 v1.5 and ECDSA). */
export const SIGNATURE_HASHES: Record<string, { name: string; hash: string }> = {
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
};

export interface CsrInfo {
  der: Buffer;
  subject: NameAttribute[];
  publicKey: KeyObject;
  /** SHA-256 of the SubjectPublicKeyInfo, as CertificateInfo.publicKeyId. */
  publicKeyId: string;
  signatureAlgorithm: string;
  /** The CSR's self-signature verifies with its own public key. */
  signatureValid: boolean;
}

/** Parses a PKCS#10 CSR (DER) and checks its self-signature. Throws BAD_INPUT when it is not one. */
export function parseCsr(der: Buffer, source: string): CsrInfo {
  try {
    const outer = expectTag(readTlv(der, 0), Tag.sequence, 'CertificationRequest');
    if (outer.end !== der.length) throw new DerError('trailing bytes after the CSR');
    const [info, algorithm, signature] = children(der, outer);
    const infoParts = children(der, expectTag(info, Tag.sequence, 'CertificationRequestInfo'));
    const subject = parseName(der, expectTag(infoParts[1], Tag.sequence, 'subject'));
    const spkiTlv = expectTag(infoParts[2], Tag.sequence, 'subjectPKInfo');
    const spki = der.subarray(spkiTlv.start, spkiTlv.end);
    const algOid = decodeOid(
      value(
        der,
        expectTag(children(der, expectTag(algorithm, Tag.sequence, 'signatureAlgorithm'))[0], Tag.oid, 'algorithm'),
      ),
    );
    const sigBits = value(der, expectTag(signature, Tag.bitString, 'signature'));
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const known = SIGNATURE_HASHES[algOid];
    let signatureValid = false;
    if (known !== undefined && sigBits[0] === 0) {
      signatureValid = verify(known.hash, der.subarray(info!.start, info!.end), publicKey, sigBits.subarray(1));
    }
    return {
      der,
      subject,
      publicKey,
      publicKeyId: sha256Hex(spki),
      signatureAlgorithm: known?.name ?? algOid,
      signatureValid,
    };
  } catch (error) {
    if (error instanceof CoreError) throw error;
    throw new BadInput(`read the CSR in ${source}: not a valid PKCS#10 request (${(error as Error).message})`, source);
  }
}
