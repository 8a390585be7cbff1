import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { sha256Hex } from './certificate.js';

export interface PrivateKeyInfo {
  key: KeyObject;
  /** PKCS#8 DER of the private key. */
  pkcs8: Buffer;
  /** SHA-256 hex of the public key's SubjectPublicKeyInfo DER (same as CertificateInfo.publicKeyId). */
  keyId: string;
}

export function describePrivateKey(key: KeyObject): PrivateKeyInfo {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return { key, pkcs8, keyId: sha256Hex(spki) };
}

/** RSA-2048 with node's native crypto (never forge's pure-JS keygen), on libuv's thread pool so that other start-up work can run meanwhile. */
export function generateRsaKeyAsync(): Promise<PrivateKeyInfo> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (error, _publicKey, privateKey) => {
      if (error) reject(error);
      else resolve(describePrivateKey(privateKey));
    });
  });
}

export function privateKeyFromPkcs8(pkcs8: Uint8Array): PrivateKeyInfo {
  return describePrivateKey(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }));
}
