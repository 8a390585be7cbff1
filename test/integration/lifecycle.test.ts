import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, hasStackTrace, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { keychainSkipReason } from '../helpers/keychain.js';
import { psql } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';

const ca = createFakeCa();
const NOW = new Date();

/** Where the lifecycle keeps its store: a directory (either secret backend), or a PostgreSQL database. */
interface StoreUnderTest {
  env: NodeJS.ProcessEnv;
  /** What is at rest, as text: every file of the directory, or every row of every table. */
  atRest(): string[];
  /** A digest of the whole store: equal digests = unchanged. */
  digest(): string;
}

function directoryStore(backend: 'passphrase' | 'keychain'): StoreUnderTest & { dir: string } {
  const dir = tempDir();
  const files = () => ['index.json', ...readdirSync(join(dir, 'keys')).map((f) => `keys/${f}`)];
  return {
    dir,
    env: cleanEnv({
      APNS_CERT_STORE: dir,
      APNS_CERT_SECRET_BACKEND: backend,
      APNS_CERT_PASSPHRASE: backend === 'passphrase' ? 'correct horse battery' : undefined,
    }),
    atRest() {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const sub of files()) expect(statSync(join(dir, sub)).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir).includes('master-key.json')).toBe(backend === 'passphrase');
      return files().map((sub) => readFileSync(join(dir, sub), 'utf8'));
    },
    digest: () => treeDigest(dir),
  };
}

function postgresStore(): StoreUnderTest {
  const db = testDatabase('lifecycle');
  const rows = (table: string) => psql(testCluster(), db.name, `SELECT t::text FROM apns_cert.${table} t ORDER BY 1`);
  const tables = ['meta', 'records', 'certificates', 'vendor_chains', 'secrets', 'vault'];
  return {
    env: cleanEnv({
      APNS_CERT_STORE: db.adminUrl,
      PGPASSWORD: db.password,
      APNS_CERT_PASSPHRASE: 'correct horse battery',
    }),
    // each row a line: a sealed key's JSON is on one line as in its file
    atRest: () => tables.flatMap((t) => rows(t).split('\n')),
    digest: () => createHash('sha256').update(tables.map(rows).join('\n')).digest('hex'),
  };
}

function lifecycle(store: () => StoreUnderTest & { init?: boolean }) {
  return async () => {
    const under = store();
    const work = tempDir();
    const env = under.env;
    const cli = async (...args: string[]) => {
      const result = await runCli(args, { env, cwd: work });
      expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
      return result;
    };
    const topic = mdmTopic();
    if (under.init === true) expect((await cli('store', 'init')).code).toBe(0);

    // 1. csr: key + CSR that openssl verifies
    let r = await cli('csr', '--name', 'acme', '--email', 'mdm@acme.example', '--country', 'ch');
    expect(r.code, r.stderr).toBe(0);
    const csrPath = join(work, 'acme.csr.pem');
    expect(r.stdout.trim()).toBe(csrPath);
    expect(r.stderr).toContain('Create a Certificate');
    execFileSync('openssl', ['req', '-in', csrPath, '-noout', '-verify'], { stdio: 'pipe' });
    const subject = execFileSync('openssl', ['req', '-in', csrPath, '-noout', '-subject']).toString();
    expect(subject).toMatch(/emailAddress = mdm@acme.example, CN = acme, C = CH/);
    for (const text of under.atRest()) {
      // no PEM key, and no base64 DER key as a line or a JSON value ("MII" starts a DER key's base64; matched
      // anywhere, it also hit random ciphertext: about 1 run in 160)
      expect(text).not.toMatch(/PRIVATE KEY|(^|")MII/m);
    }

    // 2. Apple signs it; 3. import finds the record by its pending key
    const cert1 = join(work, 'cert1.pem');
    signCsrFile(ca, csrPath, cert1, { topic, notBefore: daysFrom(NOW, -1), notAfter: daysFrom(NOW, 365) });
    r = await cli('import', cert1);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Imported acme: topic ${topic}`);

    r = await cli('list', '--json');
    const listed = JSON.parse(r.stdout);
    expect(listed.schemaVersion).toBe(1);
    expect(listed.certificates).toHaveLength(1);
    expect(Object.keys(listed.certificates[0]).sort()).toEqual(
      [
        'daysRemaining',
        'name',
        'note',
        'notAfter',
        'owner',
        'pendingKey',
        'serialNumber',
        'signing',
        'status',
        'topic',
        'topicHash',
      ].sort(),
    );
    expect(listed.certificates[0]).toMatchObject({ name: 'acme', topic, status: 'active' });

    // 4. renewal with the same topic
    r = await cli('csr', '--name', 'acme', '--out', 'renew.csr.pem');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`RENEW: find the row whose topic is ${topic}`);
    const cert2 = join(work, 'cert2.pem');
    signCsrFile(ca, join(work, 'renew.csr.pem'), cert2, {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 730),
    });
    r = await cli('import', cert2, '--name', 'acme');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Renewed acme: same topic ${topic}`);
    r = await cli('show', 'acme', '--json');
    const shown = JSON.parse(r.stdout);
    expect(shown.history.map((c: { status: string }) => c.status)).toEqual(['active', 'superseded']);
    expect(shown.pendingKey).toBeNull();

    // 5. a "renewal" with another topic is refused and the store is byte-for-byte unchanged
    r = await cli('csr', '--name', 'acme', '--out', 'wrong.csr.pem');
    expect(r.code, r.stderr).toBe(0);
    const otherTopic = mdmTopic();
    const cert3 = join(work, 'cert3.pem');
    signCsrFile(ca, join(work, 'wrong.csr.pem'), cert3, {
      topic: otherTopic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 800),
    });
    const before = under.digest();
    r = await cli('import', cert3, '--name', 'acme');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(topic);
    expect(r.stderr).toContain(otherTopic);
    expect(r.stderr).toMatch(/re-enroll/);
    expect(under.digest()).toBe(before);

    // 6. check-expiry: Nagios exit codes as time passes
    const at = (days: number) => daysFrom(NOW, days).toISOString();
    expect((await cli('check-expiry', '-q')).code).toBe(0);
    expect((await cli('check-expiry', '-q')).stdout).toBe('');
    r = await cli('check-expiry', '--at', at(715));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/WARNING.*acme/);
    expect((await cli('check-expiry', '--at', at(726))).code).toBe(2);
    expect((await cli('check-expiry', '--at', at(900))).code).toBe(2);
    expect((await cli('check-expiry', '--name', 'nobody')).code).toBe(3);
    r = await cli('check-expiry', '--json', '--at', at(715));
    const checked = JSON.parse(r.stdout);
    expect(Object.keys(checked).sort()).toEqual([
      'certificates',
      'checkedAt',
      'criticalDays',
      'errors',
      'schemaVersion',
      'status',
      'warnDays',
    ]);
    expect(checked).toMatchObject({ schemaVersion: 1, status: 'warning', warnDays: 30, criticalDays: 7 });
    expect(checked.certificates[0]).toMatchObject({ name: 'acme', topic, status: 'warning', daysRemaining: 14 });

    // 7. verify for CI
    const hash = execFileSync('sha256sum', { input: topic }).toString().split(' ')[0]!;
    r = await cli('verify', cert2, '--name', 'acme', '--topic-hash', hash, '--topic', topic);
    expect(r.code, r.stderr).toBe(0);
    r = await cli('verify', cert3, '--name', 'acme', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      schemaVersion: 1,
      file: cert3,
      ok: false,
      checks: [{ check: 'store-topic', ok: false, expected: topic, actual: otherTopic }],
    });
    expect((await cli('hash', cert2)).stdout.trim()).toBe(hash);

    // 8. export of the key: the active certificate's own, 0600
    const exported = join(work, 'export.pem');
    r = await cli('export', 'acme', '--pem', exported);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(exported).mode & 0o777).toBe(0o600);
    const modulus = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' }).toString().trim();
    expect(modulus(['rsa', '-in', exported, '-noout', '-modulus'])).toBe(
      modulus(['x509', '-in', cert2, '-noout', '-modulus']),
    );

    // 9. the scripted renewal, then its import
    r = await cli('renew', 'acme', '--apple-id', 'mdm@acme.example', '--csr-out', join(work, 'r.csr'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'acme', topic, csrPath: join(work, 'r.csr') });
    const cert4 = join(work, 'cert4.pem');
    signCsrFile(ca, join(work, 'r.csr'), cert4, { topic, notBefore: daysFrom(NOW, 0), notAfter: daysFrom(NOW, 1000) });
    r = await cli('import', cert4, '--name', 'acme');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Renewed acme: same topic ${topic}`);
    r = await cli('show', 'acme', '--json');
    expect(JSON.parse(r.stdout).history.map((c: { status: string }) => c.status)).toEqual([
      'active',
      'superseded',
      'superseded',
    ]);

    return { env, work };
  };
}

describe('the whole lifecycle through the built CLI', () => {
  it(
    'with the passphrase backend',
    lifecycle(() => directoryStore('passphrase')),
  );
  it(
    'on a PostgreSQL store',
    lifecycle(() => ({ ...postgresStore(), init: true })),
  );

  const skip = keychainSkipReason();
  if (skip) console.warn(`skipping the keychain lifecycle: ${skip}`);
  it.skipIf(skip !== undefined)('with the keychain backend (real Secret Service)', async () => {
    const under = directoryStore('keychain');
    await lifecycle(() => under)();
    const store = under.dir;
    const storeId = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')).storeId as string;
    const found = execFileSync('secret-tool', ['search', '--all', 'service', 'apns-cert'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    expect(found).toContain(`store-${storeId}`);
  });
});
