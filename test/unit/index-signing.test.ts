/** Issue 11's additions to the index: how a record is signed, vendor identities, the mdmcert.download request. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newRecord, parseIndex, serializeIndex } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { generateRsaKeyAsync } from '../../src/core/keys.js';
import { damageOf, indexText, INDEX_NOW, v010Index } from '../helpers/index-text.js';
import { tempDir } from '../helpers/cli.js';
import { fileStore } from '../helpers/deps.js';
import { MemoryVault } from '../helpers/memory-vault.js';

const NOW = INDEX_NOW;
const HEX = (c: string) => c.repeat(64);

const indexWith = indexText;
const damage = damageOf;

describe('signing, vendors and mdmcert requests in the index', () => {
  it('an index written by 0.1.0 reads with signing none on every record and no vendors', () => {
    const index = v010Index();
    expect(Object.values(index.records).map((r) => r.signing)).toEqual([
      { via: 'none' },
      { via: 'none' },
      { via: 'none' },
    ]);
    expect(index.vendors).toEqual({});
  });

  it('keeps each kind of signing, a vendor entry and a pending mdmcert request through a round trip', () => {
    const text = indexWith((index) => {
      const records = index.records as Record<string, Record<string, unknown>>;
      records.acme!.signing = { via: 'vendor', vendor: HEX('a') };
      records.beta = { ...newRecord('beta', NOW.toISOString()), signing: { via: 'mdmcert', email: 'a@b.example' } };
      records.beta.pendingKey = {
        keyId: HEX('1'),
        createdAt: NOW.toISOString(),
        csrPath: null,
        mdmcert: {
          exchangeKeyId: HEX('2'),
          exchangeCertificate: 'MIIB',
          email: 'a@b.example',
          sentAt: NOW.toISOString(),
        },
      };
      index.vendors = {
        [HEX('a')]: {
          sha256: HEX('a'),
          subject: 'CN=MDM Vendor: Test',
          notBefore: NOW.toISOString(),
          notAfter: NOW.toISOString(),
          keyId: HEX('3'),
          file: `certs/${HEX('a')}.pem`,
          importedAt: NOW.toISOString(),
        },
      };
    });
    const index: StoreIndex = parseIndex(text, 'index.json');
    expect(parseIndex(serializeIndex(index), 'index.json')).toEqual(index);
    expect(index.records.beta!.signing).toEqual({ via: 'mdmcert', email: 'a@b.example' });
    expect(index.records.beta!.pendingKey!.mdmcert!.exchangeKeyId).toBe(HEX('2'));
    expect(index.vendors[HEX('a')]!.keyId).toBe(HEX('3'));
  });

  it('refuses (damaged index) what the tool never writes', () => {
    const rec = (patch: Record<string, unknown>) =>
      indexWith((index) => Object.assign((index.records as Record<string, object>).acme!, patch));
    expect(damage(rec({ signing: { via: 'fax' } }))).toMatch(/signing.via/);
    expect(damage(rec({ signing: { via: 'vendor', vendor: '../../x' } }))).toMatch(/signing.vendor/);
    expect(damage(rec({ signing: { via: 'mdmcert' } }))).toMatch(/signing.email/);
    const pending = (mdmcert: unknown) =>
      rec({ pendingKey: { keyId: HEX('1'), createdAt: NOW.toISOString(), csrPath: null, mdmcert } });
    expect(
      damage(pending({ exchangeKeyId: '../../k', exchangeCertificate: 'MIIB', email: 'e', sentAt: NOW.toISOString() })),
    ).toMatch(/exchangeKeyId/);
    expect(
      damage(
        pending({ exchangeKeyId: HEX('2'), exchangeCertificate: 'not base64!', email: 'e', sentAt: NOW.toISOString() }),
      ),
    ).toMatch(/mdmcert is malformed/);
    const vendor = (sha: string, patch: Record<string, unknown>) =>
      indexWith((index) => {
        index.vendors = {
          [sha]: {
            sha256: sha,
            subject: 'CN=V',
            notBefore: NOW.toISOString(),
            notAfter: NOW.toISOString(),
            keyId: HEX('3'),
            file: `certs/${sha}.pem`,
            importedAt: NOW.toISOString(),
            ...patch,
          },
        };
      });
    expect(damage(vendor(HEX('a'), { file: '../../etc/passwd' }))).toMatch(/certs\/<sha256>.pem/);
    expect(damage(vendor(HEX('a'), { keyId: 'x' }))).toMatch(/keyId/);
    expect(damage(vendor('../x', { sha256: '../x' }))).toMatch(/SHA-256/);
    expect(damage(indexWith((index) => (index.vendors = [])))).toMatch(/vendors is not an object/);
  });

  it("doctor's audit counts a vendor's key and certificate and a pending exchange key as belonging to the store", async () => {
    const dir = join(tempDir(), 'store');
    const vault = new MemoryVault();
    const store = fileStore(dir, { vault, now: () => NOW });
    const [vendorKey, exchangeKey, pushKey] = await Promise.all([
      generateRsaKeyAsync(),
      generateRsaKeyAsync(),
      generateRsaKeyAsync(),
    ]);
    const vendorSha = HEX('b');
    await store.change(async (tx) => {
      const index = structuredClone(tx.index);
      await tx.putPrivateKey(vendorKey);
      await tx.putPrivateKey(exchangeKey);
      await tx.putPrivateKey(pushKey);
      const record = newRecord('acme', NOW.toISOString());
      record.signing = { via: 'mdmcert', email: 'a@b.example' };
      record.pendingKey = {
        keyId: pushKey.keyId,
        createdAt: NOW.toISOString(),
        csrPath: null,
        mdmcert: {
          exchangeKeyId: exchangeKey.keyId,
          exchangeCertificate: 'MIIB',
          email: 'a@b.example',
          sentAt: NOW.toISOString(),
        },
      };
      index.records.acme = record;
      index.vendors[vendorSha] = {
        sha256: vendorSha,
        subject: 'CN=MDM Vendor: Test',
        notBefore: NOW.toISOString(),
        notAfter: NOW.toISOString(),
        keyId: vendorKey.keyId,
        file: `certs/${vendorSha}.pem`,
        importedAt: NOW.toISOString(),
      };
      await tx.commit(index);
    });
    mkdirSync(join(dir, 'certs'), { mode: 0o700 });
    writeFileSync(join(dir, 'certs', `${vendorSha}.pem`), 'vendor chain\n', { mode: 0o600 });
    const audit = await store.audit();
    expect(audit.orphanKeys).toEqual([]);
    expect(audit.orphanCertificates).toEqual([]);
    expect(audit.missing).toEqual([]);
  });
});
