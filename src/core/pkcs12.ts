import { createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { AppError } from '../errors.js';
import { parseCertificate } from './certificate.js';
import { Tag, children, readTlv, value } from './der.js';
import type { CertificateInfo } from './certificate.js';
import type { DecodedFile } from './input.js';
import { describePrivateKey } from './keys.js';
import type { PrivateKeyInfo } from './keys.js';

/** Real files use 2,048 to a few hundred thousand; a damaged or hostile count could hang the CLI. */
const MAX_ITERATIONS = 10_000_000;

/**
 * The largest iteration count in the file's PBE, PBKDF2 and MAC parameters (SEQUENCE { ..., OCTET STRING salt,
 * INTEGER iterations, ... }), looking into nested DER as well. 0 when there is none or the DER is unreadable.
 */
export function largestIterationCount(bytes: Uint8Array): number {
  let most = 0;
  let budget = 5000;
  const walk = (buf: Uint8Array, depth: number): void => {
    if (depth > 16 || --budget < 0) return;
    let offset = 0;
    while (offset < buf.length) {
      let tlv;
      try {
        tlv = readTlv(buf, offset);
      } catch {
        return;
      }
      if (tlv.tag === Tag.sequence || (tlv.tag & 0xe0) === 0xa0) {
        const inner = value(buf, tlv);
        if (tlv.tag === Tag.sequence) {
          try {
            const parts = children(buf, tlv);
            for (let i = 1; i < parts.length; i++) {
              const [salt, count] = [parts[i - 1]!, parts[i]!];
              if (salt.tag === Tag.octetString && count.tag === Tag.integer && count.end - count.valueStart <= 8) {
                let n = 0;
                for (const b of value(buf, count)) n = n * 256 + b;
                most = Math.max(most, n);
              }
            }
          } catch {
            // not a well-formed sequence: its bytes are walked below anyway
          }
        }
        walk(inner, depth + 1);
      } else if (tlv.tag === Tag.octetString && buf[tlv.valueStart] === Tag.sequence) {
        walk(value(buf, tlv), depth + 1);
      }
      offset = tlv.end;
    }
  };
  walk(bytes, 0);
  return most;
}

const binary = (bytes: Uint8Array) => Buffer.from(bytes).toString('binary');
const fromBinary = (text: string) => Buffer.from(text, 'binary');

function isPasswordError(message: string): boolean {
  return /MAC could not be verified|Invalid password|decrypt|pad block|Too few bytes to read ASN\.1 value|Unparsed DER bytes remain/i.test(message);
}

/**
 * Opens a PKCS#12 file: OpenSSL 3 defaults (PBES2 AES-256-CBC, PBKDF2, HMAC-SHA256 MAC) and legacy ones
 * (RC2-40, 3DES, SHA-1 MAC). A wrong password is exit 77; a damaged file exit 65.
 */
export function decodePkcs12(bytes: Uint8Array, password: string, source: string): DecodedFile {
  const most = largestIterationCount(bytes);
  if (most > MAX_ITERATIONS) {
    throw new AppError('BAD_INPUT', `open ${source}: its key-derivation iteration count (${most}) is unreasonably large; refusing to spend minutes on it`);
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(binary(bytes));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isPasswordError(message)) {
      throw new AppError('WRONG_PASSWORD', `open ${source}: wrong .p12 password`, {
        hint: `apns-cert import ${source} --password-file <file>   # or set APNS_CERT_P12_PASSWORD`,
      });
    }
    throw new AppError('BAD_INPUT', `open ${source}: not a readable PKCS#12 file (${message})`);
  }
  const certificates: CertificateInfo[] = [];
  const privateKeys: PrivateKeyInfo[] = [];
  for (const bag of p12.safeContents.flatMap((c) => c.safeBags)) {
    if (bag.type === forge.pki.oids.certBag) {
      const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
      if (asn1) certificates.push(parseCertificate(fromBinary(forge.asn1.toDer(asn1).getBytes()), source));
    } else if ((bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) && bag.key) {
      const pem = forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)));
      privateKeys.push(describePrivateKey(createPrivateKey(pem)));
    }
  }
  if (certificates.length === 0) throw new AppError('BAD_INPUT', `open ${source}: the .p12 holds no certificate`);
  return { certificates, privateKeys };
}

export interface Pkcs12Options {
  /** 3DES + SHA-1 MAC for old servers; default AES-256-CBC with PBKDF2-HMAC-SHA256. */
  legacy: boolean;
  friendlyName: string;
}

const MAC_ITERATIONS = 2048;

/**
 * The PFX MacData with HMAC-SHA256 (OpenSSL 3's default); forge itself only writes SHA-1 MACs.
 * RFC 7292 appendix B: the MAC key comes from the PKCS#12 KDF (ID 3) with the same hash.
 */
function sha256MacData(pfx: forge.asn1.Asn1, password: string): forge.asn1.Asn1 {
  const { asn1 } = forge;
  const authSafe = (pfx.value as forge.asn1.Asn1[])[1]!;
  const content = ((authSafe.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!.value as string;
  const salt = forge.random.getBytesSync(16);
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt), 3, MAC_ITERATIONS, 32, forge.md.sha256.create());
  const hmac = forge.hmac.create();
  hmac.start(forge.md.sha256.create(), key);
  hmac.update(content);
  const iterations = forge.util.hexToBytes(MAC_ITERATIONS.toString(16).padStart(4, '0'));
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(forge.pki.oids.sha256!).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
      ]),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, hmac.digest().getBytes()),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, salt),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, iterations),
  ]);
}

/**
 * A .p12 with one key and its certificate (and any chain after it). Default: the key shrouded with
 * PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC; legacy: 3DES and a SHA-1 MAC.
 */
export function encodePkcs12(key: PrivateKeyInfo, certificates: CertificateInfo[], password: string, opts: Pkcs12Options): Buffer {
  const forgeKey = forge.pki.privateKeyFromPem(key.key.export({ type: 'pkcs8', format: 'pem' }).toString());
  const forgeCerts = certificates.map((c) => forge.pki.certificateFromPem(c.pem));
  const pfx = forge.pkcs12.toPkcs12Asn1(forgeKey, forgeCerts, password, {
    algorithm: opts.legacy ? '3des' : 'aes256',
    count: MAC_ITERATIONS,
    saltSize: 16,
    friendlyName: opts.friendlyName,
    useMac: opts.legacy,
    ...(opts.legacy ? {} : { prfAlgorithm: 'sha256' }),
  } as Parameters<typeof forge.pkcs12.toPkcs12Asn1>[3]);
  if (!opts.legacy) (pfx.value as forge.asn1.Asn1[]).push(sha256MacData(pfx, password));
  return fromBinary(forge.asn1.toDer(pfx).getBytes());
}
