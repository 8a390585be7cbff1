/**
 * .p12 and PEM exports against independent readers (OpenSSL 3, Python `cryptography`), non-ASCII passwords
 * both ways, and the work limit on hostile iteration counts (issue 9: items 5, 10, 21, 22).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCertificateFile } from '../../src/core/input.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { decodePkcs12, encodePkcs12 } from '../../src/core/pkcs12.js';
import { MAX_LEGACY_P12_ITERATIONS, MAX_P12_ITERATIONS } from '../../src/core/pkcs12-params.js';
import { cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { PADDED_INT_MAX, withIterationBytes } from '../helpers/p12.js';

const NOW = new Date();
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const PASSWORD = 'pässwörd';

describe('.p12 and PEM exports, read by OpenSSL 3 and Python cryptography', () => {
  let work: string;
  let store: string;
  const env = () => cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'store pass' });
  beforeAll(async () => {
    work = tempDir();
    store = tempDir();
    const keys = newKeyPem();
    writeFileSync(join(work, 'key.pem'), keys.privatePem);
    writeFileSync(
      join(work, 'cert.pem'),
      issuePushCert(createFakeCa(), {
        publicKeyPem: keys.publicPem,
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -5),
        notAfter: daysFrom(NOW, 300),
      }),
    );
    // the password as UTF-8 bytes in a file: OpenSSL's file: source passes those bytes on unchanged
    writeFileSync(join(work, 'pw'), `${PASSWORD}\n`);
    writeFileSync(join(work, 'both.pem'), readFileSync(join(work, 'cert.pem'), 'utf8') + keys.privatePem);
    const r = await runInProcess(['import', join(work, 'both.pem'), '--name', 'acme'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
  });
  const pubkey = (file: string) => openssl('pkey', '-in', file, '-pubout');

  it('a .p12 exported with a non-ASCII password opens in OpenSSL 3 with that (UTF-8) password, modern and --legacy', async () => {
    for (const legacy of [false, true]) {
      const file = join(work, legacy ? 'ours-legacy.p12' : 'ours.p12');
      const r = await runInProcess(
        ['export', 'acme', '--p12', file, '--password-file', join(work, 'pw'), ...(legacy ? ['--legacy'] : [])],
        { env: env() },
      );
      expect(r.code, r.stderr).toBe(0);
      const pem = join(work, 'opened.pem');
      openssl(
        'pkcs12',
        '-in',
        file,
        '-nodes',
        '-passin',
        `file:${join(work, 'pw')}`,
        '-out',
        pem,
        ...(legacy ? ['-legacy'] : []),
      );
      expect(pubkey(pem)).toBe(pubkey(join(work, 'key.pem')));
    }
  });

  it('imports a .p12 that OpenSSL 3 exported with a non-ASCII password, modern and -legacy', async () => {
    for (const legacy of [false, true]) {
      const file = join(work, legacy ? 'theirs-legacy.p12' : 'theirs.p12');
      openssl(
        'pkcs12',
        '-export',
        '-in',
        join(work, 'cert.pem'),
        '-inkey',
        join(work, 'key.pem'),
        '-out',
        file,
        '-passout',
        `file:${join(work, 'pw')}`,
        ...(legacy ? ['-legacy'] : []),
      );
      const r = await runInProcess(
        ['import', file, '--name', legacy ? 'theirs-legacy' : 'theirs', '--password-file', join(work, 'pw')],
        { env: cleanEnv({ APNS_CERT_STORE: tempDir(), APNS_CERT_PASSPHRASE: 'p' }) },
      );
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('the default .p12 uses PBKDF2-HMAC-SHA256 with 600 000 iterations for key and MAC; --iterations lowers both', async () => {
    let info = '';
    for (const extra of [[], ['--iterations', '10000']]) {
      const file = join(work, `iter-${extra.length}.p12`);
      const r = await runInProcess(['export', 'acme', '--p12', file, '--password-file', join(work, 'pw'), ...extra], {
        env: env(),
      });
      expect(r.code, r.stderr).toBe(0);
      info += execFileSync('sh', [
        '-c',
        `openssl pkcs12 -in '${file}' -info -noout -passin 'file:${join(work, 'pw')}' 2>&1`,
      ]).toString();
    }
    expect(info).toMatch(/MAC: sha256, Iteration 600000/);
    expect(info).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256/);
    expect(info).toMatch(/MAC: sha256, Iteration 10000\n/);
    expect(info).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
    const low = await runInProcess(
      ['export', 'acme', '--p12', join(work, 'low.p12'), '--password-file', join(work, 'pw'), '--iterations', '10'],
      { env: env() },
    );
    expect(low.code).toBe(64);
  });

  it('export --pem --key-format pkcs1 writes BEGIN RSA PRIVATE KEY, which OpenSSL and Python cryptography load; pkcs8 stays the default', async () => {
    const pkcs1 = join(work, 'pkcs1.pem');
    const pkcs8 = join(work, 'pkcs8.pem');
    expect((await runInProcess(['export', 'acme', '--pem', pkcs1, '--key-format', 'pkcs1'], { env: env() })).code).toBe(
      0,
    );
    expect((await runInProcess(['export', 'acme', '--pem', pkcs8], { env: env() })).code).toBe(0);
    expect(readFileSync(pkcs1, 'utf8')).toMatch(/-----BEGIN RSA PRIVATE KEY-----/);
    expect(readFileSync(pkcs1, 'utf8')).not.toMatch(/BEGIN PRIVATE KEY/);
    expect(readFileSync(pkcs8, 'utf8')).toMatch(/-----BEGIN PRIVATE KEY-----/);
    expect(openssl('rsa', '-in', pkcs1, '-check', '-noout')).toMatch(/RSA key ok/);
    expect(pubkey(pkcs1)).toBe(pubkey(join(work, 'key.pem')));
    // Python: the PKCS#1 block on its own, as Go's x509.ParsePKCS1PrivateKey would take it, matches the certificate's key
    const py = [
      'import sys, re',
      'from cryptography import x509',
      'from cryptography.hazmat.primitives.serialization import load_pem_private_key, Encoding, PublicFormat',
      'text = open(sys.argv[1]).read()',
      'block = re.search(r"-----BEGIN RSA PRIVATE KEY-----.*?-----END RSA PRIVATE KEY-----\\n", text, re.S).group(0)',
      'key = load_pem_private_key(block.encode(), None)',
      'cert = x509.load_pem_x509_certificate(text.encode())',
      'print(key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))',
    ].join('\n');
    expect(execFileSync('python3', ['-c', py, pkcs1]).toString().trim()).toBe('True');
    const wrong = await runInProcess(
      ['export', 'acme', '--p12', join(work, 'x.p12'), '--password-file', join(work, 'pw'), '--key-format', 'pkcs1'],
      { env: env() },
    );
    expect(wrong.code).toBe(64);
  });
});

describe('.p12 iteration counts: a hostile or extreme count is refused (65) within seconds', () => {
  let work: string;
  beforeAll(async () => {
    work = tempDir();
    const keys = newKeyPem();
    writeFileSync(join(work, 'key.pem'), keys.privatePem);
    writeFileSync(
      join(work, 'cert.pem'),
      issuePushCert(createFakeCa(), {
        publicKeyPem: keys.publicPem,
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -5),
        notAfter: daysFrom(NOW, 300),
      }),
    );
    const base = [
      'pkcs12',
      '-export',
      '-in',
      join(work, 'cert.pem'),
      '-inkey',
      join(work, 'key.pem'),
      '-passout',
      'pass:x',
    ];
    // two iterations: with one, OpenSSL leaves the iteration INTEGERs out (DEFAULT 1) and there is nothing to pad
    openssl(...base, '-out', join(work, 'two.p12'), '-iter', '2');
    openssl(...base, '-out', join(work, 'nomac.p12'), '-iter', '2', '-nomac');
    writeFileSync(
      join(work, 'padded-mac.p12'),
      withIterationBytes(readFileSync(join(work, 'two.p12')), PADDED_INT_MAX, 'mac'),
    );
    writeFileSync(
      join(work, 'padded-bags.p12'),
      withIterationBytes(readFileSync(join(work, 'nomac.p12')), PADDED_INT_MAX),
    );
    // the legitimate extreme the issue timed at 3 min 21 s (OpenSSL itself takes half a minute to write it)
    await promisify(execFile)('openssl', [...base, '-out', join(work, 'iter9999999.p12'), '-iter', '9999999']);
  }, 240_000);
  const env = () => cleanEnv({ APNS_CERT_STORE: tempDir(), APNS_CERT_P12_PASSWORD: 'x' });

  it.each([
    ['a MAC iteration INTEGER padded to 12 bytes (00…00 7fffffff)', 'padded-mac.p12'],
    ['bag iteration INTEGERs padded to 12 bytes, no MAC', 'padded-bags.p12'],
    ['openssl pkcs12 -export -iter 9999999', 'iter9999999.p12'],
  ])('%s: inspect and check-expiry refuse it with 65 before a 30 s kill timer', async (_what, file) => {
    for (const args of [
      ['inspect', join(work, file)],
      ['check-expiry', join(work, file)],
    ]) {
      const r = await runCli(args, { env: env(), timeoutMs: 30_000 });
      // check-expiry: Nagios UNKNOWN (3), the file named on stdout
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(args[0] === 'inspect' ? 65 : 3);
      expect(r.stderr + r.stdout).toMatch(/too many iterations/);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('the most --iterations allows (1 000 000; 500 000 with --legacy) still opens in our own import', () => {
    const key = describePrivateKey(createPrivateKey(readFileSync(join(work, 'key.pem'))));
    const cert = decodeCertificateFile(readFileSync(join(work, 'cert.pem')), 'cert.pem').certificates[0]!;
    for (const [legacy, iterations] of [
      [false, MAX_P12_ITERATIONS],
      [true, MAX_LEGACY_P12_ITERATIONS],
    ] as const) {
      const p12 = encodePkcs12(key, [cert], 'x', { legacy, iterations, friendlyName: 'max' });
      expect(decodePkcs12(p12, 'x', 'max.p12').privateKeys[0]!.keyId).toBe(key.keyId);
    }
  }, 300_000);

  it('the same files unpadded open (control)', async () => {
    for (const file of ['two.p12', 'nomac.p12']) {
      const r = await runInProcess(['inspect', join(work, file)], { env: env() });
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
