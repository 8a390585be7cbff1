import { createHash, createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { toPem } from './certificate.js';
import { bitString, context, nullValue, oid, sequence, set, tlv, utf8String } from './der-encode.js';

/**
 * The self-signed "exchange" certificate an mdmcert.download client posts as `encrypt`: the service encrypts the
 * signed request it mails back to this certificate. Made as MicroMDM's `mdmctl mdmcert.download -new` makes it
 * (pkg/crypto SimpleSelfSignedRSAKeypair("mdmcert.download", 365)): CN mdmcert.download as subject and issuer,
 * valid 365 days from `now`, key usage digitalSignature + keyEncipherment (critical), extended key usage
 * serverAuth, basic constraints CA:FALSE (critical), subject alternative name DNS:mdmcert.download; signed
 * SHA-256 with RSA by its own key. Pure: the key (made outside core) and the clock come in.
 */

export const EXCHANGE_COMMON_NAME = 'mdmcert.download';
export const EXCHANGE_VALIDITY_DAYS = 365;

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const DAY_MS = 86_400_000;

export class ExchangeCertError extends Error {
  constructor(readonly reason: 'not-rsa' | 'bad-time') {
    super(
      reason === 'not-rsa'
        ? 'the exchange key must be an RSA private key'
        : 'the validity period must lie between the years 1950 and 9999',
    );
    this.name = 'ExchangeCertError';
  }
}

/** A positive INTEGER of the given big-endian bytes. */
function integer(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = Buffer.from(bytes.subarray(i));
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), to the second. */
function time(at: Date): Buffer {
  const year = at.getUTCFullYear();
  if (!Number.isFinite(at.getTime()) || year < 1950 || year > 9999) throw new ExchangeCertError('bad-time');
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}Z`;
  return year < 2050
    ? tlv(0x17, Buffer.from(`${two(year % 100)}${rest}`, 'ascii'))
    : tlv(0x18, Buffer.from(`${year}${rest}`, 'ascii'));
}

const extension = (id: string, critical: boolean, der: Buffer) =>
  sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, der));

export interface ExchangeCertificateOptions {
  /** Serial number bytes; default: 16 bytes derived from the public key and `now` (no randomness in core). */
  serial?: Uint8Array;
  commonName?: string;
  days?: number;
}

/** Builds and self-signs the exchange certificate for `privateKey` (RSA), valid from `now` (to the second). */
export function buildExchangeCertificate(
  privateKey: KeyObject,
  now: Date,
  options: ExchangeCertificateOptions = {},
): { der: Buffer; pem: string } {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') throw new ExchangeCertError('not-rsa');
  const commonName = options.commonName ?? EXCHANGE_COMMON_NAME;
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (options.days ?? EXCHANGE_VALIDITY_DAYS) * DAY_MS);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  let serial = options.serial;
  if (serial === undefined) {
    const derived = createHash('sha256').update(spki).update(notBefore.toISOString()).digest().subarray(0, 16);
    derived[0] = derived[0]! & 0x7f || 0x01; // positive, 16 bytes long
    serial = derived;
  }
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8String(commonName))));
  const algorithm = sequence(oid(SHA256_WITH_RSA), nullValue());
  const extensions = sequence(
    // keyUsage: digitalSignature (bit 0) + keyEncipherment (bit 2); 5 unused bits
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x05, 0xa0]))),
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.19', true, sequence()),
    extension('2.5.29.17', false, sequence(tlv(0x82, Buffer.from(commonName, 'ascii')))),
  );
  const tbs = sequence(
    context(0, tlv(0x02, Buffer.from([2]))),
    integer(serial),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    context(3, extensions),
  );
  const der = sequence(tbs, algorithm, bitString(sign('sha256', tbs, privateKey)));
  return { der, pem: toPem(der, 'CERTIFICATE') };
}
