import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csr } from '../../src/commands/csr/run.js';
import { importCommand } from '../../src/commands/import/run.js';
import { renew } from '../../src/commands/renew/run.js';
import { AppError } from '../../src/errors.js';
import { MemoryVault } from '../helpers/memory-vault.js';
import { tempDir, treeDigest } from '../helpers/cli.js';
import { makeDeps } from '../helpers/deps.js';
import { createFakeCa, createVendorHierarchy, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date('2026-11-29T12:00:00Z');

/** A record "acme" signed via a vendor whose certificate runs 365 days from NOW; its push certificate imported. */
async function vendorRecord() {
  const store = tempDir();
  const work = tempDir();
  const vault = new MemoryVault();
  const h = createVendorHierarchy(NOW);
  writeFileSync(join(work, 'vendor.pem'), h.vendor.pem);
  writeFileSync(join(work, 'vendor.key'), h.vendor.privatePem);
  writeFileSync(join(work, 'chain.pem'), h.wwdr.pem + h.root.pem);
  const deps = makeDeps({ storeDir: store, now: NOW, vault, interactive: false });
  await csr.run(
    {
      name: 'acme',
      out: join(work, 'a.csr'),
      email: undefined,
      country: undefined,
      commonName: undefined,
      appleId: 'a@acme.example',
      force: false,
      vendorCert: join(work, 'vendor.pem'),
      vendorKey: join(work, 'vendor.key'),
      chain: join(work, 'chain.pem'),
      requestOut: join(work, 'a.req'),
    },
    deps,
  );
  signCsrFile(createFakeCa(), join(work, 'a.csr'), join(work, 'a.pem'), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 500),
  });
  await importCommand.run(
    {
      file: join(work, 'a.pem'),
      name: 'acme',
      appleId: undefined,
      allowNewTopic: false,
      allowExpired: false,
      passwordFile: undefined,
    },
    deps,
  );
  return { store, work, vault };
}

const renewAt = (f: { store: string; work: string; vault: MemoryVault }, now: Date) => {
  const deps = makeDeps({ storeDir: f.store, now, vault: f.vault, interactive: false });
  const run = renew.run(
    {
      name: 'acme',
      appleId: 'a@acme.example',
      csrOut: join(f.work, 'renew.csr'),
      requestOut: join(f.work, 'renew.req'),
      reuseKey: false,
      yes: false,
      force: false,
    },
    deps,
  );
  return { deps, run };
};

describe('renew of a record signed via vendor, by the vendor certificate dates', () => {
  it('an expired vendor certificate: 65 before anything is written (no key, no CSR, store byte-for-byte)', async () => {
    const f = await vendorRecord();
    const before = treeDigest(f.store);
    const files = readdirSync(f.work).sort();
    const { run } = renewAt(f, daysFrom(NOW, 366));
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).exitCode).toBe(65);
    expect((error as AppError).message).toMatch(/vendor certificate .* is not valid now/);
    expect((error as AppError).hint).toMatch(/^apns-cert vendor import --cert/);
    expect(treeDigest(f.store)).toBe(before);
    expect(readdirSync(f.work).sort()).toEqual(files);
  });

  it('under 30 days left: a warning, and the request is written', async () => {
    const f = await vendorRecord();
    const { deps, run } = renewAt(f, daysFrom(NOW, 350));
    expect(await run).toBe(0);
    expect(deps.stderr()).toMatch(/warning: the vendor certificate .* expires .*\(15 days\)/);
    expect(readdirSync(f.work)).toEqual(expect.arrayContaining(['renew.csr', 'renew.req']));
  });

  it('with more than 30 days left: no warning', async () => {
    const f = await vendorRecord();
    const { deps, run } = renewAt(f, daysFrom(NOW, 100));
    expect(await run).toBe(0);
    expect(deps.stderr()).not.toMatch(/vendor certificate/);
  });
});
