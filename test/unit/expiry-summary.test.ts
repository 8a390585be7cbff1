import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSummary, summarizeIndex, summaryRecords } from '../../src/core/expiry-summary.js';
import { emptyIndex, newRecord } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { FileStore, SUMMARY_FILE } from '../../src/store/file-store.js';
import { tempDir } from '../helpers/cli.js';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const INDEX_BYTES = Buffer.from('{"schemaVersion":1,"records":{}}\n');

function sampleIndex(): StoreIndex {
  const index = emptyIndex('store-1', 'passphrase', NOW);
  const iso = NOW.toISOString();
  const cert = (status: 'active' | 'superseded', notAfter: string) => ({ serialNumber: '01', fingerprintSha256: 'f', notBefore: iso, notAfter, importedAt: iso, keyId: 'k', status, file: 'certs/x.pem' });
  index.records.live = { ...newRecord('live', iso), topic: 'com.apple.mgmt.External.a', certificates: [cert('superseded', '2026-12-01T00:00:00.000Z'), cert('active', '2027-12-01T00:00:00.000Z')] };
  index.records.pending = { ...newRecord('pending', iso), pendingKey: { keyId: 'k2', createdAt: iso, csrPath: null } };
  index.records.gone = { ...newRecord('gone', iso), topic: 'com.apple.mgmt.External.b', retiredAt: iso, certificates: [cert('active', '2027-01-01T00:00:00.000Z')] };
  return index;
}

describe('expiry summary (core)', () => {
  it('holds each record: name, topic, retired, and the ACTIVE certificate expiry (not a superseded one)', () => {
    expect(summaryRecords(sampleIndex())).toEqual([
      { name: 'live', topic: 'com.apple.mgmt.External.a', retired: false, notAfter: '2027-12-01T00:00:00.000Z' },
      { name: 'pending', topic: null, retired: false, notAfter: null },
      { name: 'gone', topic: 'com.apple.mgmt.External.b', retired: true, notAfter: '2027-01-01T00:00:00.000Z' },
    ]);
  });

  it('is read back only for the index bytes it was made from: any other byte gives null', () => {
    const text = summarizeIndex(sampleIndex(), INDEX_BYTES);
    expect(readSummary(text, INDEX_BYTES)).toEqual(summaryRecords(sampleIndex()));
    for (let at = 0; at < INDEX_BYTES.length; at++) {
      const changed = Buffer.from(INDEX_BYTES);
      changed[at] = changed[at]! ^ 1;
      expect(readSummary(text, changed)).toBeNull();
    }
    expect(readSummary(text, INDEX_BYTES.subarray(1))).toBeNull();
  });

  it('a damaged or foreign summary is null, never an error or a wrong answer', () => {
    const good = JSON.parse(summarizeIndex(sampleIndex(), INDEX_BYTES));
    for (const bad of [
      '',
      'not json',
      '[]',
      'null',
      JSON.stringify({ ...good, schemaVersion: 1 }),
      JSON.stringify({ ...good, schemaVersion: 3 }),
      JSON.stringify({ ...good, records: {} }),
      JSON.stringify({ ...good, records: [{ name: 'x', topic: null, retired: false, notAfter: 'tomorrow' }] }),
      JSON.stringify({ ...good, records: [{ name: 'x', topic: 1, retired: false, notAfter: null }] }),
      JSON.stringify({ ...good, records: [{ name: 'x', topic: null, retired: 'no', notAfter: null }] }),
      JSON.stringify({ ...good, indexSha256: null }),
      JSON.stringify({ ...good, indexSha256: undefined, index: { ino: '1', size: '2', mtimeNs: '3' } }),
    ]) {
      expect(readSummary(bad, INDEX_BYTES), bad).toBeNull();
    }
  });

  it('never throws on arbitrary text or on mutations of a real summary (property)', () => {
    const text = summarizeIndex(sampleIndex(), INDEX_BYTES);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.nat(text.length - 1), fc.string({ maxLength: 3 })).map(([at, s]) => text.slice(0, at) + s + text.slice(at + 1))), (input) => {
        const r = readSummary(input, INDEX_BYTES);
        expect(r === null || Array.isArray(r)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('expiry summary (store)', () => {
  function storeWith(index: StoreIndex) {
    const dir = join(tempDir(), 'store');
    mkdirSync(dir, { mode: 0o700 });
    const store = new FileStore(dir, { lockWaitMs: 1000 });
    return { dir, store, write: () => store.withLock(() => store.writeIndex(index)) };
  }

  it('every index write leaves a summary that matches it', async () => {
    const { store, write } = storeWith(sampleIndex());
    await write();
    expect(store.readSummary()).toEqual(summaryRecords(sampleIndex()));
  });

  it('an index whose bytes changed in any way (another tool, a restore, an edit) makes the summary stale; the same bytes do not', async () => {
    const { dir, store, write } = storeWith(sampleIndex());
    await write();
    const indexPath = join(dir, 'index.json');
    const bytes = readFileSync(indexPath);
    // the same bytes, put in place by rename (a restore of the very same file): still the same answer
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, bytes);
    renameSync(copy, indexPath);
    expect(store.readSummary()).toEqual(summaryRecords(sampleIndex()));
    // touched: the same bytes, still the same answer
    utimesSync(indexPath, new Date(), new Date('2020-01-01T00:00:00Z'));
    expect(store.readSummary()).toEqual(summaryRecords(sampleIndex()));
    // edited in place, keeping the size, then the mtime restored (touch -d): stale
    const before = statSync(indexPath, { bigint: true });
    const at = bytes.indexOf('2027-12-01');
    const fd = openSync(indexPath, 'r+');
    writeSync(fd, '2099', at);
    closeSync(fd);
    const ns = before.mtimeNs % 1_000_000_000n;
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, indexPath]);
    expect(statSync(indexPath, { bigint: true }).size).toBe(before.size);
    expect(statSync(indexPath, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(store.readSummary()).toBeNull();
  });

  it('no index, no summary; a summary without an index is ignored', async () => {
    const { dir, store } = storeWith(sampleIndex());
    expect(store.readSummary()).toBeNull();
    writeFileSync(join(dir, SUMMARY_FILE), summarizeIndex(sampleIndex(), INDEX_BYTES));
    expect(store.readSummary()).toBeNull();
  });
});
