import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { DamagedStoreFile, WrongPassphrase } from './errors.js';

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
    throw new DamagedStoreFile(`read ${what}: not valid JSON`, undefined);
  }
  const box = data as Partial<SealedBox>;
  if (
    box?.version !== 1 ||
    box.alg !== 'aes-256-gcm' ||
    typeof box.iv !== 'string' ||
    typeof box.tag !== 'string' ||
    typeof box.ciphertext !== 'string'
  ) {
    throw new DamagedStoreFile(`read ${what}: not an apns-cert sealed box`, undefined);
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
    // The master key is the store's own (its wrap or the keychain entry opened): the key file is damaged or foreign.
    throw new DamagedStoreFile(
      `decrypt key ${keyId.slice(0, 16)}: keys/${keyId}.key is damaged or belongs to another store (the store's master key does not open it)`,
      `keys/${keyId}.key`,
    );
  }
  return pkcs8;
}

/**
 * What a sealed secret is for; bound into its box, so a secret cannot be opened as another kind: a deploy
 * target's credential, or a record's Apple ID (`--remember-apple-id`, UTF-8).
 */
export type SecretKind = 'target-credential' | 'apple-id';

const SECRET_AAD_PREFIX = 'apns-cert secret v1 ';
const secretAad = (kind: SecretKind, id: string) => `${SECRET_AAD_PREFIX}${kind} ${id}`;

/** Encrypts a secret (a credential) under the store master key, bound to its id and kind. */
export function sealSecret(bytes: Uint8Array, masterKey: Uint8Array, id: string, kind: SecretKind): SealedBox {
  return seal(bytes, masterKey, secretAad(kind, id));
}

/** Opens a sealed secret; `file` names it in the message when the box is damaged, foreign or of another kind. */
export function openSecret(box: SealedBox, masterKey: Uint8Array, id: string, kind: SecretKind, file: string): Buffer {
  const bytes = open(box, masterKey, secretAad(kind, id));
  if (bytes === null)
    throw new DamagedStoreFile(
      `decrypt secret ${id.slice(0, 16)}: ${file} is damaged or belongs to another store (the store's master key does not open it as a ${kind})`,
      file,
    );
  return bytes;
}

/** scrypt parameters, as stored with what they protect. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * New master-key wraps and Apple ID hashes: scrypt N=2^17, r=8, p=1 (OWASP password storage cheat sheet),
 * 128 MiB and ~0.5 s a derivation. Older stores and hashes keep the parameters they were made with.
 */
export const SCRYPT_PARAMS: ScryptParams = { N: 1 << 17, r: 8, p: 1 };

/** scrypt needs 128·N·r bytes; node refuses above `maxmem` (default 32 MiB), so it is set from the parameters. */
export const scryptMaxmem = (params: ScryptParams) => 128 * params.N * params.r + 16 * 1024 * 1024;

/** Parameters this tool will run: N a power of two from 2^10 to 2^20, r 1..32, p 1..16, at most 1 GiB. */
export function validScryptParams(params: { N?: unknown; r?: unknown; p?: unknown }): boolean {
  const { N, r, p } = params;
  return (
    Number.isInteger(N) &&
    Number.isInteger(r) &&
    Number.isInteger(p) &&
    (N as number) >= 1 << 10 &&
    (N as number) <= 1 << 20 &&
    ((N as number) & ((N as number) - 1)) === 0 &&
    (r as number) >= 1 &&
    (r as number) <= 32 &&
    (p as number) >= 1 &&
    (p as number) <= 16 &&
    128 * (N as number) * (r as number) <= 1 << 30
  );
}

/**
 * The master key wrapped under a passphrase (scrypt + AES-256-GCM). `check` (since issue 9) is an HMAC of
 * a fixed text under the passphrase-derived key: it tells a wrong passphrase (check differs) from a damaged
 * box (check matches, the box does not open). It lets a guess be tested no faster than the box itself does:
 * each guess still costs one scrypt. Wraps without it (older stores) cannot tell the two apart.
 */
export interface WrappedMasterKey {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  check?: string;
  box: SealedBox;
}

const MASTER_AAD = 'apns-cert master key v1';
const CHECK_TEXT = 'apns-cert passphrase check v1';

/** scrypt on libuv's thread pool (~0.5 s at N=2^17), so that key generation can run beside it. */
function deriveKey(passphrase: string, kdf: WrappedMasterKey['kdf']): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      passphrase.normalize('NFC'),
      Buffer.from(kdf.salt, 'base64'),
      32,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: scryptMaxmem(kdf) },
      (error, key) =>
        error
          ? reject(
              new DamagedStoreFile(
                `unlock the store: scrypt refuses the parameters in the wrapped master key (${error.message})`,
                'master-key.json',
              ),
            )
          : resolve(key),
    );
  });
}

const checkValue = (kek: Buffer) => createHmac('sha256', kek).update(CHECK_TEXT).digest();

export async function wrapMasterKey(masterKey: Uint8Array, passphrase: string): Promise<WrappedMasterKey> {
  const kdf = { name: 'scrypt' as const, ...SCRYPT_PARAMS, salt: randomBytes(16).toString('base64') };
  const kek = await deriveKey(passphrase, kdf);
  return { version: 1, kdf, check: checkValue(kek).toString('base64'), box: seal(masterKey, kek, MASTER_AAD) };
}

/** True when `wrapped` has its check value and costs at least today's parameters (N·r): `store upgrade` leaves it. */
export function isCurrentWrap(wrapped: WrappedMasterKey): boolean {
  return wrapped.check !== undefined && wrapped.kdf.N * wrapped.kdf.r >= SCRYPT_PARAMS.N * SCRYPT_PARAMS.r;
}

export async function unwrapMasterKey(
  wrapped: WrappedMasterKey,
  passphrase: string,
  path = 'master-key.json',
): Promise<Buffer> {
  const kek = await deriveKey(passphrase, wrapped.kdf);
  const wrongPassphrase = (orDamaged: boolean) => new WrongPassphrase(path, orDamaged);
  if (wrapped.check !== undefined && !timingSafeEqual(checkValue(kek), Buffer.from(wrapped.check, 'base64')))
    throw wrongPassphrase(false);
  const key = open(wrapped.box, kek, MASTER_AAD);
  if (key === null) {
    if (wrapped.check === undefined) throw wrongPassphrase(true);
    throw new DamagedStoreFile(
      `unlock the store: ${path} is damaged (the passphrase is right, but the wrapped master key does not decrypt)`,
      path,
    );
  }
  return key;
}

export function parseWrappedMasterKey(text: string, path = 'master-key.json'): WrappedMasterKey {
  const damaged = (cause: string) => new DamagedStoreFile(`read the wrapped master key ${path}: ${cause}`, path);
  let data: Partial<WrappedMasterKey>;
  try {
    data = JSON.parse(text) as Partial<WrappedMasterKey>;
  } catch {
    throw damaged('not valid JSON');
  }
  const kdf = data?.kdf;
  if (data?.version !== 1 || kdf?.name !== 'scrypt' || typeof kdf.salt !== 'string' || data.box === undefined)
    throw damaged('unknown format');
  if (!validScryptParams(kdf))
    throw damaged(
      `scrypt parameters N=${String(kdf.N)} r=${String(kdf.r)} p=${String(kdf.p)} are not ones this tool runs`,
    );
  if (data.check !== undefined && (typeof data.check !== 'string' || Buffer.from(data.check, 'base64').length !== 32))
    throw damaged('its check value is not 32 bytes of base64');
  parseSealedBox(JSON.stringify(data.box), `the wrapped master key ${path}`);
  return data as WrappedMasterKey;
}
