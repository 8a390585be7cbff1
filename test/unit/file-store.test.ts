/** The Store interface on a real file store in a temporary directory (in process, an in-memory vault). */
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCertificate } from '../../src/commands/shared/import-certificate.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { generateRsaKeyAsync } from '../../src/core/keys.js';
import { tempDir, treeDigest } from '../helpers/cli.js';
import { fileStore, makeDeps } from '../helpers/deps.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { MemoryVault } from '../helpers/memory-vault.js';
import { AppError } from '../../src/errors.js';
import { newRecord } from '../../src/core/index-model.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const ca = createFakeCa();

/** A push certificate and its private key in one PEM, as an MDM vendor's tool would hand it over. */
function certificateWithKey(): string {
  const key = newKeyPem();
  const cert = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 364),
  });
  return cert + key.privatePem;
}

/** A first import of a certificate with its key, into a store that does not exist yet. */
async function firstImport(storeDir: string, vault: MemoryVault) {
  const deps = makeDeps({ storeDir, now: NOW, vault, interactive: false });
  const pem = certificateWithKey();
  const plan = await importCertificate(
    {
      decoded: decodeCertificateFile(Buffer.from(pem), 'acme.pem'),
      source: 'acme.pem',
      name: 'acme',
      appleId: undefined,
      allowNewTopic: false,
      allowExpired: false,
    },
    deps,
  );
  return { deps, plan };
}

const readIndexFile = (dir: string) => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));

describe('a new store', () => {
  for (const backend of ['keychain', 'passphrase'] as const) {
    it(`made by a first import has one store id, the one its vault keeps the master key under (${backend})`, async () => {
      const dir = join(tempDir(), 'store');
      const vault = new MemoryVault(backend);
      const { deps, plan } = await firstImport(dir, vault);
      const onDisk = readIndexFile(dir);
      expect(vault.saved, 'the master key was made and saved once').toEqual([onDisk.storeId]);
      expect(plan.index.storeId).toBe(onDisk.storeId);
      expect(onDisk.secretBackend, 'the backend of the vault that holds the key').toBe(backend);
      // the key sealed in the store opens with that master key
      const index = await deps.store.readOrFail();
      const key = await fileStore(dir, { vault }).privateKey(index, plan.entry.keyId!);
      expect(key.keyId).toBe(plan.entry.keyId);
      expect(readdirSync(join(dir, 'keys'))).toEqual([`${plan.entry.keyId}.key`]);
    });
  }

  it('is not created when the change throws: neither its directory nor the parent made for it stays', async () => {
    const dir = join(tempDir(), 'parent', 'store');
    const vault = new MemoryVault();
    const store = fileStore(dir, { vault });
    const key = await generateRsaKeyAsync();
    await expect(
      store.change(async (tx) => {
        expect(tx.isNew).toBe(true);
        await tx.putPrivateKey(key);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(existsSync(join(dir, '..'))).toBe(false);
  });

  it('refuses a commit of an index with another store id (INTERNAL): one store, one id', async () => {
    const dir = join(tempDir(), 'store');
    const store = fileStore(dir);
    await expect(
      store.change(async (tx) => tx.commit({ ...tx.index, storeId: crypto.randomUUID() })),
    ).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    expect(existsSync(dir)).toBe(false);
  });
});

describe('a change', () => {
  it('whose callback throws leaves the store byte for byte as it was', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const before = treeDigest(dir);
    const store = fileStore(dir, { vault });
    const key = await generateRsaKeyAsync();
    const other = decodeCertificateFile(Buffer.from(certificateWithKey()), 'other.pem').certificates[0]!;
    await expect(
      store.change(async (tx) => {
        expect(tx.isNew).toBe(false);
        await tx.putPrivateKey(key);
        const entry = { ...tx.index.records.acme!.certificates[0]!, file: tx.certificateFile(other.fingerprintSha256) };
        await tx.putCertificate(entry, other.pem);
        await tx.privateKey(key.keyId); // the seal is done: the key is in its file
        expect(readdirSync(join(dir, 'keys'))).toHaveLength(2); // written, not yet committed
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(treeDigest(dir)).toBe(before);
  });

  it('opens the master key once per process, before the lock when asked (unlockEarly)', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const store = fileStore(dir, { vault });
    let loads = 0;
    const load = vault.load.bind(vault);
    vault.load = async (id) => (loads++, load(id));
    const index = await store.readOrFail();
    store.unlockEarly();
    await store.change(async (tx) => {
      expect(tx.index).toEqual(index);
      await tx.masterKey();
      await tx.masterKey();
    });
    await store.privateKey(index, index.records.acme!.certificates[0]!.keyId!);
    expect(loads, 'the vault is asked once per process').toBe(1);
  });
});

describe('an early unlock and a change', () => {
  it('a change that fails while a key is still being sealed leaves no key file behind', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const before = treeDigest(dir, ['index.json', 'expiry.json']); // which the second change rewrites
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const load = vault.load.bind(vault);
    vault.load = async (id) => (await opened, load(id));
    const store = fileStore(dir, { vault });
    const key = await generateRsaKeyAsync();
    const change = store.change(async (tx) => {
      await tx.putPrivateKey(key); // waits for the master key in the background
      setTimeout(open, 50); // the master key opens after the change has failed
      throw new Error('refused');
    });
    await expect(change).rejects.toThrow('refused');
    // the process's next change, which commits: a seal of the failed one must not land in it
    await store.change(async (tx) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await tx.commit(tx.index);
    });
    expect(existsSync(join(dir, 'keys', `${key.keyId}.key`))).toBe(false);
    expect(treeDigest(dir, ['index.json', 'expiry.json'])).toBe(before);
  });

  it('a seal that fails (a wrong passphrase, say) fails the commit, and the index stays as it was', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const before = treeDigest(dir);
    vault.load = async () => {
      throw new AppError('WRONG_PASSPHRASE', 'unlock the store: wrong passphrase');
    };
    const store = fileStore(dir, { vault });
    const key = await generateRsaKeyAsync();
    await expect(
      store.change(async (tx) => {
        await tx.putPrivateKey(key);
        tx.index.records['b'] = newRecord('b', NOW.toISOString());
        await tx.commit(tx.index);
      }),
    ).rejects.toThrow('wrong passphrase');
    expect(treeDigest(dir)).toBe(before);
  });

  it('seals what was put, though the caller wipes its buffer as soon as the put returns (as target add does)', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const store = fileStore(dir, { vault });
    const id = 'c'.repeat(64);
    const credential = Buffer.from('a server credential');
    const key = await generateRsaKeyAsync();
    const pkcs8 = Buffer.from(key.pkcs8);
    const index = await store.change(async (tx) => {
      await tx.putSecret(id, credential, 'target-credential');
      credential.fill(0);
      await tx.putPrivateKey(key);
      key.pkcs8.fill(0);
      await tx.commit(tx.index);
      return tx.index;
    });
    expect((await store.secret(index, id, 'target-credential')).toString()).toBe('a server credential');
    expect((await store.privateKey(index, key.keyId)).pkcs8.equals(pkcs8)).toBe(true);
  });

  it('a key put in a change can be read back in it, and is in its file once committed', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const store = fileStore(dir, { vault });
    const key = await generateRsaKeyAsync();
    await store.change(async (tx) => {
      await tx.putPrivateKey(key);
      expect((await tx.privateKey(key.keyId)).keyId).toBe(key.keyId);
      await tx.commit(tx.index);
      expect(existsSync(join(dir, 'keys', `${key.keyId}.key`))).toBe(true);
    });
  });
});

describe('import opens the master key before the lock only when it will seal the key in the file', () => {
  it("a new key: the vault is asked once, before the lock is taken; the store's own key again: never", async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    const loads: { lockHeld: boolean }[] = [];
    const load = vault.load.bind(vault);
    vault.load = async (id) => (loads.push({ lockHeld: existsSync(join(dir, 'store.lock')) }), load(id));
    const importPem = async (pem: string, name: string) => {
      const deps = makeDeps({ storeDir: dir, now: NOW, vault, interactive: false });
      const decoded = decodeCertificateFile(Buffer.from(pem), `${name}.pem`);
      const request = { decoded, source: `${name}.pem`, name, appleId: undefined, allowNewTopic: false };
      return importCertificate({ ...request, allowExpired: false }, deps);
    };
    const key = newKeyPem();
    const issue = (days: number) =>
      issuePushCert(ca, {
        publicKeyPem: key.publicPem,
        topic,
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, days),
      });
    const topic = mdmTopic();
    expect((await importPem(issue(300) + key.privatePem, 'beta')).keySource).toBe('file');
    expect(loads, 'asked once, while the lock was not yet taken').toEqual([{ lockHeld: false }]);
    // a renewal with the same key, the file holding it again: the store has it, nothing is sealed, nothing asked
    expect((await importPem(issue(364) + key.privatePem, 'beta')).keySource).toBe('stored');
    expect(loads).toHaveLength(1);
  });
});

describe('a change whose index.json another writer changed meanwhile (not honouring the lock) fails with 75, writing nothing', () => {
  /** A store last written a while ago (its stamp alone then decides), and a change that meets `meddle` before its commit. */
  async function meddled(meddle: (indexPath: string) => void) {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    await new Promise((resolve) => setTimeout(resolve, 300)); // index.json last changed well before the change reads it
    const indexPath = join(dir, 'index.json');
    const store = fileStore(dir, { vault });
    let theirs = Buffer.alloc(0);
    const change = store.change(async (tx) => {
      meddle(indexPath);
      theirs = readFileSync(indexPath);
      await tx.putCertificate(tx.index.records.acme!.certificates[0]!, 'not written');
      await tx.commit({ ...tx.index, records: {} });
    });
    await expect(change).rejects.toMatchObject({ code: 'STORE_BUSY' });
    await expect(change).rejects.toThrow(/another process changed the index meanwhile; nothing was written/);
    expect(readFileSync(indexPath).equals(theirs), "the other writer's index stays").toBe(true);
  }

  it('edited in place, its size kept and its mtime restored (only the ctime tells)', async () => {
    await meddled((indexPath) => {
      const before = statSync(indexPath);
      const at = readFileSync(indexPath).indexOf('"acme"') + 1;
      const fd = openSync(indexPath, 'r+');
      writeSync(fd, 'b', at);
      closeSync(fd);
      utimesSync(indexPath, before.atime, before.mtime);
    });
  });

  it('replaced by a copy of the same bytes (a restore): another file', async () => {
    await meddled((indexPath) => {
      writeFileSync(`${indexPath}.copy`, readFileSync(indexPath));
      renameSync(`${indexPath}.copy`, indexPath);
    });
  });
});

describe('audit', () => {
  it('reports an orphan key, a missing certificate, a leftover temporary file and a file that others may read', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    const { plan } = await firstImport(dir, vault);
    const store = fileStore(dir, { vault });
    expect(await store.audit()).toMatchObject({
      unsafe: null,
      missing: [],
      orphanKeys: [],
      orphanCertificates: [],
      temporary: [],
      badModes: [],
    });

    const orphan = 'c'.repeat(64);
    writeFileSync(join(dir, 'keys', `${orphan}.key`), '{}\n', { mode: 0o600 });
    rmSync(join(dir, plan.entry.file));
    writeFileSync(join(dir, 'index.json.4242.k3x9a1bq.tmp'), 'half', { mode: 0o600 });
    chmodSync(join(dir, 'expiry.json'), 0o644);

    const audit = await store.audit();
    expect(audit.location).toBe(dir);
    expect(audit.index?.records.acme).toBeDefined();
    expect(audit.missing).toEqual([{ record: 'acme', kind: 'certificate', ref: plan.entry.file, problem: 'missing' }]);
    expect(audit.orphanKeys).toEqual([`${orphan}.key`]);
    expect(audit.orphanPlaces).toEqual([join(dir, 'keys')]);
    expect(audit.temporary).toEqual([join(dir, 'index.json.4242.k3x9a1bq.tmp')]);
    expect(audit.badModes).toEqual([{ what: 'expiry.json', mode: 0o644, wanted: 0o600 }]);
  });

  it('looks no further in a store that is not safe to use', async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    await firstImport(dir, vault);
    chmodSync(dir, 0o777);
    const audit = await fileStore(dir, { vault }).audit();
    chmodSync(dir, 0o700);
    expect(audit.unsafe?.message).toMatch(/writable by group and others/);
    expect(audit.index).toBeNull();
  });
});
