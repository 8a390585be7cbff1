import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { AppError } from '../errors.js';

/** AES-256-GCM box, serialised as JSON. `aad` binds the box to its purpose (e.g. the key id). */
export interface SealedBox {
  version: 1;
  alg: 'aes-256-gcm';
  iv: string;
  tag: string;
  ciphertext: string;
}

export function seal(plaintext: Uint8Array, key: Uint8Array, aad: string): SealedBox {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    version: 1,
    alg: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** Opens a box; returns null when the key is wrong or the box was altered. */
export function open(box: SealedBox, key: Uint8Array, aad: string): Buffer | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(box.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(box.ciphertext, 'base64')), decipher.final()]);
  } catch {
    return null;
  }
}

export function parseSealedBox(text: string, what: string): SealedBox {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AppError('STORE_CORRUPT', `read ${what}: not valid JSON`);
  }
  const box = data as Partial<SealedBox>;
  if (
    box?.version !== 1 ||
    box.alg !== 'aes-256-gcm' ||
    typeof box.iv !== 'string' ||
    typeof box.tag !== 'string' ||
    typeof box.ciphertext !== 'string'
  ) {
    throw new AppError('STORE_CORRUPT', `read ${what}: not an apns-cert sealed box`);
  }
  return box as SealedBox;
}

const KEY_AAD_PREFIX = 'apns-cert private key v1 ';

/** Encrypts a PKCS#8 private key under the store master key, bound to its key id. */
export function sealPrivateKey(pkcs8: Uint8Array, masterKey: Uint8Array, keyId: string): SealedBox {
  return seal(pkcs8, masterKey, KEY_AAD_PREFIX + keyId);
}

export function openPrivateKey(box: SealedBox, masterKey: Uint8Array, keyId: string): Buffer {
  const pkcs8 = open(box, masterKey, KEY_AAD_PREFIX + keyId);
  if (pkcs8 === null) {
    throw new AppError('STORE_CORRUPT', `decrypt key ${keyId.slice(0, 16)}: the store master key does not open it`, {
      hint: 'apns-cert show <name>   # check which store and backend this key belongs to',
    });
  }
  return pkcs8;
}

/** The master key wrapped under a passphrase (scrypt + AES-256-GCM). */
export interface WrappedMasterKey {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  box: SealedBox;
}

const MASTER_AAD = 'apns-cert master key v1';
const DEFAULT_KDF = { N: 1 << 15, r: 8, p: 1 };

/** scrypt on libuv's thread pool (~0.1 s at N=2^15), so that key generation can run beside it. */
function deriveKey(passphrase: string, kdf: WrappedMasterKey['kdf']): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function wrapMasterKey(masterKey: Uint8Array, passphrase: string): Promise<WrappedMasterKey> {
  const kdf = { name: 'scrypt' as const, ...DEFAULT_KDF, salt: randomBytes(16).toString('base64') };
  return { version: 1, kdf, box: seal(masterKey, await deriveKey(passphrase, kdf), MASTER_AAD) };
}

export async function unwrapMasterKey(wrapped: WrappedMasterKey, passphrase: string): Promise<Buffer> {
  const key = open(wrapped.box, await deriveKey(passphrase, wrapped.kdf), MASTER_AAD);
  if (key === null) {
    throw new AppError('WRONG_PASSPHRASE', 'unlock the store: wrong passphrase', {
      hint: 'APNS_CERT_PASSPHRASE=... apns-cert <command>   # or --passphrase-file <file>',
    });
  }
  return key;
}

export function parseWrappedMasterKey(text: string): WrappedMasterKey {
  let data: Partial<WrappedMasterKey>;
  try {
    data = JSON.parse(text) as Partial<WrappedMasterKey>;
  } catch {
    throw new AppError('STORE_CORRUPT', 'read the wrapped master key: not valid JSON');
  }
  const kdf = data?.kdf;
  if (
    data?.version !== 1 ||
    kdf?.name !== 'scrypt' ||
    ![kdf.N, kdf.r, kdf.p].every((n) => Number.isInteger(n) && n > 0) ||
    kdf.N > 1 << 20 ||
    typeof kdf.salt !== 'string' ||
    data.box === undefined
  ) {
    throw new AppError('STORE_CORRUPT', 'read the wrapped master key: unknown format');
  }
  parseSealedBox(JSON.stringify(data.box), 'the wrapped master key');
  return data as WrappedMasterKey;
}
