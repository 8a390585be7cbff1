import * as nodeCrypto from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import forge from 'node-forge';
import { BadInput, CoreError, TooMuchWork, WrongPassword } from './errors.js';
import { parseCertificate } from './certificate.js';
import type { CertificateInfo } from './certificate.js';
import { context, nullValue, oid, sequence, set, tlv } from './der-encode.js';
import type { DecodedFile } from './input.js';
import { describePrivateKey } from './keys.js';
import type { PrivateKeyInfo } from './keys.js';
import { rejectReplacementCharacter } from './utf8.js';

/**
 * The most key-derivation work a .p12 may ask for, in hash chains of our PKCS#12 KDF (≈ 0.6 M a second on
 * the machines this was measured on; native PBKDF2 counts a third per iteration, being ~3× faster): about
 * 4 s, summed over the MAC and every encrypted bag, after which the file is refused (65). Real files: OpenSSL's
 * default 3 × 2048, ours 600 000 + 200 000. `openssl -iter 9999999` asks for ~17 M.
 */
const MAX_P12_WORK = 2_500_000;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
} as const;

/** Hashes by OID (as digest algorithm, and as HMAC PRF of PBKDF2): node name, output u and block v in bytes. */
const HASHES: Record<string, { name: string; u: number; v: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', u: 20, v: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', u: 28, v: 64 },
  [OID.sha256]: { name: 'sha256', u: 32, v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', u: 48, v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', u: 64, v: 128 },
};
const PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': '1.3.14.3.2.26',
  '1.2.840.113549.2.8': '2.16.840.1.101.3.4.2.4',
  [OID.hmacWithSha256]: OID.sha256,
  '1.2.840.113549.2.10': '2.16.840.1.101.3.4.2.2',
  '1.2.840.113549.2.11': '2.16.840.1.101.3.4.2.3',
};
/** PBES2 encryption schemes. */
const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  [OID.aes256Cbc]: { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
/** RFC 7292 appendix C: PKCS#12 PBE with SHA-1 (RC2 is in OpenSSL's legacy provider only: forge's RC2 then). */
const PKCS12_PBES: Record<string, { cipher: string; keyLength: number; ivLength: number }> = {
  [OID.pbeSha1TripleDes]: { cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, ivLength: 8 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, ivLength: 8 },
};
const SHA1 = HASHES['1.3.14.3.2.26']!;

/** The password as PKCS#12 KDFs take it: a BMPString (UTF-16BE) with a two-byte terminator, as OpenSSL 3 makes from UTF-8. */
function bmpPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
}

/** One-shot digest: crypto.hash (Node ≥ 20.12) is ~1.8× faster per call than createHash, which the KDF's chains feel. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;
const digest = (name: string, data: Buffer): Buffer =>
  oneShot ? oneShot(name, data, 'buffer') : createHash(name).update(data).digest();

/** RFC 7292 appendix B.2: the PKCS#12 key derivation (id 1 key, 2 IV, 3 MAC key). One hash chain per `u` bytes out. */
function pkcs12Kdf(
  hash: { name: string; u: number; v: number },
  password: Buffer,
  salt: Uint8Array,
  id: number,
  iterations: number,
  length: number,
): Buffer {
  const { name, u, v } = hash;
  const fill = (bytes: Uint8Array) => {
    const out = Buffer.alloc(bytes.length === 0 ? 0 : v * Math.ceil(bytes.length / v));
    for (let i = 0; i < out.length; i++) out[i] = bytes[i % bytes.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = digest(name, Buffer.concat([D, I]));
    for (let r = 1; r < iterations; r++) A = digest(name, A);
    blocks.push(A);
    if (produced + u >= length) break;
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        carry += I[j + k]! + B[k]!;
        I[j + k] = carry & 0xff;
        carry >>= 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

// ---------- reading ----------

type Node = forge.asn1.Asn1;
const { asn1 } = forge;
const bytesOf = (text: string) => Buffer.from(text, 'binary');

class Malformed extends Error {}

function parts(node: Node | undefined, what: string): Node[] {
  if (node === undefined || !Array.isArray(node.value)) throw new Malformed(`${what} is not a constructed value`);
  return node.value;
}
function oidOf(node: Node | undefined, what: string): string {
  if (node?.type !== asn1.Type.OID || typeof node.value !== 'string') throw new Malformed(`${what} is not an OID`);
  return asn1.derToOid(node.value);
}
/** An OCTET STRING's bytes, BER constructed form included. */
function octets(node: Node | undefined, what: string): Buffer {
  if (node === undefined || (node.type !== asn1.Type.OCTETSTRING && node.tagClass !== asn1.Class.CONTEXT_SPECIFIC))
    throw new Malformed(`${what} is not an OCTET STRING`);
  if (typeof node.value === 'string') return bytesOf(node.value);
  return Buffer.concat(node.value.map((child) => octets(child, what)));
}
/** [0] EXPLICIT content. */
function explicit(node: Node | undefined, what: string): Node {
  if (node?.tagClass !== asn1.Class.CONTEXT_SPECIFIC || node.type !== 0)
    throw new Malformed(`${what} has no [0] content`);
  const [inner] = parts(node, what);
  if (inner === undefined) throw new Malformed(`${what} is empty`);
  return inner;
}
function der(bytes: Uint8Array, what: string): Node {
  try {
    // forge's fromDer takes an options object (its typings only know the older boolean `strict`)
    const fromDer = asn1.fromDer as unknown as (
      input: forge.util.ByteStringBuffer,
      options: { parseAllBytes: boolean; decodeBitStrings: boolean },
    ) => Node;
    return fromDer(forge.util.createBuffer(Buffer.from(bytes).toString('binary')), {
      parseAllBytes: true,
      decodeBitStrings: false,
    });
  } catch (error) {
    throw new Malformed(`${what}: ${(error as Error).message}`);
  }
}

/**
 * A DER INTEGER that counts iterations: any length, leading zeros allowed (12 bytes `00…00 7fffffff` is
 * 2^31−1). Infinity when it is beyond 2^48: no limit lets such a count through.
 */
function iterationCount(node: Node | undefined, what: string): number {
  if (node?.type !== asn1.Type.INTEGER || typeof node.value !== 'string' || node.value.length === 0)
    throw new Malformed(`${what} is not an INTEGER`);
  const bytes = bytesOf(node.value);
  if (bytes[0]! & 0x80) throw new Malformed(`${what} is negative`);
  const significant = bytes.subarray(bytes.findIndex((b) => b !== 0) >>> 0);
  if (significant.length > 6) return Infinity;
  const n = significant.reduce((acc, b) => acc * 256 + b, 0);
  if (n < 1) throw new Malformed(`${what} is zero`);
  return n;
}

/** Counts key-derivation work against MAX_P12_WORK before it is done. */
class WorkLimit {
  private spent = 0;
  constructor(private readonly source: string) {}
  spend(units: number): void {
    this.spent += units;
    if (this.spent > MAX_P12_WORK) {
      throw new TooMuchWork(this.source, MAX_P12_WORK);
    }
  }
}

interface Secrets {
  /** UTF-8 bytes, for PBKDF2. */
  utf8: Buffer;
  /** BMPString, for the PKCS#12 KDF: with terminator, or none at all (OpenSSL's NULL password, when the MAC says so). */
  bmp: Buffer;
}

/** Decrypts `ciphertext` per AlgorithmIdentifier `algorithm`; null when the padding is wrong (wrong password or damage). */
function decrypt(algorithm: Node, ciphertext: Buffer, secrets: Secrets, limit: WorkLimit, what: string): Buffer | null {
  const [algOid, params] = parts(algorithm, what);
  const scheme = oidOf(algOid, what);
  let cipherName: string;
  let key: Buffer;
  let iv: Buffer;
  if (scheme === OID.pbes2) {
    const [kdf, enc] = parts(params, `${what} PBES2 parameters`);
    const [kdfOid, kdfParams] = parts(kdf, `${what} key derivation`);
    if (oidOf(kdfOid, what) !== OID.pbkdf2) throw new Malformed(`${what}: a key derivation other than PBKDF2`);
    const [salt, count, ...rest] = parts(kdfParams, `${what} PBKDF2 parameters`);
    const iterations = iterationCount(count, `${what} iteration count`);
    const keyLengthNode = rest[0]?.type === asn1.Type.INTEGER ? rest.shift() : undefined;
    const prf = rest[0] === undefined ? '1.2.840.113549.2.7' : oidOf(parts(rest[0], `${what} PRF`)[0], `${what} PRF`);
    const hash = HASHES[PRFS[prf] ?? ''];
    const [encOid, ivNode] = parts(enc, `${what} encryption scheme`);
    const cipher = CIPHERS[oidOf(encOid, what)];
    if (hash === undefined || cipher === undefined) throw new Malformed(`${what}: an unsupported PBES2 cipher or PRF`);
    const keyLength =
      keyLengthNode === undefined ? cipher.keyLength : iterationCount(keyLengthNode, `${what} key length`);
    if (keyLength !== cipher.keyLength) throw new Malformed(`${what}: a key length that does not fit its cipher`);
    limit.spend((iterations * Math.ceil(keyLength / hash.u)) / 3);
    key = pbkdf2Sync(secrets.utf8, octets(salt, `${what} salt`), iterations, keyLength, hash.name);
    iv = octets(ivNode, `${what} IV`);
    cipherName = cipher.name;
  } else {
    const pbe = PKCS12_PBES[scheme];
    if (pbe === undefined) throw new Malformed(`${what}: unsupported encryption ${scheme}`);
    const [saltNode, count] = parts(params, `${what} PBE parameters`);
    const iterations = iterationCount(count, `${what} iteration count`);
    limit.spend(iterations * (Math.ceil(pbe.keyLength / SHA1.u) + Math.ceil(pbe.ivLength / SHA1.u)));
    const salt = octets(saltNode, `${what} salt`);
    key = pkcs12Kdf(SHA1, secrets.bmp, salt, 1, iterations, pbe.keyLength);
    iv = pkcs12Kdf(SHA1, secrets.bmp, salt, 2, iterations, pbe.ivLength);
    cipherName = pbe.cipher;
  }
  if (cipherName === 'rc2') {
    const rc2 = forge.rc2.createDecryptionCipher(forge.util.createBuffer(key.toString('binary')), key.length * 8);
    rc2.start(forge.util.createBuffer(iv.toString('binary')));
    rc2.update(forge.util.createBuffer(ciphertext.toString('binary')));
    return rc2.finish() ? bytesOf(rc2.output.getBytes()) : null;
  }
  try {
    const decipher = createDecipheriv(cipherName, key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    if (/bad decrypt|wrong final block length/i.test((error as Error).message)) return null;
    throw new Malformed(`${what}: ${(error as Error).message}`);
  }
}

/** Verifies MacData; returns the BMP password form that verifies it, or null for a wrong password. */
function verifyMac(macData: Node, authSafe: Buffer, password: string, limit: WorkLimit): Buffer | null {
  const [digestInfo, saltNode, count] = parts(macData, 'the MAC');
  const [algorithm, digestNode] = parts(digestInfo, 'the MAC digest');
  const hash = HASHES[oidOf(parts(algorithm, 'the MAC algorithm')[0], 'the MAC algorithm')];
  if (hash === undefined) throw new Malformed('the MAC uses an unsupported hash');
  const iterations = count === undefined ? 1 : iterationCount(count, 'the MAC iteration count');
  const salt = octets(saltNode, 'the MAC salt');
  const expected = octets(digestNode, 'the MAC digest');
  // OpenSSL tries an empty password both with its terminator and as no password at all.
  for (const bmp of password === '' ? [bmpPassword(''), Buffer.alloc(0)] : [bmpPassword(password)]) {
    limit.spend(iterations);
    const actual = createHmac(hash.name, pkcs12Kdf(hash, bmp, salt, 3, iterations, hash.u))
      .update(authSafe)
      .digest();
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return bmp;
  }
  return null;
}

/**
 * Opens a PKCS#12 file: OpenSSL 3 defaults (PBES2 AES-256-CBC, PBKDF2, HMAC-SHA256 MAC) and legacy ones
 * (RC2-40, 3DES, SHA-1 MAC). Passwords as OpenSSL 3 takes them: UTF-8 for PBKDF2, its BMPString for the
 * PKCS#12 KDF. A wrong password is exit 77; a damaged file, or one asking for too much work, exit 65.
 */
export function decodePkcs12(bytes: Uint8Array, password: string, source: string): DecodedFile {
  rejectReplacementCharacter(password, 'the .p12 password');
  const wrongPassword = () => new WrongPassword(source);
  const limit = new WorkLimit(source);
  let macVerified = false;
  /** True while reading what a decryption returned: without a MAC, a wrong password can decrypt to garbage with valid padding. */
  let readingDecrypted = false;
  try {
    const [, authSafeInfo, macData] = parts(der(bytes, 'the file'), 'the PFX');
    const [authSafeType, authSafeContent] = parts(authSafeInfo, 'the authenticated safe');
    if (oidOf(authSafeType, 'the authenticated safe type') !== OID.data)
      throw new Malformed('the authenticated safe is not password-protected data (public-key mode is not supported)');
    const authSafe = octets(explicit(authSafeContent, 'the authenticated safe'), 'the authenticated safe');
    const secrets: Secrets = { utf8: Buffer.from(password, 'utf8'), bmp: bmpPassword(password) };
    if (macData !== undefined) {
      const bmp = verifyMac(macData, authSafe, password, limit);
      if (bmp === null) throw wrongPassword();
      secrets.bmp = bmp;
      macVerified = true;
    }
    const opened = (plain: Buffer | null, what: string): Buffer => {
      if (plain !== null) return plain;
      if (macVerified) throw new Malformed(`${what} does not decrypt although the MAC verifies`);
      throw wrongPassword();
    };
    const certificates: CertificateInfo[] = [];
    const privateKeys: PrivateKeyInfo[] = [];
    for (const info of parts(der(authSafe, 'the authenticated safe'), 'the authenticated safe')) {
      const [typeNode, content] = parts(info, 'a content info');
      const type = oidOf(typeNode, 'a content type');
      let safeContents: Buffer;
      readingDecrypted = type === OID.encryptedData;
      if (type === OID.data) safeContents = octets(explicit(content, 'a data content'), 'a data content');
      else if (type === OID.encryptedData) {
        const [, encryptedContentInfo] = parts(explicit(content, 'encrypted data'), 'encrypted data');
        const [, algorithm, encrypted] = parts(encryptedContentInfo, 'encrypted content');
        safeContents = opened(
          decrypt(algorithm!, octets(encrypted, 'encrypted content'), secrets, limit, 'encrypted content'),
          'encrypted content',
        );
      } else continue; // enveloped (public-key) safes: not for a push certificate
      for (const bag of parts(der(safeContents, 'a safe'), 'a safe')) {
        const [bagType, bagValue] = parts(bag, 'a bag');
        const kind = oidOf(bagType, 'a bag type');
        const inner = () => explicit(bagValue, 'a bag');
        let pkcs8: Buffer | undefined;
        if (kind === OID.certBag) {
          const [certType, certValue] = parts(inner(), 'a certificate bag');
          if (oidOf(certType, 'a certificate type') === OID.x509Certificate)
            certificates.push(
              parseCertificate(octets(explicit(certValue, 'a certificate bag'), 'a certificate'), source),
            );
        } else if (kind === OID.keyBag) {
          pkcs8 = Buffer.from(asn1.toDer(inner()).getBytes(), 'binary');
        } else if (kind === OID.shroudedKeyBag) {
          const [algorithm, encrypted] = parts(inner(), 'a shrouded key');
          pkcs8 = opened(
            decrypt(algorithm!, octets(encrypted, 'a shrouded key'), secrets, limit, 'a shrouded key'),
            'a shrouded key',
          );
        }
        if (pkcs8 !== undefined) {
          try {
            privateKeys.push(describePrivateKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })));
          } catch {
            if (!macVerified) throw wrongPassword();
            throw new Malformed('a private key is not a readable PKCS#8 key');
          }
        }
      }
    }
    if (certificates.length === 0) throw new BadInput(`open ${source}: the .p12 holds no certificate`, source);
    return { certificates, privateKeys };
  } catch (error) {
    if (error instanceof CoreError) throw error;
    if (!macVerified && readingDecrypted && error instanceof Malformed) throw wrongPassword();
    const message = error instanceof Error ? error.message : String(error);
    throw new BadInput(`open ${source}: not a readable PKCS#12 file (${message.replace(/\s+/g, ' ')})`, source);
  }
}

// ---------- writing ----------

export interface Pkcs12Options {
  /** 3DES + SHA-1 MAC for old servers (what OpenSSL's -legacy writes); default AES-256-CBC with PBKDF2-HMAC-SHA256 and an HMAC-SHA256 MAC. */
  legacy: boolean;
  /** Key-derivation iterations of the key and of the MAC (src/core/pkcs12-params.ts). */
  iterations: number;
  friendlyName: string;
}

const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
function integer(n: number): Buffer {
  const hex = n.toString(16);
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.alloc(1), bytes]) : bytes);
}
const bmpString = (text: string) => tlv(0x1e, Buffer.from(text, 'utf16le').swap16());
const dataInfo = (content: Uint8Array) => sequence(oid(OID.data), context(0, octetString(content)));

/** The key encrypted as a PKCS#8 EncryptedPrivateKeyInfo: PBES2 (PBKDF2-HMAC-SHA256 over UTF-8, AES-256-CBC), or legacy 3DES (PKCS#12 PBE). */
function shroudKey(pkcs8: Buffer, password: string, opts: Pkcs12Options): Buffer {
  const salt = randomBytes(16);
  if (opts.legacy) {
    const bmp = bmpPassword(password);
    const cipher = createCipheriv(
      'des-ede3-cbc',
      pkcs12Kdf(SHA1, bmp, salt, 1, opts.iterations, 24),
      pkcs12Kdf(SHA1, bmp, salt, 2, opts.iterations, 8),
    );
    const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
    return sequence(
      sequence(oid(OID.pbeSha1TripleDes), sequence(octetString(salt), integer(opts.iterations))),
      octetString(encrypted),
    );
  }
  const iv = randomBytes(16);
  const cipher = createCipheriv(
    'aes-256-cbc',
    pbkdf2Sync(Buffer.from(password, 'utf8'), salt, opts.iterations, 32, 'sha256'),
    iv,
  );
  const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  const algorithm = sequence(
    oid(OID.pbes2),
    sequence(
      sequence(
        oid(OID.pbkdf2),
        sequence(octetString(salt), integer(opts.iterations), sequence(oid(OID.hmacWithSha256), nullValue())),
      ),
      sequence(oid(OID.aes256Cbc), octetString(iv)),
    ),
  );
  return sequence(algorithm, octetString(encrypted));
}

/**
 * A .p12 with one key and its certificate (and any chain after it), laid out as OpenSSL writes it: the key in a
 * shrouded bag (see shroudKey), the certificates in the clear, and a MAC with the same iteration count,
 * HMAC-SHA256 (legacy: HMAC-SHA1) keyed by the PKCS#12 KDF over the password's BMPString.
 */
export function encodePkcs12(
  key: PrivateKeyInfo,
  certificates: CertificateInfo[],
  password: string,
  opts: Pkcs12Options,
): Buffer {
  rejectReplacementCharacter(password, 'the .p12 password');
  // localKeyId: SHA-1 of the certificate, as OpenSSL writes it; it pairs the key with its certificate.
  const attributes = set(
    sequence(oid(OID.friendlyName), set(bmpString(opts.friendlyName))),
    sequence(oid(OID.localKeyId), set(octetString(createHash('sha1').update(certificates[0]!.der).digest()))),
  );
  const certBags = certificates.map((c, i) =>
    sequence(
      oid(OID.certBag),
      context(0, sequence(oid(OID.x509Certificate), context(0, octetString(c.der)))),
      ...(i === 0 ? [attributes] : []),
    ),
  );
  const keyBag = sequence(oid(OID.shroudedKeyBag), context(0, shroudKey(key.pkcs8, password, opts)), attributes);
  const authSafe = sequence(dataInfo(sequence(...certBags)), dataInfo(sequence(keyBag)));
  const macHash = opts.legacy ? SHA1 : HASHES[OID.sha256]!;
  const macHashOid = opts.legacy ? '1.3.14.3.2.26' : OID.sha256;
  const macSalt = randomBytes(16);
  const mac = createHmac(
    macHash.name,
    pkcs12Kdf(macHash, bmpPassword(password), macSalt, 3, opts.iterations, macHash.u),
  )
    .update(authSafe)
    .digest();
  return sequence(
    integer(3),
    dataInfo(authSafe),
    sequence(
      sequence(sequence(oid(macHashOid), nullValue()), octetString(mac)),
      octetString(macSalt),
      integer(opts.iterations),
    ),
  );
}
