import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { definiteLengths } from '../../src/core/ber.js';
import { toPem } from '../../src/core/certificate.js';
import { DerError, readTlv } from '../../src/core/der.js';
import { context, oid, sequence, tlv } from '../../src/core/der-encode.js';
import { buildExchangeCertificate, ExchangeCertError } from '../../src/core/exchange-cert.js';
import {
  CONTENT_CIPHERS,
  EnvelopeError,
  decodeHex,
  decryptEnvelope,
  parseEnvelope,
  readEnvelopeFile,
} from '../../src/core/pkcs7-envelope.js';
import type { ContentCipher, EnvelopeErrorReason } from '../../src/core/pkcs7-envelope.js';
import { encryptEnvelope } from '../helpers/pkcs7-encrypt.js';

const NOW = new Date('2026-03-01T12:34:56.789Z');
const ciphers = Object.keys(CONTENT_CIPHERS) as ContentCipher[];

interface Exchange {
  key: KeyObject;
  der: Buffer;
  pem: string;
}

function exchange(at = NOW): Exchange {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { key: privateKey, ...buildExchangeCertificate(privateKey, at) };
}

function reasonOf(fn: () => unknown): EnvelopeErrorReason {
  try {
    fn();
  } catch (error) {
    if (error instanceof EnvelopeError) return error.reason;
    throw error;
  }
  throw new Error('expected an EnvelopeError');
}

const whitespace = fc.constantFrom(' ', '\n', '\r\n', '\t', '  ', '\r');

describe('hex as mailed (property)', () => {
  it('decodes any placement of whitespace and any mix of case to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.infiniteStream(fc.tuple(fc.boolean(), fc.option(whitespace, { freq: 3 }))),
        fc.option(whitespace),
        (bytes, choices, lead) => {
          let text = lead ?? '';
          for (const digit of Buffer.from(bytes).toString('hex')) {
            const [upper, space] = choices.next().value;
            text += (upper ? digit.toUpperCase() : digit) + (space ?? '');
          }
          expect(decodeHex(text)).toEqual(Buffer.from(bytes));
          expect(readEnvelopeFile(Buffer.from(text))).toEqual(Buffer.from(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects a single non-hex character anywhere, and an odd number of digits', () => {
    const notHex = fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }).filter((c) => !/[0-9a-fA-F\s]/.test(c));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), notHex, (bytes, at, bad) => {
        const hex = Buffer.from(bytes).toString('hex');
        const i = at % (hex.length + 1);
        expect(decodeHex(hex.slice(0, i) + bad + hex.slice(i))).toBeNull();
        const j = at % hex.length;
        expect(decodeHex(hex.slice(0, j) + hex.slice(j + 1))).toBeNull();
      }),
      { numRuns: 500 },
    );
    expect(decodeHex('')).toBeNull();
    expect(decodeHex(' \n ')).toBeNull();
  });
});

describe('decryptEnvelope', () => {
  let ex: Exchange;
  let other: Exchange;
  beforeAll(() => {
    ex = exchange();
    other = exchange();
  });
  const plaintext = Buffer.from('PD94bWwgdmVyc2lvbj0iMS4wIj8+'.repeat(40));

  it.each(ciphers.flatMap((c) => (['rsa-pkcs1', 'rsa-oaep'] as const).map((k) => [c, k] as const)))(
    'opens %s content with %s key transport, from hex, PEM and DER',
    (cipher, keyTransport) => {
      const der = encryptEnvelope(plaintext, ex.pem, cipher, { keyTransport });
      const forms = [
        der,
        Buffer.from(
          der
            .toString('hex')
            .toUpperCase()
            .replace(/(.{64})/g, '$1\n'),
        ),
        Buffer.from(toPem(der, 'PKCS7')),
        Buffer.from(toPem(der, 'CMS')),
      ];
      for (const form of forms) {
        const opened = decryptEnvelope(form, ex.der, ex.key);
        expect(opened.plaintext).toEqual(plaintext);
        expect(opened.cipher).toBe(cipher);
        expect(opened.keyTransport).toBe(keyTransport);
      }
    },
  );

  it('names each way a file can be wrong', () => {
    const der = encryptEnvelope(plaintext, ex.pem, 'aes-256-cbc');
    expect(reasonOf(() => decryptEnvelope(Buffer.from('  \n'), ex.der, ex.key))).toBe('empty');
    expect(reasonOf(() => decryptEnvelope(Buffer.from('hello, this is a mail'), ex.der, ex.key))).toBe('not-pkcs7');
    expect(reasonOf(() => decryptEnvelope(Buffer.from('30820'), ex.der, ex.key))).toBe('not-pkcs7');
    expect(reasonOf(() => decryptEnvelope(der.subarray(0, der.length - 5), ex.der, ex.key))).toBe('not-pkcs7');
    const data = sequence(oid('1.2.840.113549.1.7.1'), context(0, tlv(0x04, Buffer.from('hi'))));
    expect(reasonOf(() => decryptEnvelope(data, ex.der, ex.key))).toBe('not-enveloped-data');
    const damaged = sequence(oid('1.2.840.113549.1.7.3'), context(0, sequence(tlv(0x02, Buffer.from([0])))));
    expect(reasonOf(() => decryptEnvelope(damaged, ex.der, ex.key))).toBe('malformed');
    expect(reasonOf(() => decryptEnvelope(der, other.der, other.key))).toBe('no-recipient');
    expect(reasonOf(() => decryptEnvelope(der, ex.der, other.key))).toBe('key-not-for-certificate');

    // aes-256-cbc (…1.42) → aes-256-gcm (…1.46)
    const oidAt = der.indexOf(Buffer.from('60864801650304012a', 'hex'));
    const gcm = Buffer.from(der);
    gcm[oidAt + 8] = 0x2e;
    expect(reasonOf(() => decryptEnvelope(gcm, ex.der, ex.key))).toBe('unsupported-cipher');

    // the encrypted key: a flipped byte no longer unwraps
    const envelope = parseEnvelope(der);
    const keyAt = der.indexOf(envelope.recipients[0]!.encryptedKey);
    const badKey = Buffer.from(der);
    badKey[keyAt + 100]! ^= 0x01;
    expect(reasonOf(() => decryptEnvelope(badKey, ex.der, ex.key))).toBe('key-decrypt-failed');

    // the last padding byte forced to 0 through the block before it: always bad padding
    const padValue = 16 - (plaintext.length % 16);
    const contentAt = der.indexOf(envelope.encryptedContent);
    const badPad = Buffer.from(der);
    badPad[contentAt + envelope.encryptedContent.length - 17]! ^= padValue;
    expect(reasonOf(() => decryptEnvelope(badPad, ex.der, ex.key))).toBe('bad-padding');
  });

  it('picks its own recipient by issuer and serial (a certificate with the same name but another serial is not it)', () => {
    const der = encryptEnvelope(plaintext, ex.pem, 'des-ede3-cbc');
    const sameName = buildExchangeCertificate(ex.key, NOW, { serial: Buffer.from([0x42]) });
    expect(new X509Certificate(sameName.der).subject).toBe(new X509Certificate(ex.der).subject);
    expect(reasonOf(() => decryptEnvelope(der, sameName.der, ex.key))).toBe('no-recipient');
  });

  it('throws nothing but EnvelopeError on random bytes and damaged envelopes (property)', () => {
    const der = encryptEnvelope(plaintext, ex.pem, 'aes-256-cbc');
    const only = (input: Uint8Array) => {
      try {
        decryptEnvelope(input, ex.der, ex.key);
      } catch (error) {
        expect(error).toBeInstanceOf(EnvelopeError);
        expect((error as Error).message).not.toMatch(/\n/);
      }
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1024 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (random, flips, cut) => {
          only(random);
          const damaged = Buffer.from(der);
          for (const [at, x] of flips) damaged[at % damaged.length]! ^= x;
          only(damaged);
          only(der.subarray(0, cut % der.length));
          only(Buffer.from(damaged.toString('hex')));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('error messages are one line and carry their reason as data', () => {
    const error = new EnvelopeError('unsupported-cipher', '2.16.840.1.101.3.4.1.46');
    expect(error.reason).toBe('unsupported-cipher');
    expect(error.detail).toBe('2.16.840.1.101.3.4.1.46');
    expect(error.message).toMatch(/^[^\n]+2\.16\.840\.1\.101\.3\.4\.1\.46\)$/);
  });
});

describe('definiteLengths (BER → DER)', () => {
  const der = encryptEnvelope(Buffer.from('x'.repeat(100)), exchange().pem, 'aes-128-cbc');

  it('gives DER back unchanged, and an indefinite-length form back as that DER', () => {
    expect(definiteLengths(der)).toEqual(der);
    // the outer SEQUENCE and [0] re-encoded with indefinite lengths
    const inner = der.subarray(2 + (der[1]! & 0x7f));
    const ctx = readTlv(inner, inner.indexOf(0xa0));
    const eoc = Buffer.from([0, 0]);
    const enveloped = inner.subarray(ctx.valueStart, ctx.end);
    const ber = Buffer.concat([
      Buffer.from([0x30, 0x80]),
      inner.subarray(0, ctx.start),
      Buffer.from([0xa0, 0x80]),
      enveloped,
      eoc,
      eoc,
    ]);
    expect(definiteLengths(ber)).toEqual(der);
  });

  it('throws only DerError on random and truncated input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), (bytes, cut) => {
        for (const input of [bytes, der.subarray(0, cut % der.length)]) {
          try {
            definiteLengths(input);
          } catch (error) {
            expect(error).toBeInstanceOf(DerError);
          }
        }
      }),
      { numRuns: 2000 },
    );
    const deep = Buffer.concat([
      ...Array(100).fill(Buffer.from([0x30, 0x80])),
      ...Array(100).fill(Buffer.from([0, 0])),
    ]);
    expect(() => definiteLengths(deep)).toThrow(DerError);
  });
});

describe('buildExchangeCertificate', () => {
  it('is self-signed, CN mdmcert.download, valid 365 days from now (to the second), as mdmctl makes it', () => {
    const ex = exchange();
    const cert = new X509Certificate(ex.der);
    expect(cert.subject).toBe('CN=mdmcert.download');
    expect(cert.issuer).toBe('CN=mdmcert.download');
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-03-01T12:34:56.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2027-03-01T12:34:56.000Z');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(ex.key)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:mdmcert.download');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.ca).toBe(false);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(ex.pem).toBe(cert.toString());
  });

  it('is the same certificate for the same key and instant (no randomness), another for another instant', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const a = buildExchangeCertificate(privateKey, NOW);
    expect(buildExchangeCertificate(privateKey, NOW).der).toEqual(a.der);
    const later = buildExchangeCertificate(privateKey, new Date(NOW.getTime() + 1000));
    expect(new X509Certificate(later.der).serialNumber).not.toBe(new X509Certificate(a.der).serialNumber);
  });

  it('uses GeneralizedTime from 2050 and refuses a non-RSA key', () => {
    const ex = exchange(new Date('2049-12-31T00:00:00Z'));
    expect(new Date(new X509Certificate(ex.der).validTo).toISOString()).toBe('2050-12-31T00:00:00.000Z');
    expect(ex.der.includes(Buffer.from('20501231000000Z'))).toBe(true);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => buildExchangeCertificate(privateKey, NOW)).toThrow(ExchangeCertError);
  });
});
