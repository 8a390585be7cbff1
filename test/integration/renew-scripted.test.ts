import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
const ca = createFakeCa();
const topic = mdmTopic();
let store: string;
let work: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'scripted' });
  expect(
    (
      await runInProcess(['csr', '--name', 'acme', '--apple-id', 'mdm@acme.example', '--out', join(work, 'a.csr')], {
        env,
      })
    ).code,
  ).toBe(0);
  signCsrFile(ca, join(work, 'a.csr'), join(work, 'a.pem'), {
    topic,
    notBefore: daysFrom(NOW, -300),
    notAfter: daysFrom(NOW, 60),
  });
  expect((await runInProcess(['import', join(work, 'a.pem')], { env })).code).toBe(0);
});

describe('renew without a terminal', () => {
  it('never prompts: exit 64 naming the flag to pass', async () => {
    let r = await runInProcess(['renew'], { env, cwd: work });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/pass <name>/);
    r = await runInProcess(['renew', 'acme'], { env, cwd: work });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/pass --apple-id <id>/);
    r = await runInProcess(['renew', '--json', 'acme'], { env, cwd: work });
    expect(r.code).toBe(64);
  });

  it('renew + import: the scripted renewal end to end', async () => {
    let r = await runCli(
      ['renew', 'acme', '--apple-id', 'mdm@acme.example', '--csr-out', join(work, 'r.csr'), '--json'],
      { env, cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      schemaVersion: 1,
      name: 'acme',
      topic,
      csrPath: join(work, 'r.csr'),
      appleIdMatches: true,
    });
    signCsrFile(ca, join(work, 'r.csr'), join(work, 'r.pem'), {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 425),
    });
    r = await runCli(['import', join(work, 'r.pem'), '--name', 'acme'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Renewed acme');
  });

  it('writes <name>-renew-<yyyymmdd>.csr.pem by default and prints the portal steps', async () => {
    const r = await runInProcess(['renew', 'acme', '--apple-id', 'mdm@acme.example'], { env, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(work).some((f) => /^acme-renew-\d{8}\.csr\.pem$/.test(f))).toBe(true);
    expect(r.stderr).toContain(`Find the row whose topic is ${topic}`);
    expect(r.stderr).toContain('Then: apns-cert import <the downloaded .pem> --name acme');
  });

  it('an Apple ID mismatch is exit 1 (nothing written) unless --yes', async () => {
    const before = treeDigest(store);
    let r = await runInProcess(
      ['renew', 'acme', '--apple-id', 'someone@else.example', '--csr-out', join(work, 'x.csr')],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not the one recorded/);
    expect(treeDigest(store)).toBe(before);
    expect(existsSync(join(work, 'x.csr'))).toBe(false);
    r = await runInProcess(
      ['renew', 'acme', '--apple-id', 'someone@else.example', '--csr-out', join(work, 'x.csr'), '--yes', '--json'],
      { env },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).appleIdMatches).toBe(false);
  });

  it('refuses a record that has nothing to renew', async () => {
    await runInProcess(['csr', '--name', 'fresh', '--out', join(work, 'f.csr')], { env });
    const r = await runInProcess(['renew', 'fresh', '--apple-id', 'a@b.example'], { env, cwd: work });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no certificate yet/);
  });
});

describe('retire', () => {
  it('needs --yes without a terminal', async () => {
    const r = await runInProcess(['retire', 'acme'], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/pass --yes/);
  });

  it('deletes the keys, keeps the history, leaves check-expiry and renew, reminds to revoke', async () => {
    const r = await runInProcess(['retire', 'acme', '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/revoke its certificate in Apple's portal/);
    expect(readdirSync(join(store, 'keys'))).toEqual([]);
    const list = JSON.parse((await runInProcess(['list', '--json'], { env })).stdout);
    expect(list.certificates[0]).toMatchObject({ name: 'acme', status: 'retired', topic });
    expect((await runInProcess(['check-expiry'], { env })).code).toBe(3); // nothing left to check
    expect(
      (await runInProcess(['renew', 'acme', '--apple-id', 'mdm@acme.example'], { env, cwd: work })).stderr,
    ).toMatch(/retired/);
    expect((await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'again.csr')], { env })).code).toBe(64);
  });

  it('--purge removes the record and its certificate files', async () => {
    const r = await runCli(['retire', 'acme', '--yes', '--purge', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'acme', purged: true, filesRemoved: 2 });
    expect(JSON.parse((await runCli(['list', '--json'], { env })).stdout).certificates).toEqual([]);
    expect(readdirSync(join(store, 'certs'))).toEqual([]);
  });
});
