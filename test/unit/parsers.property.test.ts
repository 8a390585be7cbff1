import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parseTopicsExtension } from '../../src/core/certificate.js';
import { DerError, decodeOid, readTlv } from '../../src/core/der.js';
import { parsePushRequest } from '../../src/core/push-request.js';
import { parseIndex } from '../../src/core/index-model.js';
import { decodeCertificateFile, decodePrivateKeyFile, pemBlocks } from '../../src/core/input.js';
import type { AppError } from '../../src/errors.js';
import { BadInput, CoreError, DamagedIndex } from '../../src/core/errors.js';
import { userError } from '../../src/commands/shared/errors.js';
import { REAL } from '../helpers/cli.js';

/** The parser either answers or throws a core error (a refusal): never a TypeError, RangeError or hang. */
function onlyAppErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    expect(error.message).not.toMatch(/\n/);
  }
}

const realDer = readdirSync(REAL)
  .filter((f) => f.endsWith('.pem') && !f.startsWith('csr_'))
  .map((f) => pemBlocks(readFileSync(join(REAL, f), 'latin1'))[0]!.der);

describe('certificate file parser (property)', () => {
  it('never throws anything but a core error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) =>
        onlyAppErrors(() => decodeCertificateFile(bytes, 'random')),
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a core error on mutated real certificates (bit flips, truncation, splices)', () => {
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
        onlyAppErrors(() =>
          decodeCertificateFile(
            Buffer.from(`-----BEGIN CERTIFICATE-----\n${bytes.toString('base64')}\n-----END CERTIFICATE-----\n`),
            'mutated.pem',
          ),
        );
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

  it('never throws anything but a core error on random PEM-looking text', () => {
    const label = fc.constantFrom(
      'CERTIFICATE',
      'PRIVATE KEY',
      'RSA PRIVATE KEY',
      'CERTIFICATE REQUEST',
      'ENCRYPTED PRIVATE KEY',
      'X',
    );
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

/**
 * The reference: the regular expression the PEM reader used before it was made linear (it is quadratic on BEGIN
 * markers without an END, so only small inputs are given to it).
 */
function referencePemBlocks(text: string): Array<{ label: string; der: string }> {
  const out: Array<{ label: string; der: string }> = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)) {
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body))
      throw new BadInput(`read PEM block "${m[1]}": its body is not valid base64`);
    out.push({ label: m[1]!, der: Buffer.from(body, 'base64').toString('hex') });
  }
  return out;
}

const outcome = (fn: () => Array<{ label: string; der: string }>) => {
  try {
    return { blocks: fn() };
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    return { error: error.message };
  }
};

describe('PEM reader (property)', () => {
  // pieces that make markers, near-markers, nested and overlapping markers, headers and bodies
  const piece = fc.oneof(
    fc.constantFrom(
      '-----BEGIN ',
      '-----END ',
      '-----',
      '----',
      'CERTIFICATE',
      'CERTIFICATE REQUEST',
      'PRIVATE KEY',
      'X',
      'x',
      ' ',
      '\n',
      '\r\n',
    ),
    fc.constantFrom('MIIB', 'AQAB', 'TWFu', '==', '=', 'Proc-Type: 4,ENCRYPTED\n', 'Bag Attributes\n', '%', '-'),
    fc.constantFrom('-----BEGIN X-----', '-----END X-----', '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----'),
    fc.string({ maxLength: 4 }),
    fc.constantFrom('CERTIFICATE', 'X', 'A B').map((l) => `-----BEGIN ${l}-----\nTWFu\n-----END ${l}-----\n`),
  );

  it('finds exactly the blocks the regular expression finds, and refuses the same bodies', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('');
        const mine = outcome(() => pemBlocks(text).map((b) => ({ label: b.label, der: b.der.toString('hex') })));
        expect(mine).toEqual(outcome(() => referencePemBlocks(text)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads 2 MiB of BEGIN markers without END within the test timeout (the regular expression: minutes)', () => {
    for (const unit of ['-----BEGIN CERTIFICATE-----\n', '-----BEGIN A', '-----BEGIN A-----\n-----END B-----\n']) {
      expect(pemBlocks(unit.repeat(Math.ceil((2 * 1024 * 1024) / unit.length)))).toEqual([]);
    }
    const many = '-----BEGIN X-----\n-----END X-----\n'.repeat(200_000);
    expect(pemBlocks(many)).toHaveLength(200_000);
  }, 10_000);
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
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 39 }),
        fc.array(fc.nat({ max: 2 ** 31 }), { maxLength: 10 }),
        (a, b, rest) => {
          expect(decodeOid(encode([a, b, ...rest]))).toBe([a, b, ...rest].join('.'));
        },
      ),
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
          expect(error).toBeInstanceOf(DamagedIndex);
          expect((userError(error, 'list') as AppError).code).toBe('STORE_CORRUPT');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('push certificate request parser (property)', () => {
  const xml = readFileSync(join(REAL, 'push-cert-request_abacus_2018.plist'), 'utf8');
  const b64 = readFileSync(join(REAL, 'push-cert-request_abacus_2018.plist.b64'));

  it('never throws anything but a core error, and never logs, on edited plists and flipped base64', () => {
    const logged = vi.spyOn(console, 'error');
    const warned = vi.spyOn(console, 'warn');
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 40 }), insert: fc.string({ maxLength: 8 }) });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let text = xml;
        for (const e of edits) {
          const at = e.at % text.length;
          text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
        }
        onlyAppErrors(() => parsePushRequest(Buffer.from(text), 'edited.plist'));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        (flips) => {
          const bytes = Buffer.from(b64);
          for (const [pos, xor] of flips) bytes[pos % bytes.length]! ^= xor;
          onlyAppErrors(() => parsePushRequest(bytes, 'flipped.b64'));
        },
      ),
      { numRuns: 1000 },
    );
    expect(logged).not.toHaveBeenCalled();
    expect(warned).not.toHaveBeenCalled();
  });

  it('never throws anything but a core error on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) =>
        onlyAppErrors(() => parsePushRequest(Buffer.from(text), 'random')),
      ),
      { numRuns: 1000 },
    );
  });
});

describe('topic list extension (property)', () => {
  const utf8 = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([0x0c]), derLength(b.length), b]);
  };
  const seq = (parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
  };
  function derLength(n: number): Buffer {
    if (n < 0x80) return Buffer.from([n]);
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    return Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  const entry = fc.record({
    topic: fc.string({ minLength: 1, maxLength: 60 }),
    types: fc.array(fc.constantFrom('app', 'voip', 'complication', 'fileprovider', 'watchkit'), {
      minLength: 1,
      maxLength: 3,
    }),
  });

  it('reads back every topic list it is given', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), (entries) => {
        const der = seq(entries.flatMap((e) => [utf8(e.topic), seq(e.types.map(utf8))]));
        expect(parseTopicsExtension(der)).toEqual(entries);
      }),
    );
  });

  it('throws DerError, nothing else, on a truncated list', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.nat(), (entries, cut) => {
        const der = seq(entries.flatMap((e) => [utf8(e.topic), seq(e.types.map(utf8))]));
        const truncated = der.subarray(0, cut % der.length);
        expect(() => parseTopicsExtension(truncated)).toThrow(DerError);
      }),
    );
  });
});
