import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DerError, decodeOid, readTlv } from '../../src/core/der.js';
import { parseIndex } from '../../src/core/index-model.js';
import { decodeCertificateFile, decodePrivateKeyFile, pemBlocks } from '../../src/core/input.js';
import { AppError } from '../../src/errors.js';
import { REAL } from '../helpers/cli.js';

/** The parser either answers or throws our one error type: never a TypeError, RangeError or hang. */
function onlyAppErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.message).not.toMatch(/\n/);
  }
}

const realDer = readdirSync(REAL)
  .filter((f) => f.endsWith('.pem') && !f.startsWith('csr_'))
  .map((f) => pemBlocks(readFileSync(join(REAL, f), 'latin1'))[0]!.der);

describe('certificate file parser (property)', () => {
  it('never throws anything but AppError on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => onlyAppErrors(() => decodeCertificateFile(bytes, 'random'))), { numRuns: 2000 });
  });

  it('never throws anything but AppError on mutated real certificates (bit flips, truncation, splices)', () => {
    const mutation = fc.record({
      which: fc.nat({ max: realDer.length - 1 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(mutation, ({ which, flips, cut }) => {
        const der = Buffer.from(realDer[which]!);
        for (const [pos, xor] of flips) der[pos % der.length]! ^= xor;
        const bytes = cut === null ? der : der.subarray(0, cut % der.length);
        onlyAppErrors(() => decodeCertificateFile(bytes, 'mutated'));
        onlyAppErrors(() => decodeCertificateFile(Buffer.from(`-----BEGIN CERTIFICATE-----\n${bytes.toString('base64')}\n-----END CERTIFICATE-----\n`), 'mutated.pem'));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads every real certificate, also from PEM with CRLF line ends and surrounding text', () => {
    for (const der of realDer) {
      const pem = `Bag Attributes\r\n-----BEGIN CERTIFICATE-----\r\n${der.toString('base64').replace(/.{64}/g, '$&\r\n')}\r\n-----END CERTIFICATE-----\r\ntrailer`;
      expect(decodeCertificateFile(Buffer.from(pem), 'crlf.pem').certificates).toHaveLength(1);
    }
  });

  it('never throws anything but AppError on random PEM-looking text', () => {
    const label = fc.constantFrom('CERTIFICATE', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'CERTIFICATE REQUEST', 'ENCRYPTED PRIVATE KEY', 'X');
    fc.assert(
      fc.property(label, fc.string({ maxLength: 400 }), (l, body) => {
        const text = `-----BEGIN ${l}-----\n${body}\n-----END ${l}-----\n`;
        onlyAppErrors(() => decodeCertificateFile(Buffer.from(text), 'junk.pem'));
        onlyAppErrors(() => decodePrivateKeyFile(Buffer.from(text), 'junk.key'));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('DER reader (property)', () => {
  it('returns a TLV inside the buffer or a DerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 64 }), (bytes, offset) => {
        try {
          const tlv = readTlv(bytes, offset);
          expect(tlv.end).toBeLessThanOrEqual(bytes.length);
          expect(tlv.valueStart).toBeGreaterThan(offset);
        } catch (error) {
          expect(error).toBeInstanceOf(DerError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes OIDs it is given in base-128', () => {
    const encode = (parts: number[]) => {
      const out: number[] = [];
      const arcs = [parts[0]! * 40 + parts[1]!, ...parts.slice(2)];
      for (const arc of arcs) {
        const bytes = [arc & 0x7f];
        for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
        out.push(...bytes);
      }
      return Uint8Array.from(out);
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat({ max: 2 ** 31 }), { maxLength: 10 }), (a, b, rest) => {
        expect(decodeOid(encode([a, b, ...rest]))).toBe([a, b, ...rest].join('.'));
      }),
    );
  });
});

describe('index parser (property)', () => {
  it('answers or reports STORE_CORRUPT for any JSON value and any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        try {
          parseIndex(text, 'index.json');
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe('STORE_CORRUPT');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
