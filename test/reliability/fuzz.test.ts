/**
 * Fuzzing every parser with generated inputs, mutated from real fixtures and random: the answer is always
 * the parse or our one error type (a clean message, exit code), never a stack trace or a hang.
 * APNS_CERT_FUZZ_RUNS sets the runs per parser (CI: 10 000; `npm run fuzz`: 200 000).
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyIndex, newRecord, parseIndex, serializeIndex } from '../../src/core/index-model.js';
import { decodeCertificateFile, decodeCsrFile, pemBlocks } from '../../src/core/input.js';
import { decodePkcs12 } from '../../src/core/pkcs12.js';
import { parsePushRequest } from '../../src/core/push-request.js';
import { AppError } from '../../src/errors.js';
import { userError } from '../../src/commands/shared/errors.js';
import { DamagedIndex } from '../../src/core/errors.js';
import { REAL, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { PADDED_INT_MAX, withIterationBytes } from '../helpers/p12.js';

const RUNS = Number(process.env.APNS_CERT_FUZZ_RUNS ?? 10_000);
const opts = { numRuns: RUNS };

function clean(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    // a refusal of core, as the command shows it: one clean line and an exit code
    const shown = userError(error, 'inspect');
    if (!(shown instanceof AppError)) throw error;
    expect(shown.message).not.toMatch(/\n/);
  }
}

/** Random edits of a byte string: flips, truncation, deletions and insertions of random bytes. */
const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { freq: 4 }),
  splice: fc.option(fc.tuple(fc.nat(), fc.nat({ max: 16 }), fc.uint8Array({ maxLength: 16 })), { freq: 3 }),
});
interface Mutation {
  flips: [number, number][];
  cut: number | null;
  splice: [number, number, Uint8Array] | null;
}
function mutate(source: Uint8Array, m: Mutation): Buffer {
  let bytes = Buffer.from(source);
  for (const [pos, xor] of m.flips) bytes[pos % bytes.length]! ^= xor;
  if (m.splice) {
    const at = m.splice[0] % bytes.length;
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.splice[2]), bytes.subarray(at + m.splice[1])]);
  }
  if (m.cut !== null) bytes = bytes.subarray(0, m.cut % (bytes.length + 1));
  return bytes;
}

const realPems = readdirSync(REAL)
  .filter((f) => f.endsWith('.pem') && !f.startsWith('csr_'))
  .map((f) => readFileSync(join(REAL, f)));
const realDers = realPems.map((p) => pemBlocks(p.toString('latin1'))[0]!.der);
const realRequests = readdirSync(REAL)
  .filter((f) => f.startsWith('push-cert-request_'))
  .map((f) => readFileSync(join(REAL, f)));

describe(`fuzzing every parser (${RUNS} inputs each)`, () => {
  it('PEM certificate files', () => {
    fc.assert(
      fc.property(fc.nat({ max: realPems.length - 1 }), mutation, (i, m) =>
        clean(() => decodeCertificateFile(mutate(realPems[i]!, m), 'f.pem')),
      ),
      opts,
    );
  });

  it('PEM files of BEGIN markers without their END, up to 1 MiB, before and after a real certificate', () => {
    const unit = fc.constantFrom(
      '-----BEGIN CERTIFICATE-----\n',
      '-----BEGIN A',
      '-----BEGIN X-----\n-----END Y-----\n',
    );
    const hostile = fc.tuple(
      unit,
      fc.integer({ min: 1, max: 1024 * 1024 }),
      fc.nat({ max: realPems.length - 1 }),
      fc.boolean(),
    );
    fc.assert(
      fc.property(hostile, ([u, bytes, i, before]) => {
        const flood = Buffer.from(u.repeat(Math.ceil(bytes / u.length)));
        clean(() =>
          decodeCertificateFile(
            before ? Buffer.concat([realPems[i]!, flood]) : Buffer.concat([flood, realPems[i]!]),
            'hostile.pem',
          ),
        );
      }),
      { numRuns: Math.ceil(RUNS / 100) },
    );
  });

  it('DER certificates', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(fc.nat({ max: realDers.length - 1 }), mutation), fc.uint8Array({ maxLength: 1500 })),
        (input) => {
          const bytes = input instanceof Uint8Array ? input : mutate(realDers[input[0]]!, input[1]);
          clean(() => decodeCertificateFile(bytes, 'f.der'));
        },
      ),
      opts,
    );
  });

  it('CSR files', () => {
    const csr = readFileSync(join(REAL, 'csr_abacus-push_2020.pem'));
    fc.assert(
      fc.property(mutation, (m) => clean(() => decodeCsrFile(mutate(csr, m), 'r.csr'))),
      opts,
    );
  });

  it('PKCS#12 files (modern and legacy, with their passwords)', () => {
    const dir = tempDir();
    const keys = newKeyPem();
    writeFileSync(join(dir, 'k.pem'), keys.privatePem);
    writeFileSync(
      join(dir, 'c.pem'),
      issuePushCert(createFakeCa(), {
        publicKeyPem: keys.publicPem,
        topic: mdmTopic(),
        notBefore: new Date('2026-01-01'),
        notAfter: new Date('2027-01-01'),
      }),
    );
    // one iteration, so that ten thousand decodes stay quick: the parser is under test, not the KDF
    const make = (out: string, ...extra: string[]) =>
      execFileSync('openssl', [
        'pkcs12',
        '-export',
        '-in',
        join(dir, 'c.pem'),
        '-inkey',
        join(dir, 'k.pem'),
        '-out',
        join(dir, out),
        '-passout',
        'pass:fuzz',
        '-iter',
        '1',
        ...extra,
      ]);
    make('modern.p12');
    make('legacy.p12', '-legacy', '-nomaciter');
    make('two.p12', '-iter', '2');
    // crafted: the MAC's iteration INTEGER as 12 bytes 00…00 7fffffff (issue 9, item 10): refused, never hours of KDF
    const crafted = withIterationBytes(readFileSync(join(dir, 'two.p12')), PADDED_INT_MAX, 'mac');
    expect(() => decodePkcs12(crafted, 'fuzz', 'f.p12')).toThrow(/too many iterations/);
    const p12s = [
      readFileSync(join(dir, 'modern.p12')),
      readFileSync(join(dir, 'legacy.p12')),
      readFileSync(join(REAL, 'fake_apns2_certificate-valid.p12')),
      crafted,
    ];
    const passwords = ['fuzz', 'fuzz', '', 'fuzz'];
    fc.assert(
      fc.property(fc.nat({ max: p12s.length - 1 }), mutation, (i, m) =>
        clean(() => decodePkcs12(mutate(p12s[i]!, m), passwords[i]!, 'f.p12')),
      ),
      opts,
    );
  });

  it('push certificate requests (plist and base64)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(fc.nat({ max: realRequests.length - 1 }), mutation), fc.string({ maxLength: 400 })),
        (input) => {
          const bytes = typeof input === 'string' ? Buffer.from(input) : mutate(realRequests[input[0]]!, input[1]);
          clean(() => parsePushRequest(bytes, 'request'));
        },
      ),
      opts,
    );
  });

  it('the store index', () => {
    const index = emptyIndex(randomUUID(), 'passphrase', new Date('2026-11-29T00:00:00Z'));
    for (const name of ['acme', 'beta']) {
      index.records[name] = {
        ...newRecord(name, '2026-11-29T00:00:00.000Z'),
        topic: mdmTopic(),
        pendingKey: { keyId: 'a1'.repeat(32), createdAt: '2026-11-29T00:00:00.000Z', csrPath: null },
      };
    }
    const text = Buffer.from(serializeIndex(index));
    fc.assert(
      fc.property(
        fc.oneof(
          mutation.map((m) => mutate(text, m).toString('latin1')),
          fc.json(),
        ),
        (input) => {
          try {
            parseIndex(input, 'index.json');
          } catch (error) {
            expect(error).toBeInstanceOf(DamagedIndex);
            expect((userError(error, 'list') as AppError).code).toBe('STORE_CORRUPT');
          }
        },
      ),
      opts,
    );
  });

  it('the built CLI, on a sample of mutated files: one clean line, never a stack trace', async () => {
    const dir = tempDir();
    const samples = fc.sample(fc.tuple(fc.nat({ max: realPems.length - 1 }), mutation), {
      numRuns: 40,
      seed: 20261129,
    });
    for (const [n, [i, m]] of samples.entries()) {
      const file = join(dir, `m${n}.pem`);
      writeFileSync(file, mutate(realPems[i]!, m));
      const r = await runCli(['inspect', file]);
      expect([0, 65]).toContain(r.code);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });
});
