import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SUMMARY_SCHEMA_VERSION,
  readSummary,
  summarizeIndex,
  soonestExpiry,
  summaryRecords,
  summaryStamp,
} from '../../src/core/expiry-summary.js';
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

  it("an older version's summary (objects per record; version 2 without owner or note) is not read: the index is", () => {
    const records = summaryRecords(sampleIndex());
    expect(readSummary(JSON.stringify({ schemaVersion: 3, index: STAMP, records }), STAMP)).toBeNull();
    const v2 = records.map(({ owner: _o, note: _n, ...rest }) => rest);
    expect(readSummary(JSON.stringify({ schemaVersion: 2, index: STAMP, records: v2 }), STAMP)).toBeNull();
    expect(summaryStamp(JSON.stringify({ schemaVersion: 3, index: STAMP, records }))).toBeNull();
  });

  it('is the header line with the stamp (read alone for the trust in index.json), then the records, a line each', () => {
    const text = summarizeIndex(sampleIndex(), STAMP);
    const [header, ...lines] = text.split('\n');
    const rows = lines.slice(0, -1).join('\n');
    const rest = lines.at(-1);
    expect(lines.slice(1, -2).map((l) => JSON.parse(l.replace(/,$/, '')).name)).toEqual(
      Object.keys(sampleIndex().records),
    );
    // the soonest expiry of the records check-expiry checks: live's active one (gone's is sooner, but gone is retired)
    expect(JSON.parse(header!)).toEqual({
      schemaVersion: SUMMARY_SCHEMA_VERSION,
      index: STAMP,
      soonest: '2027-12-01T00:00:00.000Z',
    });
    expect(JSON.parse(rows)).toEqual(summaryRecords(sampleIndex()));
    expect(rest).toBe('');
    expect(summaryStamp(header!)).toEqual(STAMP);
    expect(summaryStamp(text.slice(0, header!.length + 20))).toEqual(STAMP);
    expect(summaryStamp(header!.slice(0, -1))).toBeNull(); // a header cut short (a torn read) is no stamp
  });

  it('the soonest expiry is the least notAfter of the active records (property); null with none, or one not as toISOString writes it', () => {
    const rec = (notAfter: string | null, retired = false) => ({
      name: 'x',
      topic: null,
      retired,
      notAfter,
      owner: null,
      note: null,
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4e12 }), fc.boolean(), fc.boolean())), (rows) => {
        const records = rows.map(([ms, retired, none]) => rec(none ? null : new Date(ms).toISOString(), retired));
        const times = records.filter((r) => !r.retired && r.notAfter !== null).map((r) => Date.parse(r.notAfter!));
        const soonest = soonestExpiry(records);
        expect(soonest === null ? null : Date.parse(soonest)).toBe(times.length === 0 ? null : Math.min(...times));
      }),
    );
    expect(soonestExpiry([rec('2027-01-01T00:00:00.000Z'), rec('2026-01-01T00:00:00Z')])).toBeNull();
    expect(soonestExpiry([rec('2027-01-01T00:00:00.000Z'), rec('2026-01-01T00:00:00Z', true)])).toBe(
      '2027-01-01T00:00:00.000Z',
    );
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
    const header = { schemaVersion: SUMMARY_SCHEMA_VERSION, index: STAMP };
    const good = summarizeIndex(sampleIndex(), STAMP).split('\n')[1]!;
    const rec = { name: 'x', topic: null, retired: false, notAfter: null, owner: null, note: null };
    const v4 = (h: unknown, rows: unknown) =>
      `${JSON.stringify(h)}\n${typeof rows === 'string' ? rows : JSON.stringify(rows)}\n`;
    for (const bad of [
      '',
      'not json',
      '[]',
      'null',
      JSON.stringify(header), // no records line
      v4({ ...header, schemaVersion: 1 }, good),
      v4({ ...header, schemaVersion: 3 }, good),
      v4({ ...header, schemaVersion: 5 }, good),
      v4({ ...header, index: { ...STAMP, ctimeNs: undefined } }, good),
      v4({ ...header, index: { ...STAMP, ctimeNs: 1795958133 } }, good),
      v4({ ...header, index: null }, good),
      v4(header, good.slice(0, -1)),
      v4(header, {}),
      v4(header, [{ ...rec, notAfter: 'tomorrow' }]),
      v4(header, [{ ...rec, topic: 1 }]),
      v4(header, [{ ...rec, retired: 'no' }]),
      v4(header, [{ ...rec, owner: 1 }]),
      v4(header, [{ ...rec, note: undefined }]),
      v4(header, [{ ...rec, name: null }]),
      v4(header, [['x', null, 0, null, null, null]]),
    ]) {
      expect(readSummary(bad, STAMP), bad).toBeNull();
    }
    expect(readSummary(v4(header, [rec]), STAMP), 'the well-formed one it varies').toEqual([rec]);
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

  it("the soonest expiry is the header's only while the index is the file it was made from", async () => {
    const { dir, store, write } = storeWith(sampleIndex());
    expect(await store.soonestExpiry()).toBeNull();
    await write();
    expect(await store.soonestExpiry()).toBe('2027-12-01T00:00:00.000Z');
    utimesSync(join(dir, 'index.json'), new Date(), new Date('2020-01-01T00:00:00Z'));
    expect(await store.soonestExpiry()).toBeNull();
  });

  it('no index, no summary; a summary without an index is ignored', async () => {
    const { dir, store } = storeWith(sampleIndex());
    expect(await store.readSummary()).toBeNull();
    writeFileSync(join(dir, SUMMARY_FILE), summarizeIndex(sampleIndex(), STAMP));
    expect(await store.readSummary()).toBeNull();
  });
});

describe("index.json vouched for by expiry.json (the store's own write: records not checked again)", () => {
  /** A store the tool wrote, then its index damaged in place (a record's date no longer a date), size and mtime kept. */
  async function damagedInPlace() {
    const dir = join(tempDir(), 'store');
    mkdirSync(dir, { mode: 0o700 });
    const store = fileStore(dir, { lockWaitMs: 1000 });
    await store.change((tx) => tx.commit({ ...sampleIndex(), storeId: tx.index.storeId }));
    expect(await store.read(), 'written and read back').not.toBeNull();
    const indexPath = join(dir, 'index.json');
    const before = statSync(indexPath, { bigint: true });
    const at = readFileSync(indexPath).indexOf('2027-12-01');
    const fd = openSync(indexPath, 'r+');
    writeSync(fd, 'X', at);
    closeSync(fd);
    const ns = before.mtimeNs % 1_000_000_000n;
    execFileSync('touch', [
      '-m',
      '-d',
      `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`,
      indexPath,
    ]);
    const after = statSync(indexPath, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    const stamp: IndexStamp = {
      ino: String(after.ino),
      size: String(after.size),
      mtimeNs: String(after.mtimeNs),
      ctimeNs: String(after.ctimeNs),
    };
    return { dir, store, indexPath, stamp, bytes: readFileSync(indexPath) };
  }
  const fresh = (dir: string) => fileStore(dir, { lockWaitMs: 1000 }); // nothing remembered from an earlier read
  const damaged = /record "live" certificates\[1\] is malformed/;

  it('an index edited in place after the write (same size, mtime restored) is checked in full: read and a change refuse it', async () => {
    const { dir, indexPath, bytes } = await damagedInPlace();
    await expect(fresh(dir).read()).rejects.toThrow(damaged);
    await expect(fresh(dir).change(async (tx) => tx.commit(tx.index))).rejects.toThrow(damaged);
    expect(readFileSync(indexPath).equals(bytes), 'the refused change wrote nothing').toBe(true);
  });

  it('it is the summary that vouches: with a header of the current stamp the records are not checked; missing, older or of another stamp they are', async () => {
    const { dir, stamp } = await damagedInPlace();
    const summaryPath = join(dir, SUMMARY_FILE);
    // a header for the damaged file's very stamp (only this tool writes one, right after its own write)
    writeFileSync(summaryPath, `${JSON.stringify({ schemaVersion: SUMMARY_SCHEMA_VERSION, index: stamp })}\n[]\n`);
    expect((await fresh(dir).read())?.records.live?.certificates[1]?.notAfter).toMatch(/^X/);
    // doctor checks every record, whatever the summary says
    await expect(fresh(dir).audit()).rejects.toThrow(damaged);
    for (const summary of [
      null, // missing
      JSON.stringify({ schemaVersion: 3, index: stamp, records: [] }), // an older build's
      `${JSON.stringify({ schemaVersion: SUMMARY_SCHEMA_VERSION, index: { ...stamp, ctimeNs: `${stamp.ctimeNs}1` } })}\n[]\n`,
      `${JSON.stringify({ schemaVersion: SUMMARY_SCHEMA_VERSION, index: stamp }).slice(0, -2)}\n[]\n`, // torn
    ]) {
      if (summary === null) rmSync(summaryPath);
      else writeFileSync(summaryPath, summary);
      await expect(fresh(dir).read(), String(summary)).rejects.toThrow(damaged);
    }
  });

  it("a change's commit vouches for what it wrote: the next read trusts it, an untouched store reads the same", async () => {
    const dir = join(tempDir(), 'store');
    mkdirSync(dir, { mode: 0o700 });
    await fresh(dir).change((tx) => tx.commit({ ...sampleIndex(), storeId: tx.index.storeId }));
    const st = statSync(join(dir, 'index.json'), { bigint: true });
    const header = readFileSync(join(dir, SUMMARY_FILE), 'utf8').split('\n')[0]!;
    expect(summaryStamp(header)).toEqual({
      ino: String(st.ino),
      size: String(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
    });
    expect((await fresh(dir).read())?.records).toEqual(sampleIndex().records);
  });
});
