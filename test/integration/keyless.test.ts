/**
 * Records without a key (`import --no-key`: Fleet, or any server that makes its own CSR and keeps its key), on
 * the real file store: the entry is keyless in the index (`keyId: null`, `keyless: true`), list/show/check-expiry
 * see it, the topic guard holds on renewal, export of the key and probe refuse with the reason, the certificate
 * alone exports, doctor reports no missing key, retire works, and an index with a null keyId but no flag is
 * refused as damaged.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem, signCsrFile } from '../helpers/fake-apple.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

const NOW = new Date();
const ca = createFakeCa();
const work = tempDir();

/** A certificate for a key this test never gives to apns-cert (the server keeps it). */
function serverCert(name: string, topic: string, days = 365): { path: string; pem: string; keyPem: string } {
  const key = newKeyPem();
  const pem = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic,
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, days),
  });
  const path = join(work, `${name}.pem`);
  writeFileSync(path, pem);
  return { path, pem, keyPem: key.privatePem };
}

const readIndex = (store: string) => JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
const keyFiles = (store: string) => (existsSync(join(store, 'keys')) ? readdirSync(join(store, 'keys')) : []);

async function keylessStore() {
  const env = inProcessEnv();
  const store = env.APNS_CERT_STORE!;
  const topic = mdmTopic();
  const first = serverCert('first', topic, 30);
  const r = await runInProcess(['import', first.path, '--name', 'fleet', '--no-key'], { env });
  expect(r.code, r.stderr).toBe(0);
  return { env, store, topic, first };
}

describe('import --no-key', () => {
  it('keeps a certificate whose key is nowhere here; list, show and check-expiry see it', async () => {
    const env = inProcessEnv();
    const store = env.APNS_CERT_STORE!;
    const topic = mdmTopic();
    const cert = serverCert('plain', topic, 20);
    // without --no-key: refused as before (no key anywhere)
    const refused = await runInProcess(['import', cert.path, '--name', 'fleet'], { env });
    expect(refused.code).toBe(65);
    expect(refused.stderr).toMatch(/--no-key/);

    const r = await runInProcess(
      ['import', cert.path, '--name', 'fleet', '--no-key', '--apple-id', 'mdm@acme.example', '--json'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'fleet', topic, keySource: 'none' });
    const entry = readIndex(store).records.fleet.certificates[0];
    expect(entry).toMatchObject({ keyId: null, keyless: true, status: 'active' });
    expect(keyFiles(store)).toEqual([]);

    const list = await runInProcess(['list', '--json'], { env });
    expect(JSON.parse(list.stdout).certificates).toEqual([
      expect.objectContaining({ name: 'fleet', topic, status: 'active' }),
    ]);
    expect((await runInProcess(['list'], { env })).stdout).toMatch(/fleet .*\(key kept by the server\)/);
    const show = await runInProcess(['show', 'fleet'], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^key {10}kept by the server/m);
    expect(show.stdout).toMatch(/^apple id {5}recorded \(salted hash\)/m);

    const expiry = await runInProcess(['check-expiry', '--name', 'fleet', '--json'], { env });
    expect(expiry.code).toBe(1); // 20 days left: WARNING with the default thresholds
    expect(expiry.stdout).toContain('"fleet"');
    const late = await runInProcess(['check-expiry', '--name', 'fleet', '--at', daysFrom(NOW, 25).toISOString()], {
      env,
    });
    expect(late.code).toBe(2);

    const verify = await runInProcess(['verify', cert.path, '--name', 'fleet'], { env });
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('refuses --no-key when the key is in the file or in the store (64), changing nothing', async () => {
    const env = inProcessEnv();
    const cert = serverCert('with-key', mdmTopic());
    const both = join(work, 'both.pem');
    writeFileSync(both, cert.pem + cert.keyPem);
    const r = await runInProcess(['import', both, '--name', 'x', '--no-key'], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--no-key .*holds its key/);
    expect(r.stderr).toMatch(/hint: apns-cert import .* --name/);
    expect(existsSync(join(env.APNS_CERT_STORE!, 'index.json'))).toBe(false);

    // a certificate for a pending key of the store: the key is here, so --no-key is refused too
    const csr = join(work, 'acme.csr.pem');
    expect((await runInProcess(['csr', '--name', 'acme', '--out', csr], { env })).code).toBe(0);
    const signed = join(work, 'acme.pem');
    signCsrFile(ca, csr, signed, { topic: mdmTopic(), notBefore: daysFrom(NOW, -1), notAfter: daysFrom(NOW, 365) });
    const before = readFileSync(join(env.APNS_CERT_STORE!, 'index.json'), 'utf8');
    const pending = await runInProcess(['import', signed, '--name', 'acme', '--no-key'], { env });
    expect(pending.code).toBe(64);
    expect(pending.stderr).toMatch(/the store holds its key \(record "acme"\)/);
    expect(readFileSync(join(env.APNS_CERT_STORE!, 'index.json'), 'utf8')).toBe(before);
  });

  it('renewal: another topic refused (1, store unchanged), the same topic accepted and still keyless', async () => {
    const { env, store, topic } = await keylessStore();
    const before = readFileSync(join(store, 'index.json'), 'utf8');
    const other = serverCert('other-topic', mdmTopic());
    const refused = await runInProcess(['import', other.path, '--name', 'fleet', '--no-key'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(topic);
    expect(readFileSync(join(store, 'index.json'), 'utf8')).toBe(before);

    const renewed = serverCert('renewed', topic, 365);
    const r = await runInProcess(['import', renewed.path, '--name', 'fleet', '--no-key'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Renewed fleet: same topic/);
    const certs = readIndex(store).records.fleet.certificates;
    expect(
      certs.map((c: { status: string; keyless?: boolean; keyId: unknown }) => [c.status, c.keyless, c.keyId]),
    ).toEqual([
      ['superseded', true, null],
      ['active', true, null],
    ]);
    // and a renewal found by topic alone (no --name) is still guarded and keyless
    const third = serverCert('third', topic, 400);
    const r3 = await runInProcess(['import', third.path, '--no-key'], { env });
    expect(r3.code, r3.stderr).toBe(0);
    expect(readIndex(store).records.fleet.certificates[2]).toMatchObject({ keyless: true, keyId: null });
    expect(keyFiles(store)).toEqual([]);
  });

  it('export of the key and probe refuse with the reason; --cert-only exports; doctor sees no missing key', async () => {
    const { env, first } = await keylessStore();
    const out = tempDir();
    for (const args of [
      ['export', 'fleet', '--pem', join(out, 'k.pem')],
      ['export', 'fleet', '--p12', join(out, 'k.p12')],
      ['probe', 'fleet'],
    ]) {
      const r = await runInProcess(args, {
        env: { ...env, APNS_CERT_P12_PASSWORD: 'x' },
      });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(65);
      expect(r.stderr).toMatch(/private key is kept by the server .*--no-key/);
      expect(r.stderr).toMatch(/hint: apns-cert export fleet --pem fleet\.pem --cert-only/);
    }
    expect(readdirSync(out)).toEqual([]);
    const certOnly = await runInProcess(['export', 'fleet', '--pem', join(out, 'c.pem'), '--cert-only'], { env });
    expect(certOnly.code, certOnly.stderr).toBe(0);
    expect(readFileSync(join(out, 'c.pem'), 'utf8').trim()).toBe(first.pem.trim().replace(/\r\n/g, '\n'));

    const doctor = await runInProcess(['doctor', '--offline', '--json'], { env });
    const checks = JSON.parse(doctor.stdout).checks as Array<{ check: string; status: string; message: string }>;
    expect(checks.find((c) => c.check === 'store-files')).toMatchObject({ status: 'ok' });
    expect(doctor.stdout).not.toMatch(/missing/);
  });

  it('retire works on a keyless record', async () => {
    const { env, store } = await keylessStore();
    const r = await runInProcess(['retire', 'fleet', '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readIndex(store).records.fleet.retiredAt).not.toBeNull();
    const purge = await runInProcess(['retire', 'fleet', '--purge', '--yes'], { env });
    expect(purge.code, purge.stderr).toBe(0);
    expect(readIndex(store).records.fleet).toBeUndefined();
  });

  it('an index with keyId null but no keyless flag (or the flag with a keyId) is damaged: 65', async () => {
    const { env, store } = await keylessStore();
    const path = join(store, 'index.json');
    const index = readIndex(store);
    const entry = index.records.fleet.certificates[0];
    delete entry.keyless;
    writeFileSync(path, JSON.stringify(index));
    let r = await runInProcess(['list'], { env });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/keyId is not a key id/);
    entry.keyless = true;
    entry.keyId = 'a'.repeat(64);
    writeFileSync(path, JSON.stringify(index));
    r = await runInProcess(['list'], { env });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/a keyless entry has a keyId/);
  });

  it('the built CLI: import --no-key and show', async () => {
    const env = inProcessEnv();
    const cert = serverCert('spawned', mdmTopic());
    const r = await runCli(['import', cert.path, '--name', 'fleet', '--no-key'], { env });
    expect(r.code, r.stderr).toBe(0);
    const show = await runCli(['show', 'fleet', '--json'], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ name: 'fleet', keyless: true });
  });
});
