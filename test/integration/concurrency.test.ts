import { mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIndex } from '../../src/core/index-model.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsr } from '../helpers/fake-apple.js';

describe('parallel writers on one store', () => {
  it('12 csr processes at once on a new store: 12 records, one master key, a valid index', async () => {
    const store = tempDir();
    const work = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'parallel', APNS_CERT_LOCK_WAIT_MS: '60000' });
    const names = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    const results = await Promise.all(names.map((name) => runCli(['csr', '--name', name, '--out', join(work, `${name}.csr`)], { env, timeoutMs: 90_000 })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const index = parseIndex(readFileSync(join(store, 'index.json'), 'utf8'), 'index.json');
    expect(Object.keys(index.records).sort()).toEqual([...names].sort());
    expect(readdirSync(join(store, 'keys'))).toHaveLength(12);

    // then imports of all of them, in parallel too
    const ca = createFakeCa();
    const now = new Date();
    for (const name of names) {
      writeFileSync(join(work, `${name}.pem`), signCsr(ca, readFileSync(join(work, `${name}.csr`), 'utf8'), { topic: mdmTopic(), notBefore: daysFrom(now, -1), notAfter: daysFrom(now, 365) }));
    }
    const imports = await Promise.all(names.map((name) => runCli(['import', join(work, `${name}.pem`)], { env, timeoutMs: 90_000 })));
    for (const r of imports) expect(r.code, r.stderr).toBe(0);
    const after = parseIndex(readFileSync(join(store, 'index.json'), 'utf8'), 'index.json');
    for (const name of names) expect(after.records[name]!.certificates).toHaveLength(1);
    const check = await runCli(['check-expiry', '--json'], { env });
    expect(JSON.parse(check.stdout).certificates).toHaveLength(12);
  });

  it('a writer that cannot get the lock gives up with exit 75 and a clear message', async () => {
    const store = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p', APNS_CERT_LOCK_WAIT_MS: '300' });
    mkdirSync(join(store, 'store.lock'), { recursive: true });
    const fresh = new Date();
    utimesSync(join(store, 'store.lock'), fresh, fresh);
    const r = await runCli(['csr', '--name', 'acme', '--out', join(store, 'acme.csr')], { env });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/another apns-cert process is changing it/);
    expect(r.stderr).toMatch(/hint: /);
  });
});
