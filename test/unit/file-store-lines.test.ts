/**
 * index.json and expiry.json a record a line (src/core/lazy-records.ts): a change of the real file store rewrites the
 * lines of the records it changed and writes the others back byte for byte; an index an older version wrote on one
 * line is read and rewritten so; an index changed by hand is still checked in full.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCertificate } from '../../src/commands/shared/import-certificate.js';
import { summarizeIndex } from '../../src/core/expiry-summary.js';
import { newRecord } from '../../src/core/index-model.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { indexStampOf } from '../../src/store/file/layout.js';
import { tempDir } from '../helpers/cli.js';
import { fileStore, makeDeps } from '../helpers/deps.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { MemoryVault } from '../helpers/memory-vault.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const ca = createFakeCa();

function certificateWithKey(days: number): string {
  const key = newKeyPem();
  return (
    issuePushCert(ca, {
      publicKeyPem: key.publicPem,
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, days),
    }) + key.privatePem
  );
}

async function importInto(dir: string, vault: MemoryVault, name: string, days = 300) {
  const pem = certificateWithKey(days);
  return importCertificate(
    {
      decoded: decodeCertificateFile(Buffer.from(pem), `${name}.pem`),
      source: `${name}.pem`,
      name,
      appleId: undefined,
      allowNewTopic: false,
      allowExpired: false,
    },
    makeDeps({ storeDir: dir, now: NOW, vault, interactive: false }),
  );
}

/** A store with the record "acme" and 40 more (owners with quotes and non-ASCII text), as the tool wrote it. */
async function storeOf41(vault: MemoryVault): Promise<string> {
  const dir = join(tempDir(), 'store');
  await importInto(dir, vault, 'acme', 200);
  await fileStore(dir, { vault }).change(async (tx) => {
    for (let i = 0; i < 40; i++)
      tx.index.records[`t${i}`] = { ...newRecord(`t${i}`, NOW.toISOString()), owner: `"Ops" ünï ${i}` };
    await tx.commit(tx.index);
  });
  return dir;
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n');

describe('index.json and expiry.json, a record a line', () => {
  it('an import writes its record and summary line, and every other line again byte for byte', async () => {
    const vault = new MemoryVault();
    const dir = await storeOf41(vault);
    const index = join(dir, 'index.json');
    const summary = join(dir, 'expiry.json');
    const [indexBefore, summaryBefore] = [lines(index), lines(summary)];
    expect(indexBefore).toHaveLength(41 + 3);
    await importInto(dir, vault, 'beta', 100); // a new record, and now the soonest expiry
    const [indexAfter, summaryAfter] = [lines(index), lines(summary)];
    // the last record's line gains a comma; the new one comes after it
    expect(indexAfter.slice(0, 41)).toEqual(indexBefore.slice(0, 41));
    expect(indexAfter[41]).toBe(`${indexBefore[41]},`);
    expect(indexAfter[42]).toMatch(/^"beta":\{"name":"beta"/);
    expect(summaryAfter.slice(1, 42)).toEqual(summaryBefore.slice(1, 42));
    expect(JSON.parse(summaryAfter[0]!).soonest).toBe(daysFrom(NOW, 100).toISOString());
    // what the next reader sees: the whole index checked (doctor), every record there
    const store = fileStore(dir, { vault });
    const audit = await store.audit();
    expect(audit.unsafe).toBeNull();
    expect(Object.keys(audit.index!.records)).toHaveLength(42);
    expect(audit.index!.records.t7!.owner).toBe('"Ops" ünï 7');
    expect((await store.readSummary())!.map((r) => r.name)).toEqual(Object.keys(audit.index!.records));
    // an independent reader (Python's json) takes both files as JSON: every record, each summary line after the header
    const python = execFileSync(
      'python3',
      [
        '-c',
        'import json,sys; i=json.load(open(sys.argv[1])); t=open(sys.argv[2]).read(); n=t.index("\\n");' +
          ' print(json.dumps([list(i["records"]), [r["name"] for r in json.loads(t[n+1:])], i["records"]["t7"]["owner"]]))',
        index,
        summary,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(python)).toEqual([
      Object.keys(audit.index!.records),
      Object.keys(audit.index!.records),
      '"Ops" ünï 7',
    ]);
  });

  it('a renewal of the record with the soonest expiry: the soonest moves to the next one', async () => {
    const vault = new MemoryVault();
    const dir = await storeOf41(vault);
    await importInto(dir, vault, 'beta', 100);
    const betaTopic = (await fileStore(dir, { vault }).read())!.records.beta!.topic!;
    const key = newKeyPem();
    const renewal =
      issuePushCert(ca, {
        publicKeyPem: key.publicPem,
        topic: betaTopic,
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 365),
      }) + key.privatePem;
    await importCertificate(
      {
        decoded: decodeCertificateFile(Buffer.from(renewal), 'renewal.pem'),
        source: 'renewal.pem',
        name: undefined,
        appleId: undefined,
        allowNewTopic: false,
        allowExpired: false,
      },
      makeDeps({ storeDir: dir, now: NOW, vault, interactive: false }),
    );
    expect(await fileStore(dir, { vault }).soonestExpiry()).toBe(daysFrom(NOW, 200).toISOString()); // acme's
  });

  it('an index an older version wrote on one line (and vouched for) is read whole, and written back a record a line', async () => {
    const vault = new MemoryVault();
    const dir = await storeOf41(vault);
    const index = join(dir, 'index.json');
    const parsed = JSON.parse(readFileSync(index, 'utf8'));
    writeFileSync(index, `${JSON.stringify(parsed)}\n`);
    // its summary as such a version wrote it: two lines, made from this very file
    const oldSummary = summarizeIndex(parsed, indexStampOf(statSync(index, { bigint: true })));
    const [header, ...records] = oldSummary.split('\n');
    writeFileSync(join(dir, 'expiry.json'), `${header}\n${JSON.stringify(JSON.parse(records.join('\n')))}\n`);
    expect(lines(index)).toHaveLength(2);
    await importInto(dir, vault, 'beta');
    expect(lines(index)).toHaveLength(42 + 3);
    expect(lines(join(dir, 'expiry.json'))).toHaveLength(1 + 42 + 3);
    expect(Object.keys((await fileStore(dir, { vault }).audit()).index!.records)).toHaveLength(42);
  });

  it('a line of a record changed by hand (no longer vouched for) is checked with the rest: 65, nothing written', async () => {
    const vault = new MemoryVault();
    const dir = await storeOf41(vault);
    const index = join(dir, 'index.json');
    const text = readFileSync(index, 'utf8');
    const damaged = text.replace('"t17":{"name":"t17"', '"t17":{"name":"t 17"');
    expect(damaged).not.toBe(text);
    writeFileSync(index, damaged);
    await expect(importInto(dir, vault, 'beta')).rejects.toThrow(/record "t17" is malformed/);
    expect(readFileSync(index, 'utf8')).toBe(damaged);
  });
  it('a change parses only the records it reads: a line it never reads is not even parsed (its own vouched write)', async () => {
    const vault = new MemoryVault();
    const dir = await storeOf41(vault);
    const index = join(dir, 'index.json');
    // t17's line made unparseable, and expiry.json made to vouch for the file again, as only this tool's write would
    const damaged = readFileSync(index, 'utf8').replace('"t17":{"name":"t17"', '"t17":{"name":"t17",,');
    writeFileSync(index, damaged);
    const summary = readFileSync(join(dir, 'expiry.json'), 'utf8');
    const stamp = indexStampOf(statSync(index, { bigint: true }));
    const header = { ...JSON.parse(summary.slice(0, summary.indexOf('\n'))), index: stamp };
    writeFileSync(join(dir, 'expiry.json'), `${JSON.stringify(header)}${summary.slice(summary.indexOf('\n'))}`);
    await importInto(dir, vault, 'beta'); // parsed whole, the index would be damaged (65)
    const after = readFileSync(index, 'utf8');
    expect(after.split('\n').find((l) => l.startsWith('"t17"'))).toBe(
      damaged.split('\n').find((l) => l.startsWith('"t17"')),
    );
    expect(after).toContain('"beta":{"name":"beta"');
  });
});
