/**
 * The store format does not change under the code: a store written by apns-cert 0.1.0 (made by
 * test/fixtures/stores/generate-v0.1.0.ts with that release) opens, reads and changes with this build.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT, cleanEnv, runCli, tempDir, treeDigest } from '../helpers/cli.js';

const FIXTURE = join(ROOT, 'test/fixtures/stores/v0.1.0-passphrase');
const ACTIVE_PEM = readFileSync(join(ROOT, 'test/fixtures/stores/v0.1.0-acme-prod-active.pem'), 'utf8').replace(
  /\r\n/g,
  '\n',
);
const ACME_TOPIC = 'com.apple.mgmt.External.0f6a41b5-5a43-4f2c-9b7e-1d3c2a9e8f10';

/** A copy of the fixture with the modes the tool gives a store (git keeps neither 0700 nor 0600). */
function copyStore(): string {
  const dir = join(tempDir(), 'store');
  cpSync(FIXTURE, dir, { recursive: true });
  const fix = (path: string) => {
    const isDir = statSync(path).isDirectory();
    chmodSync(path, isDir ? 0o700 : 0o600);
    if (isDir) for (const name of readdirSync(path)) fix(join(path, name));
  };
  fix(dir);
  return dir;
}

describe('a store written by apns-cert 0.1.0', () => {
  let store: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    store = copyStore();
    env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'fixture passphrase 0.1.0' });
  });

  it('lists, shows and checks expiry as it did, and reading changes nothing', async () => {
    const before = treeDigest(store);
    const list = await runCli(['list', '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout).certificates.map((c: Record<string, unknown>) => [c.name, c.status, c.topic]);
    expect(rows).toEqual([
      ['acme-prod', 'active', ACME_TOPIC],
      ['beta', 'pending', null],
      ['gone', 'retired', 'com.apple.mgmt.External.7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'],
    ]);
    const show = await runCli(['show', 'acme-prod', '--json'], { env });
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout);
    expect(shown.appleIdRecorded).toBe(true);
    expect([shown.appleIdRemembered, shown.owner, shown.note]).toEqual([false, null, null]);
    expect(JSON.parse(list.stdout).certificates.map((c: Record<string, unknown>) => [c.owner, c.note])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    expect(shown.history.map((h: { status: string; notAfter: string }) => [h.status, h.notAfter])).toEqual([
      ['active', '2027-12-20T00:00:00.000Z'],
      ['superseded', '2027-01-10T00:00:00.000Z'],
    ]);
    const expiry = await runCli(['check-expiry', '--at', '2027-12-17', '--format', 'nagios'], { env });
    expect(expiry.code).toBe(2); // 3 days left: under the default critical threshold (7)
    expect(expiry.stdout).toMatch(/acme-prod/);
    const doctor = await runCli(['doctor', '--offline', '--json'], { env });
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(treeDigest(store)).toBe(before);
  });

  it('reads no deploy targets on its records, and takes one with a sealed credential', async () => {
    const none = await runCli(['target', 'list', '--json'], { env });
    expect(none.code, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ schemaVersion: 1, targets: [] });
    const shown = JSON.parse((await runCli(['show', 'acme-prod', '--json'], { env })).stdout);
    expect([shown.targets, shown.deployments]).toEqual([[], []]);
    const credential = join(tempDir(), 'api-key');
    writeFileSync(credential, 'compat-api-key-7f3a\n');
    const add = await runCli(
      [
        'target',
        'add',
        'acme-prod',
        '--kind',
        'nanomdm',
        '--url',
        'https://mdm.acme.example',
        '--credential-file',
        credential,
      ],
      { env },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(readdirSync(join(store, 'secrets'))).toHaveLength(1);
    const doctor = await runCli(['doctor', '--offline', '--json'], { env });
    expect(doctor.code, doctor.stdout).toBe(0);
  });

  it('unlocks with its passphrase: the exported key is the private key of the active certificate', async () => {
    const out = join(tempDir(), 'acme.pem');
    const exported = await runCli(['export', 'acme-prod', '--pem', out], { env });
    expect(exported.code, exported.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(ACTIVE_PEM.trim());
    const certKey = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', out], { encoding: 'utf8' });
    const keyPub = execFileSync('openssl', ['pkey', '-pubout', '-in', out], { encoding: 'utf8' });
    expect(keyPub).toBe(certKey);
    const wrong = await runCli(['export', 'acme-prod', '--pem', `${out}.2`], {
      env: { ...env, APNS_CERT_PASSPHRASE: 'not the passphrase' },
    });
    expect(wrong.code).toBe(77);
  });

  it('takes changes: a new CSR, a renewal of the recorded Apple ID, a retirement', async () => {
    const work = tempDir();
    const csr = await runCli(['csr', '--name', 'delta', '--out', join(work, 'delta.csr.pem')], { env });
    expect(csr.code, csr.stderr).toBe(0);
    const renew = await runCli(
      ['renew', 'acme-prod', '--apple-id', 'push@acme.example', '--csr-out', join(work, 'r.csr.pem')],
      { env },
    );
    expect(renew.code, renew.stderr).toBe(0);
    const otherId = await runCli(
      ['renew', 'acme-prod', '--apple-id', 'someone@else.example', '--csr-out', join(work, 'r2.csr.pem')],
      { env },
    );
    expect(otherId.code).toBe(1); // the Apple ID hash written by 0.1.0 still tells them apart
    const retire = await runCli(['retire', 'beta', '--yes'], { env });
    expect(retire.code, retire.stderr).toBe(0);
    const list = JSON.parse((await runCli(['list', '--json'], { env })).stdout);
    expect(list.certificates.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual([
      'acme-prod:active',
      'beta:retired',
      'delta:pending',
      'gone:retired',
    ]);
  });
});
