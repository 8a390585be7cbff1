/**
 * The audit log of the file store (audit.jsonl): what each command that changes the store appends, `apns-cert
 * log`, and the file's guarantees (0600, append-only, never through a symbolic link, one whole line per writer).
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAuditLine } from '../../src/core/audit-log.js';
import type { AuditEntry } from '../../src/core/audit-log.js';
import { BIN, cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

const ca = createFakeCa();
const NOW = new Date();

async function cli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  const r = await runInProcess(args, { env, ...(cwd === undefined ? {} : { cwd }) });
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  return r;
}

/** The raw lines of the store's audit.jsonl, each parsed (null: not an entry). */
function logLines(store: string): Array<AuditEntry | null> {
  const text = readFileSync(join(store, 'audit.jsonl'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map(parseAuditLine);
}

/** A store with a record `name` that has an active certificate (csr + import); the certificate's topic. */
async function storeWithRecord(name = 'acme', env = inProcessEnv()) {
  const work = tempDir();
  const csr = join(work, `${name}.csr.pem`);
  expect((await cli(['csr', '--name', name, '--out', csr], env)).code).toBe(0);
  const topic = mdmTopic();
  const cert = signCsrFile(ca, csr, join(work, `${name}.pem`), {
    topic,
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 365),
  });
  const r = await cli(['import', cert], env);
  expect(r.code, r.stderr).toBe(0);
  return { env, store: env.APNS_CERT_STORE!, work, topic, cert };
}

/** The serial number of a certificate, as the index writes it. */
async function serialOf(cert: string): Promise<string> {
  const r = await runInProcess(['inspect', cert, '--json']);
  return (JSON.parse(r.stdout) as { serialNumber: string }).serialNumber;
}

const me = (() => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '?';
  }
})();

describe('what is logged', () => {
  it('csr and import: ok, by this user on this host, the import with its serial and topic', async () => {
    const { store, topic, cert } = await storeWithRecord();
    const lines = logLines(store);
    expect(lines).toHaveLength(2);
    const [csr, imported] = lines as AuditEntry[];
    expect(csr).toMatchObject({
      command: 'csr',
      record: 'acme',
      result: 'ok',
      exitCode: 0,
      user: me,
      host: hostname(),
    });
    expect(csr!.serialNumber).toBeUndefined();
    expect(imported).toEqual({
      at: imported!.at,
      user: me,
      host: hostname(),
      command: 'import',
      record: 'acme',
      result: 'ok',
      exitCode: 0,
      serialNumber: await serialOf(cert),
      topic,
    });
    expect(Date.parse(csr!.at)).toBeLessThanOrEqual(Date.parse(imported!.at));
    expect(Math.abs(Date.parse(imported!.at) - Date.now())).toBeLessThan(60_000);
    expect(statSync(join(store, 'audit.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('an import of another topic is refused (exit 1) and logged as refused, with the offered serial and topic', async () => {
    const { env, store, work, topic } = await storeWithRecord();
    const csr = join(work, 'renew.csr.pem');
    expect((await cli(['csr', '--name', 'acme', '--out', csr], env)).code).toBe(0);
    const otherTopic = mdmTopic();
    const wrong = signCsrFile(ca, csr, join(work, 'wrong.pem'), {
      topic: otherTopic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 400),
    });
    const r = await cli(['import', wrong, '--name', 'acme'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(topic);
    const last = logLines(store).at(-1)!;
    expect(last).toMatchObject({
      command: 'import',
      record: 'acme',
      result: 'refused',
      exitCode: 1,
      serialNumber: await serialOf(wrong),
      topic: otherTopic,
    });
    expect(last.message).toMatch(/^import .*topic/);
    expect(last.message).not.toContain('\n');
  });

  it('a wrong passphrase: refused (77), logged as refused', async () => {
    const { env, store } = await storeWithRecord();
    const r = await cli(['csr', '--name', 'acme', '--out', join(tempDir(), 'x.csr')], {
      ...env,
      APNS_CERT_PASSPHRASE: 'not the passphrase',
    });
    expect(r.code).toBe(77);
    expect(logLines(store).at(-1)).toMatchObject({ command: 'csr', record: 'acme', result: 'refused', exitCode: 77 });
  });

  it('renew, target add, retire, deploy (and a usage error of one) are logged; reads are not', async () => {
    const { env, store, work, topic } = await storeWithRecord();
    let r = await cli(
      ['renew', 'acme', '--apple-id', 'mdm@acme.example', '--csr-out', join(work, 'r.csr'), '--yes'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['target', 'add', 'acme', '--kind', 'fleet', '--url', 'https://fleet.example.com/'], env);
    expect(r.code, r.stderr).toBe(0);
    for (const read of [
      ['list'],
      ['show', 'acme'],
      ['check-expiry'],
      ['log'],
      ['target', 'list'],
      ['doctor', '--offline'],
    ])
      await cli(read, env);
    r = await cli(['deploy', 'acme', '--target', 'nowhere'], env);
    expect(r.code).toBe(64);
    r = await cli(['retire', 'acme'], env); // no terminal to confirm: 64
    expect(r.code).toBe(64);
    r = await cli(['retire', 'acme', '--yes'], env);
    expect(r.code, r.stderr).toBe(0);
    const entries = logLines(store) as AuditEntry[];
    expect(entries.map((e) => [e.command, e.record, e.result, e.exitCode])).toEqual([
      ['csr', 'acme', 'ok', 0],
      ['import', 'acme', 'ok', 0],
      ['renew', 'acme', 'ok', 0],
      ['target add', 'acme', 'ok', 0],
      ['deploy', 'acme', 'failed', 64],
      ['retire', 'acme', 'failed', 64],
      ['retire', 'acme', 'ok', 0],
    ]);
    expect(entries[2]!.topic).toBe(topic);
    expect(entries[4]).toMatchObject({ topic, serialNumber: entries[1]!.serialNumber });
    expect(entries[4]!.message).toMatch(/nowhere/);
    expect(entries[6]).toMatchObject({ topic, serialNumber: entries[1]!.serialNumber });
  });

  it('no store: nothing is logged and no store is made (a failed csr for a new store, a retire of nothing)', async () => {
    const env = inProcessEnv();
    const store = env.APNS_CERT_STORE!;
    rmSync(store, { recursive: true });
    expect((await cli(['retire', 'nobody', '--yes'], env)).code).toBe(64);
    expect(existsSync(store)).toBe(false);
    const r = await cli(['csr', '--name', 'acme', '--out', join(store, 'inside.csr')], env);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(store, 'audit.jsonl'))).toBe(false);
    expect(existsSync(join(store, 'index.json'))).toBe(false);
  });
});

describe('apns-cert log', () => {
  it('one line per entry; a name and --since filter; --json with schemaVersion; a removed record keeps its history', async () => {
    const { env, cert } = await storeWithRecord('acme');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const since = new Date();
    await storeWithRecord('beta', env);
    expect((await cli(['retire', 'acme', '--yes', '--purge'], env)).code).toBe(0);

    let r = await cli(['log'], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    const serial = await serialOf(cert);
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  ${me}@${hostname()}  import  acme  ok  serial ${serial}  topic com\\.apple\\.mgmt\\.External\\.[0-9a-f-]+$`,
      ),
    );
    expect(lines[4]).toMatch(/ {2}retire {2}acme {2}ok {2}serial /);

    r = await cli(['log', 'acme'], env);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('  ')[2]),
    ).toEqual(['csr', 'import', 'retire']);
    r = await cli(['log', 'acme', '--since', since.toISOString()], env);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('  ')[2]),
    ).toEqual(['retire']);
    r = await cli(['log', '--since', since.toISOString()], env);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);

    r = await cli(['--json', 'log', 'beta'], env);
    const doc = JSON.parse(r.stdout) as { schemaVersion: number; entries: AuditEntry[] };
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'entries']);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.entries.map((e) => e.command)).toEqual(['csr', 'import']);
    for (const e of doc.entries) {
      expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(parseAuditLine(JSON.stringify(e))).toEqual(e);
    }

    r = await cli(['log', 'nobody'], env);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    r = await cli(['log', '--since', '2026-02-30'], env);
    expect(r.code).toBe(64);
    r = await cli(['log', '../x'], env);
    expect(r.code).toBe(64);
  });

  it('no store, or a store without a log: nothing, exit 0', async () => {
    const env = inProcessEnv();
    rmSync(env.APNS_CERT_STORE!, { recursive: true });
    expect(await cli(['log'], env)).toMatchObject({ code: 0, stdout: '' });
    expect(await cli(['--json', 'log'], env)).toMatchObject({ code: 0 });
    expect(existsSync(env.APNS_CERT_STORE!)).toBe(false);
  });

  it('a torn last line (a writer killed mid-write) and hostile lines are skipped with a warning; the next entry has a line of its own', async () => {
    const { env, store } = await storeWithRecord();
    const log = join(store, 'audit.jsonl');
    const valid = readFileSync(log, 'utf8').split('\n')[0]!;
    appendFileSync(log, `${JSON.stringify({ ...JSON.parse(valid), command: 'csr\u001b[2J\u001b]0;owned\u0007' })}\n`);
    appendFileSync(log, `${'{"at":"'.padEnd(100_000, 'x')}\n`);
    appendFileSync(log, valid.slice(0, 40)); // torn: no newline
    let r = await cli(['log'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/warning: .*skipped line 3: not an entry/);
    expect(r.stderr).toMatch(/warning: .*skipped line 4: not an entry \(100000 characters\)/);
    expect(r.stderr).toMatch(/warning: .*skipped line 5: an unfinished last line/);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr.length).toBeLessThan(2000);

    expect((await cli(['retire', 'acme', '--yes'], env)).code).toBe(0);
    const lines = logLines(store);
    expect(lines).toHaveLength(6);
    expect(lines.slice(2, 5)).toEqual([null, null, null]);
    expect(lines[5]).toMatchObject({ command: 'retire', result: 'ok' });
    r = await cli(['log'], env);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(r.stderr).toMatch(/skipped line 5: not an entry$/m);
  });
});

describe('the file', () => {
  it('is append-only: what was written stays byte for byte, later entries follow it', async () => {
    const { env, store, work } = await storeWithRecord();
    const log = join(store, 'audit.jsonl');
    const before = readFileSync(log);
    const inode = statSync(log).ino;
    expect((await cli(['csr', '--name', 'acme', '--out', join(work, 'again.csr')], env)).code).toBe(0);
    expect((await cli(['retire', 'nobody', '--yes'], env)).code).toBe(64);
    const after = readFileSync(log);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(after.length).toBeGreaterThan(before.length);
    expect(statSync(log).ino).toBe(inode);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['a file outside the store', (outside: string) => outside],
    ['the index of the store', () => 'index.json'],
  ])(
    'a symbolic link in its place (to %s) is never written through: the command warns, its exit code stays',
    async (_what, target) => {
      const { env, store, work } = await storeWithRecord();
      const outside = join(tempDir(), 'elsewhere.txt');
      writeFileSync(outside, 'untouched\n');
      const log = join(store, 'audit.jsonl');
      rmSync(log);
      symlinkSync(target(outside), log);
      const index = readFileSync(join(store, 'index.json'));
      const r = await cli(['csr', '--name', 'beta', '--out', join(work, 'beta.csr')], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: this command is not in the audit log: .*audit\.jsonl/);
      expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
      expect(lstatSync(log).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(store, 'index.json')).equals(index)).toBe(false); // the csr itself went through
      expect(readFileSync(join(store, 'index.json'), 'utf8')).toContain('"beta"');
      const shown = await cli(['log'], env);
      expect([65, 77]).toContain(shown.code);
      expect(shown.stderr).toMatch(/audit\.jsonl/);
      const doctor = await cli(['doctor', '--offline'], env);
      expect(doctor.stdout).toMatch(/FAIL\s+store-permissions\s+.*audit\.jsonl \(a symbolic link/);
    },
  );

  it('cannot be appended to (a directory in its place): the change stands, exit 0, a warning names the log', async () => {
    const { env, store, work } = await storeWithRecord();
    const log = join(store, 'audit.jsonl');
    rmSync(log);
    mkdirSync(log, { mode: 0o700 });
    const r = await cli(['csr', '--name', 'beta', '--out', join(work, 'beta.csr')], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: this command is not in the audit log: append to the audit log .*audit\.jsonl/m);
    expect((await cli(['list'], env)).stdout).toContain('beta');
    // a failed command still says why it failed first
    const failed = await cli(['retire', 'nobody', '--yes'], env);
    expect(failed.code).toBe(64);
    expect(failed.stderr.startsWith('apns-cert: retire nobody')).toBe(true);
  });

  it('doctor reports a mode other than 0600', async () => {
    const { env, store } = await storeWithRecord();
    const doctorJson = async () =>
      (
        JSON.parse((await cli(['doctor', '--offline', '--json'], env)).stdout).checks as Array<{
          check: string;
          status: string;
          message: string;
        }>
      ).find((c) => c.check === 'store-permissions')!;
    expect((await doctorJson()).status).toBe('ok');
    const { chmodSync } = await import('node:fs');
    chmodSync(join(store, 'audit.jsonl'), 0o644);
    expect(await doctorJson()).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/audit\.jsonl is 644, not 600/),
    });
  });
});

describe('the built CLI: writers at once, writers killed', () => {
  const e2eEnv = () => cleanEnv({ APNS_CERT_STORE: tempDir(), APNS_CERT_PASSPHRASE: 'e2e' });

  it('two processes importing at once: both logged, every line whole', async () => {
    const env = e2eEnv();
    const work = tempDir();
    const certs: string[] = [];
    for (const name of ['one', 'two']) {
      const csr = join(work, `${name}.csr`);
      const r = await runCli(['csr', '--name', name, '--out', csr], { env });
      expect(r.code, r.stderr).toBe(0);
      certs.push(
        signCsrFile(ca, csr, join(work, `${name}.pem`), {
          topic: mdmTopic(),
          notBefore: daysFrom(NOW, -1),
          notAfter: daysFrom(NOW, 300),
        }),
      );
    }
    const results = await Promise.all(certs.map((cert) => runCli(['import', cert], { env })));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const entries = logLines(env.APNS_CERT_STORE!);
    expect(entries.every((e) => e !== null)).toBe(true);
    expect(
      entries
        .filter((e) => e!.command === 'import')
        .map((e) => e!.record)
        .sort(),
    ).toEqual(['one', 'two']);
    const r = await runCli(['log', '--json'], { env });
    expect((JSON.parse(r.stdout) as { entries: unknown[] }).entries).toHaveLength(4);
  });

  it('many writers at once, some killed with -9 at random moments: every line is one entry or skipped, log never crashes', async () => {
    const env = e2eEnv();
    const store = env.APNS_CERT_STORE!;
    expect((await runCli(['csr', '--name', 'seed', '--out', join(tempDir(), 'seed.csr')], { env })).code).toBe(0);
    const runs = 12;
    const exits = await Promise.all(
      Array.from(
        { length: runs },
        (_, i) =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, [BIN, 'retire', `r${i}`, '--yes'], { env, stdio: 'ignore' });
            const timer = i % 2 === 0 ? setTimeout(() => child.kill('SIGKILL'), 50 + ((i * 37) % 200)) : undefined;
            child.on('exit', (code) => {
              clearTimeout(timer);
              resolve(code);
            });
          }),
      ),
    );
    const finished = exits.filter((c) => c === 64).length; // retire of a record that is not there
    expect(finished).toBeGreaterThanOrEqual(runs / 2);
    const text = readFileSync(join(store, 'audit.jsonl'), 'utf8');
    const lines = text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
    const parsed = lines.map(parseAuditLine);
    // every process that ended by itself is there, whole; a killed one is there whole, or not at all
    expect(parsed.filter((e) => e?.command === 'retire').length).toBeGreaterThanOrEqual(finished);
    expect(parsed.filter((e) => e === null).length).toBeLessThanOrEqual(1);
    const r = await runCli(['log'], { env });
    expect(r.code).toBe(0);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(parsed.filter((e) => e !== null).length);
  });
});
