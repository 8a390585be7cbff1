import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePushRequest, verifyPushRequest } from '../../src/core/push-request.js';
import { cleanEnv, hasStackTrace, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import {
  createFakeCa,
  createVendorHierarchy,
  daysFrom,
  mdmTopic,
  newKeyPem,
  signCsrFile,
} from '../helpers/fake-apple.js';

const NOW = new Date();
const work = tempDir();
const files = (name: string) => join(work, name);

beforeAll(() => {
  const h = createVendorHierarchy(NOW);
  writeFileSync(files('vendor.pem'), h.vendor.pem);
  writeFileSync(files('vendor.key'), h.vendor.privatePem);
  writeFileSync(files('chain.pem'), h.wwdr.pem + h.root.pem);
  const second = createVendorHierarchy(NOW, 200);
  writeFileSync(files('second.pem'), second.vendor.pem);
  writeFileSync(files('second.key'), second.vendor.privatePem);
  writeFileSync(files('second-chain.pem'), second.wwdr.pem + second.root.pem);
  writeFileSync(files('other.key'), newKeyPem().privatePem);
});

function newEnv() {
  const store = tempDir();
  return { store, env: cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'v' }) };
}

const importArgs = (cert = 'vendor.pem', key = 'vendor.key', chain: string | null = 'chain.pem') => [
  'vendor',
  'import',
  '--cert',
  files(cert),
  '--key',
  files(key),
  ...(chain === null ? [] : ['--chain', files(chain)]),
];

async function listJson(env: NodeJS.ProcessEnv) {
  const r = await runInProcess(['vendor', 'list', '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    schemaVersion: number;
    vendors: Array<{ sha256: string; subject: string; notAfter: string; daysRemaining: number }>;
  };
}

describe('vendor import | list | remove', () => {
  it('imports (key sealed, cert + chain kept), a second import is a no-op, list shows it', async () => {
    const { store, env } = newEnv();
    let r = await runInProcess(importArgs(), { env });
    expect(r.code, r.stderr).toBe(0);
    const sha256 = r.stdout.trim();
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    const entry = index.vendors[sha256];
    expect(entry).toMatchObject({ sha256, file: `certs/${sha256}.pem` });
    const chainPem = readFileSync(join(store, entry.file), 'utf8');
    expect(chainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
    const sealed = readFileSync(join(store, 'keys', `${entry.keyId}.key`), 'utf8');
    expect(sealed).not.toMatch(/PRIVATE KEY/);
    const before = treeDigest(store);
    r = await runInProcess(importArgs(), { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/already in the store.*nothing changed/);
    expect(treeDigest(store)).toBe(before);

    const doc = await listJson(env);
    expect(Object.keys(doc).sort()).toEqual(['schemaVersion', 'vendors']);
    expect(doc.vendors).toHaveLength(1);
    const v = doc.vendors[0]!;
    expect(Object.keys(v).sort()).toEqual(['daysRemaining', 'notAfter', 'sha256', 'subject']);
    expect(v.sha256).toBe(sha256);
    expect(v.subject).toMatch(/MDM Vendor: Example MDM Inc\./);
    expect(v.notAfter).toBe(new Date(v.notAfter).toISOString());
    expect(v.daysRemaining).toBeGreaterThanOrEqual(363);
    r = await runInProcess(['vendor', 'list'], { env });
    expect(r.stdout).toContain(sha256.slice(0, 16));
    expect(r.stdout).toMatch(/MDM Vendor: Example MDM Inc\./);
  });

  it.each([
    ['a key that does not match', importArgs('vendor.pem', 'other.key'), /does not match the vendor certificate/],
    ['a chain not found (test issuer, no --chain)', importArgs('vendor.pem', 'vendor.key', null), /no valid chain/],
  ])('refuses %s with 65, store unchanged', async (_what, args, message) => {
    const { store, env } = newEnv();
    expect((await runInProcess(importArgs('second.pem', 'second.key', 'second-chain.pem'), { env })).code).toBe(0);
    const before = treeDigest(store);
    const r = await runInProcess(args, { env });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^apns-cert: vendor import: /m);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(treeDigest(store)).toBe(before);
  });

  it('remove: a unique prefix; 64 for an unknown or ambiguous one; refused (1) while used, done with --force', async () => {
    const { store, env } = newEnv();
    expect((await runInProcess(importArgs(), { env })).code).toBe(0);
    expect((await runInProcess(importArgs('second.pem', 'second.key', 'second-chain.pem'), { env })).code).toBe(0);
    const [a, b] = (await listJson(env)).vendors.map((v) => v.sha256);
    // the longest common prefix of the two (maybe empty: then "" is not hex and matches nothing)
    let common = '';
    while (a![common.length] === b![common.length]) common += a![common.length];
    let r = await runInProcess(['vendor', 'remove', `${common}${'0'.repeat(64 - common.length)}`.slice(0, 64)], {
      env,
    });
    if (a !== `${common}${'0'.repeat(64 - common.length)}` && b !== `${common}${'0'.repeat(64 - common.length)}`)
      expect(r.code).toBe(64);
    if (common.length > 0) {
      r = await runInProcess(['vendor', 'remove', common], { env });
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(/2 vendor identities have a SHA-256 starting with/);
    }
    r = await runInProcess(['vendor', 'remove', 'zz'], { env });
    expect(r.code).toBe(64);

    // a record signed by vendor a
    r = await runInProcess(
      [
        'csr',
        '--name',
        'signed',
        '--out',
        files('signed.csr'),
        '--vendor',
        a!.slice(0, 12),
        '--request-out',
        files('signed.req'),
        '--force',
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const before = treeDigest(store);
    r = await runInProcess(['vendor', 'remove', a!.slice(0, 10)], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"signed" is signed by the vendor identity/);
    expect(r.stderr).toMatch(/hint: apns-cert vendor remove .* --force/);
    expect(treeDigest(store)).toBe(before);

    const keyId = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')).vendors[a!].keyId;
    r = await runInProcess(['vendor', 'remove', a!.slice(0, 10), '--force'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/signed is still signed via this vendor/);
    expect(existsSync(join(store, 'certs', `${a}.pem`))).toBe(false);
    expect(existsSync(join(store, 'keys', `${keyId}.key`))).toBe(false);
    expect((await listJson(env)).vendors.map((v) => v.sha256)).toEqual([b]);
    // an unused one goes without --force
    r = await runInProcess(['vendor', 'remove', b!], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await listJson(env)).vendors).toEqual([]);
    expect((await runInProcess(['doctor', '--offline'], { env })).stdout).toMatch(/^ok +store-orphans/m);
  });
});

describe('csr signed by a vendor', () => {
  it('--vendor-cert keeps the vendor and records it; --vendor <prefix> signs a second record; requests verify', async () => {
    const { store, env } = newEnv();
    let r = await runInProcess(
      [
        'csr',
        '--name',
        'first',
        '--out',
        files('first.csr'),
        '--vendor-cert',
        files('vendor.pem'),
        '--vendor-key',
        files('vendor.key'),
        '--chain',
        files('chain.pem'),
        '--request-out',
        files('first.req'),
        '--force',
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Upload the signed request .*first\.req \(not the CSR\)/);
    const [vendor] = (await listJson(env)).vendors;
    expect(vendor).toBeDefined();
    r = await runInProcess(
      [
        'csr',
        '--name',
        'second',
        '--out',
        files('second.csr'),
        '--via',
        'vendor',
        '--vendor',
        vendor!.sha256.slice(0, 8),
        '--request-out',
        files('second.req'),
        '--force',
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['first', 'second']) {
      const request = parsePushRequest(readFileSync(files(`${name}.req`)), `${name}.req`);
      expect(verifyPushRequest(request)).toEqual({
        signatureAlgorithm: 'sha256WithRSAEncryption',
        signatureValid: true,
      });
      const csrDer = Buffer.from(
        readFileSync(files(`${name}.csr`), 'utf8')
          .replace(/-----[^-]+-----/g, '')
          .replace(/\s+/g, ''),
        'base64',
      );
      expect(Buffer.from(request.csr.der).equals(csrDer)).toBe(true);
      expect(request.chain[0]!.fingerprintSha256).toBe(vendor!.sha256);
      expect(request.chain).toHaveLength(3);
      const shown = JSON.parse((await runInProcess(['show', name, '--json'], { env })).stdout);
      expect(shown.signing).toEqual({ via: 'vendor', vendor: vendor!.sha256 });
      expect((await runInProcess(['show', name], { env })).stdout).toMatch(
        new RegExp(`^signing +vendor ${vendor!.sha256.slice(0, 16)} "UID=TESTTEAM01`, 'm'),
      );
    }
    expect((await runInProcess(['csr', '--name', 'plain', '--out', files('plain.csr'), '--force'], { env })).code).toBe(
      0,
    );
    const listed = JSON.parse((await runInProcess(['list', '--json'], { env })).stdout);
    expect(
      Object.fromEntries(listed.certificates.map((c: { name: string; signing: unknown }) => [c.name, c.signing])),
    ).toEqual({
      first: { via: 'vendor', vendor: vendor!.sha256 },
      second: { via: 'vendor', vendor: vendor!.sha256 },
      plain: { via: 'none' },
    });
    expect(Object.keys(JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')).vendors)).toEqual([vendor!.sha256]);
  });

  it('--vendor with an unknown prefix: 64, nothing written', async () => {
    const { store, env } = newEnv();
    expect((await runInProcess(importArgs(), { env })).code).toBe(0);
    const before = treeDigest(store);
    const r = await runInProcess(['csr', '--name', 'x', '--out', files('x.csr'), '--vendor', 'zz'], { env });
    expect(r.code).toBe(64);
    expect(existsSync(files('x.csr'))).toBe(false);
    expect(treeDigest(store)).toBe(before);
  });
});

describe('renew of a record signed via vendor (scripted)', () => {
  it('writes the signed request beside the CSR and says to upload it', async () => {
    const { env } = newEnv();
    const dir = tempDir();
    expect((await runInProcess(importArgs(), { env })).code).toBe(0);
    const [vendor] = (await listJson(env)).vendors;
    let r = await runInProcess(
      [
        'csr',
        '--name',
        'acme',
        '--apple-id',
        'a@acme.example',
        '--out',
        join(dir, 'a.csr'),
        '--vendor',
        vendor!.sha256.slice(0, 8),
      ],
      { env, cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    signCsrFile(createFakeCa(), join(dir, 'a.csr'), join(dir, 'a.pem'), {
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -300),
      notAfter: daysFrom(NOW, 60),
    });
    expect((await runInProcess(['import', join(dir, 'a.pem')], { env })).code).toBe(0);
    r = await runInProcess(['renew', 'acme', '--apple-id', 'a@acme.example', '--json'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const day = NOW.toISOString().slice(0, 10).replace(/-/g, '');
    expect(doc.requestPath).toBe(join(dir, `acme-renew-${day}.request.b64`));
    expect(doc.csrPath).toBe(join(dir, `acme-renew-${day}.csr.pem`));
    const request = parsePushRequest(readFileSync(doc.requestPath), 'renew request');
    expect(verifyPushRequest(request).signatureValid).toBe(true);
    expect(request.csr.der.length).toBeGreaterThan(0);
    r = await runInProcess(['renew', 'acme', '--apple-id', 'a@acme.example', '--force'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Upload the signed request .*acme-renew-\d{8}\.request\.b64 \(not the CSR\)/);
    expect(readdirSync(dir).sort()).toEqual([
      'a.csr',
      'a.pem',
      `acme-renew-${day}.csr.pem`,
      `acme-renew-${day}.request.b64`,
      'acme.request.b64',
    ]);
  });

  it('vendor removed with --force: 65 with a hint to import it, nothing written', async () => {
    const { store, env } = newEnv();
    const dir = tempDir();
    expect((await runInProcess(importArgs(), { env })).code).toBe(0);
    const [vendor] = (await listJson(env)).vendors;
    expect(
      (
        await runInProcess(['csr', '--name', 'acme', '--out', join(dir, 'a.csr'), '--vendor', vendor!.sha256], {
          env,
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    signCsrFile(createFakeCa(), join(dir, 'a.csr'), join(dir, 'a.pem'), {
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -300),
      notAfter: daysFrom(NOW, 60),
    });
    expect((await runInProcess(['import', join(dir, 'a.pem')], { env })).code).toBe(0);
    expect((await runInProcess(['vendor', 'remove', vendor!.sha256, '--force'], { env })).code).toBe(0);
    const before = treeDigest(store);
    const r = await runInProcess(['renew', 'acme', '--apple-id', 'a@acme.example'], { env, cwd: dir });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/no longer in the store/);
    expect(r.stderr).toMatch(/hint: apns-cert vendor import --cert/);
    expect(treeDigest(store)).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['a.csr', 'a.pem', 'acme.request.b64']);
  });
});

describe('the built CLI, end to end', () => {
  it('csr --vendor-cert -> vendor list -> import -> renew writes a request that verifies', async () => {
    const { env } = newEnv();
    const dir = tempDir();
    let r = await runCli(
      [
        'csr',
        '--name',
        'e2e',
        '--apple-id',
        'a@acme.example',
        '--vendor-cert',
        files('vendor.pem'),
        '--vendor-key',
        files('vendor.key'),
        '--chain',
        files('chain.pem'),
      ],
      { env, cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'e2e.request.b64'))).toBe(true);
    r = await runCli(['vendor', 'list', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const [vendor] = JSON.parse(r.stdout).vendors;
    expect(vendor.subject).toMatch(/MDM Vendor/);
    signCsrFile(createFakeCa(), join(dir, 'e2e.csr.pem'), join(dir, 'e2e.pem'), {
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -300),
      notAfter: daysFrom(NOW, 60),
    });
    expect((await runCli(['import', join(dir, 'e2e.pem')], { env })).code).toBe(0);
    r = await runCli(['renew', 'e2e', '--apple-id', 'a@acme.example', '--json'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const request = parsePushRequest(readFileSync(doc.requestPath), 'renew request');
    expect(verifyPushRequest(request).signatureValid).toBe(true);
    expect(request.chain[0]!.fingerprintSha256).toBe(vendor.sha256);
  });
});
