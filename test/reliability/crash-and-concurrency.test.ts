/**
 * What production does to a store: many writers at once, writers killed with -9 at random moments.
 * The index must always parse, and no record whose command exited 0 may be lost.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summaryRecords } from '../../src/core/expiry-summary.js';
import { parseIndex } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { FileStore } from '../../src/store/file-store.js';
import { BIN, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const KILLS = Number(process.env.APNS_CERT_CRASH_RUNS ?? 200);

function readIndex(store: string) {
  const path = join(store, 'index.json');
  return existsSync(path) ? parseIndex(readFileSync(path, 'utf8'), path) : null;
}

/** expiry.json, when its stamp says it was made from the current index.json (else null). */
const currentSummary = (store: string) => new FileStore(store, { lockWaitMs: 0 }).readSummary();

/** A summary that check-expiry would trust always says what the index says. */
function expectSummaryAgrees(store: string, index: StoreIndex): boolean {
  const summary = currentSummary(store);
  if (summary !== null) expect(summary).toEqual(summaryRecords(index));
  return summary !== null;
}

/** Starts a writer and kills it with SIGKILL after `killAfterMs`; resolves with its exit code (null when killed). */
function killedWriter(args: string[], env: NodeJS.ProcessEnv, killAfterMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('crash safety', () => {
  it(`${KILLS} writers killed with -9 at random moments: the index always parses, every record that exited 0 is there`, async () => {
    const store = tempDir();
    const out = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'crash', APNS_CERT_LOCK_WAIT_MS: '20000' });
    expect((await runCli(['--secret-backend', 'passphrase', 'csr', '--name', 'seed', '--out', join(out, 'seed.csr')], { env })).code).toBe(0);
    const survived: string[] = ['seed'];
    let killed = 0;
    let currentSummaries = 0;
    const parallel = 4;
    for (let round = 0; round < KILLS / parallel; round++) {
      const names = Array.from({ length: parallel }, (_, i) => `w${round}-${i}`);
      // kill anywhere from start-up to the end of the write (a csr takes ~0.2-0.5 s here)
      const codes = await Promise.all(names.map((name) => killedWriter(['csr', '--name', name, '--out', join(out, `${name}.csr`)], env, Math.floor(Math.random() * 450))));
      codes.forEach((code, i) => {
        if (code === 0) survived.push(names[i]!);
        else killed++;
      });
      const index = readIndex(store); // throws if torn
      expect(index).not.toBeNull();
      for (const name of survived) expect(index!.records[name], `record ${name} exited 0 and must be kept`).toBeDefined();
      if (expectSummaryAgrees(store, index!)) currentSummaries++;
    }
    expect(killed).toBeGreaterThan(KILLS / 4); // the test really killed writers mid-way
    expect(currentSummaries).toBeGreaterThan(0); // and the summary check really ran
    // and the store still works afterwards
    expect((await runCli(['csr', '--name', 'after', '--out', join(out, 'after.csr')], { env, timeoutMs: 60_000 })).code).toBe(0);
    expect(readIndex(store)!.records.after).toBeDefined();
    const doctor = JSON.parse((await runCli(['doctor', '--offline', '--json'], { env })).stdout);
    expect(doctor.checks.find((c: { check: string }) => c.check === 'store-files').status).toBe('ok');
  });
});

describe('concurrency', () => {
  it('20 csr processes at once on one store, then 20 imports at once: 20 records and a valid index', async () => {
    const store = tempDir();
    const work = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'parallel', APNS_CERT_LOCK_WAIT_MS: '120000' });
    const names = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
    const csrs = await Promise.all(names.map((name) => runCli(['csr', '--name', name, '--out', join(work, `${name}.csr`)], { env, timeoutMs: 180_000 })));
    for (const r of csrs) expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(readIndex(store)!.records).sort()).toEqual([...names].sort());

    const ca = createFakeCa();
    const now = new Date();
    for (const name of names) {
      signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), { topic: mdmTopic(), notBefore: daysFrom(now, -1), notAfter: daysFrom(now, 365) });
    }
    const imports = await Promise.all(names.map((name) => runCli(['import', join(work, `${name}.pem`)], { env, timeoutMs: 180_000 })));
    for (const r of imports) expect(r.code, r.stderr).toBe(0);
    const index = readIndex(store)!;
    expect(Object.keys(index.records)).toHaveLength(20);
    expect(currentSummary(store)).toEqual(summaryRecords(index));
    for (const name of names) expect(index.records[name]!.certificates.map((c) => c.status)).toEqual(['active']);
  });
});
