import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSummary, summarizeIndex, summaryRecords } from '../../src/core/expiry-summary.js';
import type { IndexStamp } from '../../src/core/expiry-summary.js';
import { emptyIndex, newRecord } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { SUMMARY_FILE } from '../../src/store/file/layout.js';
import { fileStore } from '../helpers/deps.js';
import { tempDir } from '../helpers/cli.js';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const STAMP: IndexStamp = { ino: '42', size: '1234', mtimeNs: '1795958133447255753', ctimeNs: '1795958133447255753' };

function sampleIndex(): StoreIndex {
  // a valid index (the store parses what it finds under its lock)
  const index = emptyIndex('3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', 'passphrase', NOW);
  const iso = NOW.toISOString();
  const cert = (status: 'active' | 'superseded', notAfter: string) => ({
    serialNumber: '01',
    fingerprintSha256: 'f'.repeat(64),
    notBefore: iso,
    notAfter,
    importedAt: iso,
    keyId: 'a'.repeat(64),
    status,
    file: `certs/${'f'.repeat(64)}.pem`,
  });
  index.records.live = {
    ...newRecord('live', iso),
    topic: 'com.apple.mgmt.External.a',
    owner: 'it-mdm@acme.example',
    note: 'Acme prod',
    certificates: [cert('superseded', '2026-12-01T00:00:00.000Z'), cert('active', '2027-12-01T00:00:00.000Z')],
  };
  index.records.pending = {
    ...newRecord('pending', iso),
    pendingKey: { keyId: 'b'.repeat(64), createdAt: iso, csrPath: null },
  };
  index.records.gone = {
    ...newRecord('gone', iso),
    topic: 'com.apple.mgmt.External.b',
    retiredAt: iso,
    certificates: [cert('active', '2027-01-01T00:00:00.000Z')],
  };
  return index;
}

describe('expiry summary (core)', () => {
  it('holds each record: name, topic, retired, the ACTIVE certificate expiry (not a superseded one), owner, note', () => {
    const none = { owner: null, note: null };
    expect(summaryRecords(sampleIndex())).toEqual([
      {
        name: 'live',
        topic: 'com.apple.mgmt.External.a',
        retired: false,
        notAfter: '2027-12-01T00:00:00.000Z',
        owner: 'it-mdm@acme.example',
        note: 'Acme prod',
      },
      { name: 'pending', topic: null, retired: false, notAfter: null, ...none },
      {
        name: 'gone',
        topic: 'com.apple.mgmt.External.b',
        retired: true,
        notAfter: '2027-01-01T00:00:00.000Z',
        ...none,
      },
    ]);
  });

  it('a version-2 summary (no owner or note, written by an older build) is not read: the index is', () => {
    const v2 = JSON.parse(summarizeIndex(sampleIndex(), STAMP));
    v2.schemaVersion = 2;
    v2.records = v2.records.map(({ owner: _o, note: _n, ...rest }: Record<string, unknown>) => rest);
    expect(readSummary(JSON.stringify(v2), STAMP)).toBeNull();
  });

  it('is read back only for the index file it was made from: any other inode, size, mtime or ctime gives null', () => {
    const text = summarizeIndex(sampleIndex(), STAMP);
    expect(readSummary(text, STAMP)).toEqual(summaryRecords(sampleIndex()));
    expect(readSummary(text, { ...STAMP, ino: '43' })).toBeNull();
    expect(readSummary(text, { ...STAMP, size: '1235' })).toBeNull();
    expect(readSummary(text, { ...STAMP, mtimeNs: '1795958133447255754' })).toBeNull();
    expect(readSummary(text, { ...STAMP, ctimeNs: '1795958133447255754' })).toBeNull();
  });

  it('a damaged or foreign summary is null, never an error or a wrong answer', () => {
    const good = JSON.parse(summarizeIndex(sampleIndex(), STAMP));
    for (const bad of [
      '',
      'not json',
      '[]',
      'null',
      JSON.stringify({ ...good, schemaVersion: 1 }),
      JSON.stringify({ ...good, schemaVersion: 2 }),
      JSON.stringify({ ...good, schemaVersion: 4 }),
      JSON.stringify({ ...good, index: { ...good.index, ctimeNs: undefined } }),
      JSON.stringify({ ...good, records: {} }),
      JSON.stringify({ ...good, records: [{ name: 'x', topic: null, retired: false, notAfter: 'tomorrow' }] }),
      JSON.stringify({ ...good, records: [{ name: 'x', topic: 1, retired: false, notAfter: null }] }),
      JSON.stringify({ ...good, records: [{ name: 'x', topic: null, retired: 'no', notAfter: null }] }),
      JSON.stringify({ ...good, index: null }),
      JSON.stringify({
        ...good,
        records: [{ name: 'x', topic: null, retired: false, notAfter: null, owner: 1, note: null }],
      }),
    ]) {
      expect(readSummary(bad, STAMP), bad).toBeNull();
    }
  });

  it('never throws on arbitrary text or on mutations of a real summary (property)', () => {
    const text = summarizeIndex(sampleIndex(), STAMP);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(fc.nat(text.length - 1), fc.string({ maxLength: 3 }))
            .map(([at, s]) => text.slice(0, at) + s + text.slice(at + 1)),
        ),
        (input) => {
          const r = readSummary(input, STAMP);
          expect(r === null || Array.isArray(r)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('expiry summary (store)', () => {
  function storeWith(index: StoreIndex) {
    const dir = join(tempDir(), 'store');
    mkdirSync(dir, { mode: 0o700 });
    const store = fileStore(dir, { lockWaitMs: 1000 });
    // a change that commits `index` (another store id than the store's own: written as a copy of its index)
    return { dir, store, write: () => store.change((tx) => tx.commit({ ...index, storeId: tx.index.storeId })) };
  }

  it('every index write leaves a summary that matches it', async () => {
    const { store, write } = storeWith(sampleIndex());
    await write();
    expect(await store.readSummary()).toEqual(summaryRecords(sampleIndex()));
  });

  it('an index replaced or changed by anything but writeIndex (another tool, a restore, an edit, even one that restores the size and mtime) makes the summary stale', async () => {
    const { dir, store, write } = storeWith(sampleIndex());
    await write();
    const indexPath = join(dir, 'index.json');
    // the same bytes, put in place by rename (a restore, an older apns-cert): another inode
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, readFileSync(indexPath));
    renameSync(copy, indexPath);
    expect(await store.readSummary()).toBeNull();
    await write();
    expect(await store.readSummary()).not.toBeNull();
    // touched in place: another mtime
    utimesSync(indexPath, new Date(), new Date('2020-01-01T00:00:00Z'));
    expect(await store.readSummary()).toBeNull();
    await write();
    // edited in place keeping the size, then the mtime restored to the nanosecond (touch -d): the ctime tells
    const before = statSync(indexPath, { bigint: true });
    const at = readFileSync(indexPath).indexOf('2027-12-01');
    const fd = openSync(indexPath, 'r+');
    writeSync(fd, '2099', at);
    closeSync(fd);
    const ns = before.mtimeNs % 1_000_000_000n;
    execFileSync('touch', [
      '-m',
      '-d',
      `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`,
      indexPath,
    ]);
    expect(statSync(indexPath, { bigint: true }).size).toBe(before.size);
    expect(statSync(indexPath, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(statSync(indexPath, { bigint: true }).ino).toBe(before.ino);
    expect(await store.readSummary()).toBeNull();
  });

  it('no index, no summary; a summary without an index is ignored', async () => {
    const { dir, store } = storeWith(sampleIndex());
    expect(await store.readSummary()).toBeNull();
    writeFileSync(join(dir, SUMMARY_FILE), summarizeIndex(sampleIndex(), STAMP));
    expect(await store.readSummary()).toBeNull();
  });
});
