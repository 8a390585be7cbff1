/**
 * What production does to a store: many writers at once, writers killed with -9 at random moments, writers
 * paused (Ctrl-Z, SIGSTOP, a VM pause) in the middle of a change. The index must always parse, and no record
 * whose command exited 0 may be lost.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summaryRecords } from '../../src/core/expiry-summary.js';
import { parseIndex } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { fileStore } from '../helpers/deps.js';
import { BIN, cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const KILLS = Number(process.env.APNS_CERT_CRASH_RUNS ?? 200);

function readIndex(store: string) {
  const path = join(store, 'index.json');
  return existsSync(path) ? parseIndex(readFileSync(path, 'utf8'), path) : null;
}

/** expiry.json, when its stamp says it was made from the current index.json (else null). */
const currentSummary = (store: string) => fileStore(store).readSummary();

/** A summary that check-expiry would trust always says what the index says. */
async function expectSummaryAgrees(store: string, index: StoreIndex): Promise<boolean> {
  const summary = await currentSummary(store);
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
    expect(
      (
        await runCli(['--secret-backend', 'passphrase', 'csr', '--name', 'seed', '--out', join(out, 'seed.csr')], {
          env,
        })
      ).code,
    ).toBe(0);
    const survived: string[] = ['seed'];
    let killed = 0;
    let currentSummaries = 0;
    const parallel = 4;
    for (let round = 0; round < KILLS / parallel; round++) {
      const names = Array.from({ length: parallel }, (_, i) => `w${round}-${i}`);
      // kill anywhere from start-up to the end of the write (a csr takes ~0.2-0.5 s here)
      const codes = await Promise.all(
        names.map((name) =>
          killedWriter(
            ['csr', '--name', name, '--out', join(out, `${name}.csr`)],
            env,
            Math.floor(Math.random() * 450),
          ),
        ),
      );
      codes.forEach((code, i) => {
        if (code === 0) survived.push(names[i]!);
        else killed++;
      });
      const index = readIndex(store); // throws if torn
      expect(index).not.toBeNull();
      for (const name of survived)
        expect(index!.records[name], `record ${name} exited 0 and must be kept`).toBeDefined();
      if (await expectSummaryAgrees(store, index!)) currentSummaries++;
    }
    expect(killed).toBeGreaterThan(KILLS / 4); // the test really killed writers mid-way
    expect(currentSummaries).toBeGreaterThan(0); // and the summary check really ran
    // and the store still works afterwards
    expect(
      (await runCli(['csr', '--name', 'after', '--out', join(out, 'after.csr')], { env, timeoutMs: 60_000 })).code,
    ).toBe(0);
    expect(readIndex(store)!.records.after).toBeDefined();
    const doctor = JSON.parse((await runCli(['doctor', '--offline', '--json'], { env })).stdout);
    expect(doctor.checks.find((c: { check: string }) => c.check === 'store-files').status).toBe('ok');
  });
});

describe('concurrency', () => {
  it('20 csr processes at once on one store, then 20 imports at once: 20 records and a valid index', async () => {
    const store = tempDir();
    const work = tempDir();
    const env = cleanEnv({
      APNS_CERT_STORE: store,
      APNS_CERT_PASSPHRASE: 'parallel',
      APNS_CERT_LOCK_WAIT_MS: '120000',
    });
    const names = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
    const csrs = await Promise.all(
      names.map((name) =>
        runCli(['csr', '--name', name, '--out', join(work, `${name}.csr`)], { env, timeoutMs: 180_000 }),
      ),
    );
    for (const r of csrs) expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(readIndex(store)!.records).sort()).toEqual([...names].sort());

    const ca = createFakeCa();
    const now = new Date();
    for (const name of names) {
      signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), {
        topic: mdmTopic(),
        notBefore: daysFrom(now, -1),
        notAfter: daysFrom(now, 365),
      });
    }
    const imports = await Promise.all(
      names.map((name) => runCli(['import', join(work, `${name}.pem`)], { env, timeoutMs: 180_000 })),
    );
    for (const r of imports) expect(r.code, r.stderr).toBe(0);
    const index = readIndex(store)!;
    expect(Object.keys(index.records)).toHaveLength(20);
    expect(await currentSummary(store)).toEqual(summaryRecords(index));
    for (const name of names) expect(index.records[name]!.certificates.map((c) => c.status)).toEqual(['active']);
  });
});

interface Ran {
  code: number | null;
  stderr: string;
}

function started(
  args: string[],
  env: NodeJS.ProcessEnv,
  command: string[] = [process.execPath, BIN],
): { child: ChildProcess; done: Promise<Ran> } {
  const child = spawn(command[0]!, [...command.slice(1), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Ran>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true once `path` exists (the lock is taken), false if the process ends first. Polls every turn of the event loop. */
async function whenExists(path: string, ended: () => boolean): Promise<boolean> {
  for (;;) {
    if (existsSync(path)) return true;
    if (ended()) return false;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const doctorCheck = async (env: NodeJS.ProcessEnv, name: string) =>
  (
    JSON.parse((await runCli(['doctor', '--offline', '--json'], { env })).stdout) as {
      checks: Array<{ check: string; status: string; message: string }>;
    }
  ).checks.find((c) => c.check === name)!;

describe('paused writers', () => {
  it('50 writers in rounds of 5: the one holding the lock is SIGSTOPped for 3 s, then SIGCONTed, while the others go on: every record acknowledged with exit 0 is kept, and no writer dies of an uncaught error', async () => {
    const store = tempDir();
    const out = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'paused', APNS_CERT_LOCK_WAIT_MS: '30000' });
    expect(
      (
        await runCli(['--secret-backend', 'passphrase', 'csr', '--name', 'seed', '--out', join(out, 'seed.csr')], {
          env,
        })
      ).code,
    ).toBe(0);
    const lock = join(store, 'store.lock');
    const acknowledged = ['seed'];
    let caught = 0;
    for (let round = 0; round < 10; round++) {
      const names = Array.from({ length: 5 }, (_, i) => `p${round}-${i}`);
      const csr = (name: string, extra: string[] = []) =>
        started(['csr', '--name', name, ...extra, '--out', join(out, `${name}.csr`)], env);
      // The first writer alone: when the lock appears, it is the holder (--apple-id: the Apple ID is hashed under
      // the lock, which keeps the change under way a little longer). It is paused for longer than a lock may go
      // without a refresh (proper-lockfile's staleness: 2 s) while four more writers start.
      const holder = csr(names[0]!, ['--apple-id', 'mdm@example.com']);
      let ended = false;
      void holder.done.then(() => (ended = true));
      const stopped = (await whenExists(lock, () => ended)) && holder.child.kill('SIGSTOP');
      if (stopped && readIndex(store)!.records[names[0]!] === undefined) caught++;
      const others = names.slice(1).map((name) => csr(name));
      if (stopped) {
        await sleep(3_000);
        holder.child.kill('SIGCONT');
      }
      const results = await Promise.all([holder, ...others].map((w) => w.done));
      results.forEach((r, i) => {
        expect([0, 75], `${names[i]}: ${r.stderr}`).toContain(r.code);
        expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
        expect(r.stderr).not.toMatch(/ECOMPROMISED|Unable to update lock/);
        if (r.code === 0) acknowledged.push(names[i]!);
      });
      const index = readIndex(store)!;
      for (const name of acknowledged)
        expect(index.records[name], `record ${name} exited 0 and must be kept`).toBeDefined();
      await expectSummaryAgrees(store, index);
    }
    expect(caught, 'holders really were paused in the middle of their change').toBeGreaterThanOrEqual(5);
    expect(acknowledged.length).toBeGreaterThan(25);
    // a writer that gave up wrote nothing: no key file without a record
    expect((await doctorCheck(env, 'store-orphans')).status).toBe('ok');
  }, 300_000);

  it('a writer paused while holding the lock, whose lock is removed meanwhile (as an operator might), fails at its commit with 75 and writes nothing; the other writer keeps its record', async () => {
    const store = tempDir();
    const out = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'paused', APNS_CERT_LOCK_WAIT_MS: '30000' });
    expect(
      (
        await runCli(['--secret-backend', 'passphrase', 'csr', '--name', 'seed', '--out', join(out, 'seed.csr')], {
          env,
        })
      ).code,
    ).toBe(0);
    const lock = join(store, 'store.lock');
    let conclusive = 0;
    for (let trial = 0; trial < 20 && conclusive < 2; trial++) {
      // --apple-id: the Apple ID is hashed (scrypt) under the lock, which keeps the change under way a little longer
      const a = started(
        ['csr', '--name', `a${trial}`, '--apple-id', 'mdm@example.com', '--out', join(out, `a${trial}.csr`)],
        env,
      );
      let ended = false;
      void a.done.then(() => (ended = true));
      const holding = await whenExists(lock, () => ended);
      if (!holding || !a.child.kill('SIGSTOP')) {
        await a.done;
        continue;
      }
      if (ended || readIndex(store)!.records[`a${trial}`] !== undefined) {
        // stopped after its commit: nothing to learn from this trial
        a.child.kill('SIGCONT');
        await a.done;
        continue;
      }
      rmSync(lock, { recursive: true, force: true });
      const b = await runCli(['csr', '--name', `b${trial}`, '--out', join(out, `b${trial}.csr`)], {
        env,
        timeoutMs: 60_000,
      });
      expect(b.code, b.stderr).toBe(0);
      a.child.kill('SIGCONT');
      const ra = await a.done;
      conclusive++;
      expect(ra.code, ra.stderr).toBe(75);
      expect(ra.stderr).toMatch(/lost the store lock|changed the index meanwhile/);
      expect(ra.stderr).toMatch(/nothing was written/);
      expect(hasStackTrace(ra.stderr), ra.stderr).toBe(false);
      const index = readIndex(store)!;
      expect(index.records[`b${trial}`], 'the record acknowledged with exit 0').toBeDefined();
      expect(index.records[`a${trial}`]).toBeUndefined();
      expect(existsSync(join(out, `a${trial}.csr`)), 'no CSR for a change that failed').toBe(false);
      expect(await doctorCheck(env, 'store-orphans')).toMatchObject({ status: 'ok' });
    }
    expect(conclusive, 'the writer was caught holding the lock before its commit').toBeGreaterThan(0);
  }, 240_000);
});

describe('the lock file', () => {
  it('is a 0600 file even under umask 000; one left by a writer killed with -9 is taken over by the next writer at once, and gone after it', async () => {
    const store = tempDir();
    const out = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'lock', APNS_CERT_LOCK_WAIT_MS: '30000' });
    expect(
      (
        await runCli(['--secret-backend', 'passphrase', 'csr', '--name', 'seed', '--out', join(out, 'seed.csr')], {
          env,
        })
      ).code,
    ).toBe(0);
    const lock = join(store, 'store.lock');
    let caught = false;
    for (let trial = 0; trial < 20 && !caught; trial++) {
      const w = started(
        ['csr', '--name', `k${trial}`, '--apple-id', 'mdm@example.com', '--out', join(out, `k${trial}.csr`)],
        env,
        ['sh', '-c', 'umask 000 && exec "$0" "$@"', process.execPath, BIN],
      );
      let ended = false;
      void w.done.then(() => (ended = true));
      if (!(await whenExists(lock, () => ended)) || !w.child.kill('SIGSTOP')) {
        await w.done;
        continue;
      }
      const st = (() => {
        try {
          return lstatSync(lock);
        } catch {
          return null; // released just before the stop
        }
      })();
      if (st === null) {
        w.child.kill('SIGCONT');
        await w.done;
        continue;
      }
      caught = true;
      expect(st.isFile(), 'a lock file, not a directory').toBe(true);
      expect((st.mode & 0o777).toString(8)).toBe('600');
      w.child.kill('SIGKILL');
      await w.done;
    }
    expect(caught, 'a writer was caught holding the lock').toBe(true);
    expect(existsSync(lock), 'kill -9 leaves the lock behind').toBe(true);
    // no waiting at all: the next writer sees the holder is gone and takes the lock over
    const next = await runCli(['csr', '--name', 'next', '--out', join(out, 'next.csr')], {
      env: { ...env, APNS_CERT_LOCK_WAIT_MS: '0' },
    });
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(lock), 'the lock is gone after the next writer').toBe(false);
  }, 120_000);

  it('a paused holder keeps the lock: a second writer waits, then gives up with 75, and the holder goes on to finish', async () => {
    const store = tempDir();
    const out = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'lock', APNS_CERT_LOCK_WAIT_MS: '30000' });
    expect(
      (
        await runCli(['--secret-backend', 'passphrase', 'csr', '--name', 'seed', '--out', join(out, 'seed.csr')], {
          env,
        })
      ).code,
    ).toBe(0);
    const lock = join(store, 'store.lock');
    for (let trial = 0; trial < 20; trial++) {
      const h = started(
        ['csr', '--name', `h${trial}`, '--apple-id', 'mdm@example.com', '--out', join(out, `h${trial}.csr`)],
        env,
      );
      let ended = false;
      void h.done.then(() => (ended = true));
      if (!(await whenExists(lock, () => ended)) || !h.child.kill('SIGSTOP') || !existsSync(lock)) {
        h.child.kill('SIGCONT');
        await h.done;
        continue;
      }
      // longer than proper-lockfile's 2 s staleness, which let the second writer in beside the paused one
      const second = await runCli(['csr', '--name', `s${trial}`, '--out', join(out, `s${trial}.csr`)], {
        env: { ...env, APNS_CERT_LOCK_WAIT_MS: '3000' },
      });
      h.child.kill('SIGCONT');
      const held = await h.done;
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr).toMatch(/another apns-cert process is changing it/);
      expect(held.code, held.stderr).toBe(0);
      const index = readIndex(store)!;
      expect(index.records[`h${trial}`]).toBeDefined();
      expect(index.records[`s${trial}`]).toBeUndefined();
      return;
    }
    throw new Error('no writer was caught holding the lock in 20 trials');
  }, 120_000);
});
