import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareSummary, summarizeIndex, summaryLines } from '../../src/core/expiry-summary.js';
import { emptyIndex, newRecord, parseOwnIndexForChange, serializeIndex } from '../../src/core/index-model.js';
import type { CertificateEntry, PushRecord, StoreIndex } from '../../src/core/index-model.js';
import { copyRecords, recordsMentioning } from '../../src/core/lazy-records.js';

// The records of an index read for a change, parsed as they are read (src/core/lazy-records.ts), against the same
// index parsed whole: after any reads, changes in place, sets, deletes and copies, what is written (index and
// summary) and what the scans find must be the same.

const STORE_ID = '2b7e1c4a-9d3f-4a6b-8c2e-1f0a9b8c7d6e';
const NOW = new Date('2026-12-02T12:00:00Z');
// names a plain object lists first in numeric order ('5', '2024'), and ones it does not ('007', 2^32 - 1)
const NAMES = ['acme', 'b', '5', 'c-1', '2024', 'd.e', '007', 'f_g', '4294967295', 'h2'];
const HEX = ['0', '1', 'a', 'f'].map((c) => c.repeat(64));
const DATES = [
  '2027-01-01T00:00:00.000Z',
  '2026-12-24T08:30:00.000Z',
  '2028-06-30T23:59:59.999Z',
  '2027-03-01T00:00:00Z',
];
// topics that a text search could trip over: quotes, escapes, a key's text, a line break, a name's text
const TOPICS = [
  'com.apple.mgmt.External.1',
  'com.apple.mgmt.External."retired":true',
  'x\\"notAfter":"2020-01-01T00:00:00.000Z"',
  'line\nbreak',
  `"${HEX[0]}"`,
  'ünï\u2028cødé',
  '{"name":"acme"}',
];

const entry = fc.record({
  fp: fc.constantFrom(...HEX),
  keyId: fc.constantFrom(...HEX),
  notAfter: fc.constantFrom(...DATES),
  active: fc.boolean(),
});

const record = (name: string) =>
  fc
    .record({
      topic: fc.option(fc.constantFrom(...TOPICS)),
      pending: fc.option(fc.constantFrom(...HEX)),
      mdmcert: fc.option(fc.constantFrom(...HEX)),
      retired: fc.boolean(),
      owner: fc.option(fc.constantFrom(...TOPICS)),
      certificates: fc.array(entry, { maxLength: 3 }),
    })
    .map((r): PushRecord => {
      const rec = newRecord(name, NOW.toISOString());
      rec.topic = r.topic;
      rec.owner = r.owner;
      rec.retiredAt = r.retired ? NOW.toISOString() : null;
      let active = false;
      rec.certificates = r.certificates.map((c, i): CertificateEntry => ({
        serialNumber: `0${i}`,
        fingerprintSha256: c.fp,
        notBefore: '2026-01-01T00:00:00.000Z',
        notAfter: c.notAfter,
        importedAt: NOW.toISOString(),
        keyId: c.keyId,
        status: c.active && !active && (active = true) ? 'active' : 'superseded',
        file: `certs/${c.fp}.pem`,
      }));
      if (r.pending !== null)
        rec.pendingKey = {
          keyId: r.pending,
          createdAt: NOW.toISOString(),
          csrPath: null,
          ...(r.mdmcert === null
            ? {}
            : {
                mdmcert: {
                  exchangeKeyId: r.mdmcert,
                  exchangeCertificate: 'AA==',
                  email: 'a@b.c',
                  sentAt: NOW.toISOString(),
                },
              }),
        };
      return rec;
    });

const indexOnly = fc.subarray(NAMES, { minLength: 1 }).chain((names) =>
  fc.tuple(...names.map(record)).map((records) => {
    const ix = emptyIndex(STORE_ID, 'keychain', NOW);
    for (const r of records) ix.records[r.name] = r;
    return ix;
  }),
);
// and a vendor identity, whose key id and SHA-256 are text of the index too (after the records)
const index = fc
  .tuple(indexOnly, fc.option(fc.tuple(fc.constantFrom(...HEX), fc.constantFrom(...HEX))))
  .map(([ix, v]) => {
    if (v !== null) {
      const [sha256, keyId] = v;
      ix.vendors[sha256] = {
        sha256,
        subject: 'CN=Vendor',
        notBefore: '2026-01-01T00:00:00.000Z',
        notAfter: '2027-01-01T00:00:00.000Z',
        keyId,
        file: `certs/${sha256}.pem`,
        importedAt: NOW.toISOString(),
      };
    }
    return ix;
  });

type Op =
  | { op: 'read' | 'delete'; name: string }
  | { op: 'mutate'; name: string; topic: string | null; retire: boolean }
  | { op: 'set'; record: PushRecord }
  | { op: 'copy' };

const name = fc.constantFrom(...NAMES);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('read' as const, 'delete' as const), name }),
  fc.record({
    op: fc.constant('mutate' as const),
    name,
    topic: fc.option(fc.constantFrom(...TOPICS)),
    retire: fc.boolean(),
  }),
  name.chain(record).map((r) => ({ op: 'set' as const, record: r })),
  fc.constant({ op: 'copy' as const }),
);

/** Applies `ops` to `ix`, returning the index the last copy (if any) made of it. */
function apply(ix: StoreIndex, ops: readonly Op[]): StoreIndex {
  let current = ix;
  for (const o of ops) {
    const { records } = current;
    if (o.op === 'copy') current = { ...current, records: copyRecords(records) };
    else if (o.op === 'set') records[o.record.name] = structuredClone(o.record);
    else if (o.op === 'mutate') {
      const r = records[o.name];
      if (r === undefined) continue;
      r.topic = o.topic;
      r.retiredAt = o.retire ? NOW.toISOString() : null;
    } else if (o.op === 'delete') delete records[o.name];
    else void records[o.name];
  }
  return current;
}

const NEEDLES = [...HEX, ...TOPICS.map((t) => JSON.stringify(t)), '"exchangeKeyId":'];

describe('records read a record at a time (lazy-records.ts), against the index parsed whole', () => {
  it('serializeIndex writes each record on its own line, and parseOwnIndexForChange reads it back (property)', () => {
    fc.assert(
      fc.property(index, (ix) => {
        const text = serializeIndex(ix);
        expect(JSON.parse(text)).toEqual(ix); // still one JSON document: older versions and jq read it
        expect(text.split('\n')).toHaveLength(Object.keys(ix.records).length + 3);
        const lazy = parseOwnIndexForChange(text, '/s/index.json')!;
        expect(Object.keys(lazy.records)).toEqual(Object.keys(ix.records));
        expect(serializeIndex(lazy)).toBe(text);
        expect(lazy.records).toEqual(ix.records);
      }),
      { numRuns: 200 },
    );
  });

  it('after any reads, changes, sets, deletes and copies: the same index and summary written, the same records found (property)', () => {
    fc.assert(
      fc.property(index, fc.array(op, { maxLength: 12 }), (ix, ops) => {
        const text = serializeIndex(ix);
        const stamp = { ino: '1', size: '2', mtimeNs: '3', ctimeNs: '4' };
        const summary = summarizeIndex(JSON.parse(text), stamp);
        const previous = summaryLines(summary, stamp);
        expect(previous).not.toBeNull();
        expect(summaryLines(summary, { ...stamp, ctimeNs: '5' })).toBeNull(); // made from another index file
        const lazyBase = parseOwnIndexForChange(text, '/s/index.json')!;
        const lazy = apply(lazyBase, ops);
        const plainBase = JSON.parse(text) as StoreIndex;
        const plain = apply(plainBase, ops);
        expect(serializeIndex(lazy)).toBe(serializeIndex(plain));
        expect(prepareSummary(lazy, previous)).toEqual(prepareSummary(plain));
        for (const needle of NEEDLES) {
          const holds = (r: PushRecord) => JSON.stringify(r).includes(needle);
          const names = (rs: PushRecord[]) => rs.filter(holds).map((r) => r.name);
          expect(names(recordsMentioning(lazy.records, needle))).toEqual(names(Object.values(plain.records)));
        }
        // the index the copies were made from: as the same ops left the plain one (copies share the records read)
        expect(serializeIndex(lazyBase)).toBe(serializeIndex(plainBase));
      }),
      { numRuns: 400 },
    );
  });

  it('parses only the records read: a damaged line of another record does not stop a change, and is written back as it was', () => {
    const ix = emptyIndex(STORE_ID, 'passphrase', NOW);
    for (const n of ['a1', 'b1', 'c1']) ix.records[n] = newRecord(n, NOW.toISOString());
    const text = serializeIndex(ix).replace('"b1":{"name":"b1"', '"b1":{"name":"b1",,');
    const lazy = parseOwnIndexForChange(text, '/s/index.json')!;
    lazy.records.a1!.owner = 'ops@example.com';
    expect(serializeIndex(lazy)).toBe(text.replace('"owner":null', '"owner":"ops@example.com"'));
    expect(() => lazy.records.b1).toThrow(/record "b1" is not valid JSON/);
  });

  it('is not used for a text laid out otherwise (an older version wrote the index on one line): null, and parseOwnIndex reads it', () => {
    const ix = emptyIndex(STORE_ID, 'passphrase', NOW);
    ix.records.a1 = newRecord('a1', NOW.toISOString());
    const text = serializeIndex(ix);
    expect(parseOwnIndexForChange(`${JSON.stringify(ix)}\n`, '/s/index.json')).toBeNull();
    expect(parseOwnIndexForChange(serializeIndex(emptyIndex(STORE_ID, 'passphrase', NOW)), '/s/index.json')).toBeNull();
    expect(parseOwnIndexForChange(text.replace('\n"a1"', '\n"../a1"'), '/s/index.json')).toBeNull();
    expect(parseOwnIndexForChange(text.replace('"a1":{', '"a1":{"x":1},\n"a1":{'), '/s/index.json')).toBeNull();
    expect(parseOwnIndexForChange(text.slice(0, -2), '/s/index.json')).toBeNull();
  });
});
