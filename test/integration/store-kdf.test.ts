/**
 * The store's key derivation (issue 9: items 5, 6, 25): new wraps and Apple ID hashes use scrypt N=2^17,
 * old ones keep working, `store upgrade` re-wraps; a damaged master-key.json or key file is told apart from a
 * wrong passphrase; secrets and Apple IDs that are not UTF-8 are refused (64).
 * The old wrap format is rebuilt here with node's crypto alone, not with the code under test.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appleIdMatches } from '../../src/core/topic.js';
import { BIN, cleanEnv, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const AAD = 'apns-cert master key v1';
interface Wrapped {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  check?: string;
  box: { version: 1; alg: 'aes-256-gcm'; iv: string; tag: string; ciphertext: string };
}
const b64 = (b: Buffer) => b.toString('base64');
const kek = (passphrase: string, kdf: Wrapped['kdf']) =>
  scryptSync(passphrase, Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 512 * 1024 * 1024,
  });
function unwrap(w: Wrapped, passphrase: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', kek(passphrase, w.kdf), Buffer.from(w.box.iv, 'base64'));
  d.setAAD(Buffer.from(AAD));
  d.setAuthTag(Buffer.from(w.box.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(w.box.ciphertext, 'base64')), d.final()]);
}
/** The wrap as the tool wrote it before issue 9: scrypt N=2^15, no check value. */
function oldWrap(masterKey: Buffer, passphrase: string): Wrapped {
  const kdf = { name: 'scrypt' as const, N: 1 << 15, r: 8, p: 1, salt: b64(randomBytes(16)) };
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek(passphrase, kdf), iv);
  c.setAAD(Buffer.from(AAD));
  const ciphertext = Buffer.concat([c.update(masterKey), c.final()]);
  return {
    version: 1,
    kdf,
    box: { version: 1, alg: 'aes-256-gcm', iv: b64(iv), tag: b64(c.getAuthTag()), ciphertext: b64(ciphertext) },
  };
}
const flipCiphertext = (box: { ciphertext: string }) => {
  const bytes = Buffer.from(box.ciphertext, 'base64');
  bytes[3]! ^= 0x01;
  box.ciphertext = b64(bytes);
};

async function newStore(): Promise<{ store: string; env: NodeJS.ProcessEnv; mk: string }> {
  const store = tempDir();
  const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'store pass' });
  const r = await runInProcess(
    [
      '--secret-backend',
      'passphrase',
      'csr',
      '--name',
      'acme',
      '--out',
      join(tempDir(), 'a.csr'),
      '--apple-id',
      'admin@example.com',
    ],
    { env },
  );
  expect(r.code, r.stderr).toBe(0);
  return { store, env, mk: join(store, 'master-key.json') };
}
/** A passphrase store with an imported certificate and key (record acme), and a .p12 of them (password "x"). */
async function storeWithCertificate(): Promise<{ store: string; env: NodeJS.ProcessEnv; p12: string }> {
  const work = tempDir();
  const keys = newKeyPem();
  const cert = issuePushCert(createFakeCa(), {
    publicKeyPem: keys.publicPem,
    topic: mdmTopic(),
    notBefore: daysFrom(new Date(), -5),
    notAfter: daysFrom(new Date(), 300),
  });
  writeFileSync(join(work, 'both.pem'), cert + keys.privatePem);
  const p12 = join(work, 'both.p12');
  execFileSync('openssl', ['pkcs12', '-export', '-in', join(work, 'both.pem'), '-out', p12, '-passout', 'pass:x']);
  const store = tempDir();
  const env = cleanEnv({
    APNS_CERT_STORE: store,
    APNS_CERT_PASSPHRASE: 'store pass',
    APNS_CERT_SECRET_BACKEND: 'passphrase',
  });
  const r = await runInProcess(['import', join(work, 'both.pem'), '--name', 'acme'], { env });
  expect(r.code, r.stderr).toBe(0);
  return { store, env, p12 };
}
const readWrap = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Wrapped;
/** A csr for another record: it unlocks the store (and reads no other secret). */
const unlock = (env: NodeJS.ProcessEnv) =>
  runInProcess(['csr', '--name', 'probe', '--out', join(tempDir(), 'p.csr')], { env });

describe('store key derivation: scrypt N=2^17 for new wraps and Apple ID hashes, old ones still open', () => {
  it('a new store wraps its master key with scrypt N=2^17 r=8 p=1 and a check value; a new Apple ID hash uses N=2^17', async () => {
    const { store, mk } = await newStore();
    const w = readWrap(mk);
    expect(w.kdf).toMatchObject({ name: 'scrypt', N: 1 << 17, r: 8, p: 1 });
    expect(Buffer.from(w.check ?? '', 'base64')).toHaveLength(32);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as {
      records: Record<string, { appleIdHash: string }>;
    };
    expect(index.records.acme!.appleIdHash).toMatch(/^scrypt\$131072\$8\$1\$/);
  });

  it('an Apple ID hash made with the old N=2^14 still matches (its parameters are stored with it)', () => {
    const salt = randomBytes(16);
    const old = [
      'scrypt',
      16384,
      8,
      1,
      b64(salt),
      b64(scryptSync('admin@example.com', salt, 32, { N: 16384, r: 8, p: 1 })),
    ].join('$');
    expect(appleIdMatches(' Admin@Example.com ', old)).toBe(true);
    expect(appleIdMatches('other@example.com', old)).toBe(false);
  });

  it('a store wrapped with the old parameters (N=2^15, no check) still opens; store upgrade re-wraps it to N=2^17, keys unchanged; a second upgrade writes nothing', async () => {
    const { store, env, mk } = await newStore();
    const masterKey = unwrap(readWrap(mk), 'store pass');
    writeFileSync(mk, `${JSON.stringify(oldWrap(masterKey, 'store pass'), null, 2)}\n`, { mode: 0o600 });
    expect((await unlock(env)).code).toBe(0);

    const r = await runCli(['store', 'upgrade'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /re-wrapped the master key: scrypt N=2\^15 r=8 p=1 without check value -> scrypt N=2\^17 r=8 p=1 with check value/,
    );
    const w = readWrap(mk);
    expect(w.kdf).toMatchObject({ N: 1 << 17, r: 8, p: 1 });
    expect(w.check).toBeDefined();
    expect(unwrap(w, 'store pass').equals(masterKey)).toBe(true);
    expect((await unlock(env)).code).toBe(0);

    const before = treeDigest(store);
    const again = await runCli(['store', 'upgrade', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      changed: false,
      backend: 'passphrase',
      to: { N: 1 << 17, r: 8, p: 1, check: true },
    });
    expect(treeDigest(store)).toBe(before);
  });

  it('store upgrade with a wrong passphrase is 77 and changes nothing; on a store that does not exist, 64', async () => {
    const { store, env, mk } = await newStore();
    writeFileSync(mk, JSON.stringify(oldWrap(unwrap(readWrap(mk), 'store pass'), 'store pass')), { mode: 0o600 });
    const before = treeDigest(store);
    const r = await runInProcess(['store', 'upgrade'], { env: { ...env, APNS_CERT_PASSPHRASE: 'wrong' } });
    expect(r.code).toBe(77);
    expect(treeDigest(store)).toBe(before);
    const none = await runInProcess(['store', 'upgrade'], {
      env: { ...env, APNS_CERT_STORE: join(tempDir(), 'none') },
    });
    expect(none.code).toBe(64);
  });

  it('store upgrade --help has EXIT CODES and EXAMPLES', async () => {
    const r = await runInProcess(['store', 'upgrade', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/EXIT CODES[\s\S]*77 +wrong store passphrase[\s\S]*EXAMPLES\n {2}apns-cert store upgrade/);
  });
});

describe('a damaged master-key.json or key file is not "wrong passphrase"', () => {
  it('a tampered wrapped master key: 65 "damaged" with a hint; the wrong passphrase is still 77', async () => {
    const { env, mk } = await newStore();
    const w = readWrap(mk);
    flipCiphertext(w.box);
    writeFileSync(mk, JSON.stringify(w));
    const r = await unlock(env);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toMatch(/master-key\.json is damaged/);
    expect(r.stderr).not.toMatch(/wrong passphrase/);
    expect(r.stderr).toMatch(/^hint: /m);
    const wrong = await unlock({ ...env, APNS_CERT_PASSPHRASE: 'nope' });
    expect(wrong.code).toBe(77);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
  });

  it('a tampered key file: 65, named as damaged, not "wrong passphrase"', async () => {
    const { store, env } = await storeWithCertificate();
    const keyFile = join(store, 'keys', readdirSync(join(store, 'keys'))[0]!);
    const box = JSON.parse(readFileSync(keyFile, 'utf8')) as { ciphertext: string };
    flipCiphertext(box);
    writeFileSync(keyFile, JSON.stringify(box));
    const r = await runInProcess(['export', 'acme', '--pem', join(tempDir(), 'out.pem')], { env });
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toMatch(/keys\/[0-9a-f]+\.key is damaged/);
    expect(r.stderr).not.toMatch(/wrong passphrase/);
  });

  it.each([
    ['scrypt parameters that scrypt refuses (N=3)', (w: Wrapped) => ({ ...w, kdf: { ...w.kdf, N: 3 } })],
    ['an absurd memory demand (r=1024)', (w: Wrapped) => ({ ...w, kdf: { ...w.kdf, r: 1024 } })],
    ['an unknown format (version 2)', (w: Wrapped) => ({ ...w, version: 2 })],
  ])('%s: 65 with a hint, not 70', async (_what, edit) => {
    const { env, mk } = await newStore();
    writeFileSync(mk, JSON.stringify(edit(readWrap(mk))));
    const r = await unlock(env);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toMatch(/^apns-cert: read the wrapped master key .*master-key\.json: /m);
    expect(r.stderr).toMatch(/^hint: apns-cert doctor/m);
  });
});

describe('input that is not UTF-8 is refused (64)', () => {
  // bash's $'\xff' puts the raw byte into argv and the environment; node decodes it to U+FFFD
  const sh = (script: string, env: NodeJS.ProcessEnv) => {
    try {
      const stdout = execFileSync('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      const e = error as { status: number; stdout: Buffer; stderr: Buffer };
      return { code: e.status, stdout: e.stdout.toString(), stderr: e.stderr.toString() };
    }
  };
  const node = `'${process.execPath}' '${BIN}'`;

  it("Apple IDs 'adm\\xffin@…' and 'adm\\xfein@…' do not collide: both are refused, nothing is written", async () => {
    const store = tempDir();
    const env = cleanEnv({
      APNS_CERT_STORE: store,
      APNS_CERT_PASSPHRASE: 'store pass',
      APNS_CERT_SECRET_BACKEND: 'passphrase',
    });
    for (const byte of ['\\xff', '\\xfe']) {
      const r = sh(
        `${node} csr --name acme --out ${join(tempDir(), 'a.csr')} --apple-id $'adm${byte}in@example.com'`,
        env,
      );
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toMatch(/the Apple ID: it is not valid UTF-8/);
    }
    expect(readdirSync(store)).toEqual([]);
  });

  it('a store passphrase that is not UTF-8, from the environment or a file, is refused', async () => {
    const { env } = await newStore();
    const fromEnv = sh(`APNS_CERT_PASSPHRASE=$'p\\xffss' ${node} csr --name b --out ${join(tempDir(), 'b.csr')}`, env);
    expect(fromEnv.code, fromEnv.stderr).toBe(64);
    expect(fromEnv.stderr).toMatch(/passphrase: it is not valid UTF-8/);
    const file = join(tempDir(), 'pass');
    writeFileSync(file, Buffer.from([0x70, 0xff, 0x0a]));
    const fromFile = await runInProcess(
      ['--passphrase-file', file, 'csr', '--name', 'b', '--out', join(tempDir(), 'b.csr')],
      { env: { ...env, APNS_CERT_PASSPHRASE: undefined } },
    );
    expect(fromFile.code, fromFile.stderr).toBe(64);
    expect(fromFile.stderr).toMatch(/not valid UTF-8/);
  });

  it('a .p12 password that is not UTF-8 (file or environment) is refused by import and export', async () => {
    const { env, p12 } = await storeWithCertificate();
    const file = join(tempDir(), 'pw');
    writeFileSync(file, Buffer.from([0x70, 0xe4, 0x73, 0x73])); // "päss" in Latin-1
    for (const args of [
      ['import', p12, '--name', 'x', '--password-file', file],
      ['export', 'acme', '--p12', join(tempDir(), 'o.p12'), '--password-file', file],
    ]) {
      const r = await runInProcess(args, { env });
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(64);
      expect(r.stderr).toMatch(/not valid UTF-8/);
    }
    const fromEnv = sh(`APNS_CERT_P12_PASSWORD=$'p\\xe4ss' ${node} import '${p12}' --name x`, env);
    expect(fromEnv.code, fromEnv.stderr).toBe(64);
    expect(fromEnv.stderr).toMatch(/the \.p12 password: it is not valid UTF-8/);
  });
});
