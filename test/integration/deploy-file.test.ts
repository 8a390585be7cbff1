/**
 * `deploy` to `file` targets on the real file store and real files: PEM with a PKCS#8 or PKCS#1 key and .p12
 * (read by OpenSSL), mode 0600, atomic replace, no write through a symbolic link, a missing directory and a path
 * in the store refused, the topic guard on the file that is there, the --after command (its environment, its
 * output on stderr only, its failure and time limit), --dry-run, --json, a keyless record refused, and one run
 * of the built CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { pushCertIssuer, recordWith } from '../helpers/deploy-records.js';
import type { Issued } from '../helpers/deploy-records.js';
import { mdmTopic } from '../helpers/fake-apple.js';
import { startFakeMdm } from '../helpers/fake-mdm-servers.js';
import type { FakeMdm } from '../helpers/fake-mdm-servers.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

const work = tempDir();
const now = new Date();
const { issue } = pushCertIssuer(work, now);
const fakes: FakeMdm[] = [];
const outputs: CliResult[] = [];
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const r = await runInProcess(args, { env });
  outputs.push(r);
  return r;
}
const P12_PASSWORD = 'p12 secret ü';
let dirs = 0;
/** A directory of its own for one test's target file. */
const outDir = () => {
  const dir = join(work, `out-${++dirs}`);
  mkdirSync(dir);
  return dir;
};

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

interface DeployDoc {
  schemaVersion: number;
  name: string;
  targets: Array<{
    label: string;
    kind: string;
    result: string;
    serialNumber: string;
    notAfter: string;
    message: string | null;
  }>;
}

/** A record "acme" with `certs` and one file target (label "file") with these `target add` options. */
async function fileTarget(certs: Issued[], path: string, options: string[] = [], extra: Record<string, string> = {}) {
  const env = await recordWith(certs, cli, extra);
  const r = await cli(['target', 'add', 'acme', '--kind', 'file', '--path', path, ...options], env);
  expect(r.code, r.stderr).toBe(0);
  return env;
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });
/** The public key OpenSSL reads from the file's key, and from its certificate: the same when they pair. */
function opensslPair(path: string): { fromKey: string; fromCert: string } {
  return {
    fromKey: openssl('pkey', '-in', path, '-pubout'),
    fromCert: openssl('x509', '-in', path, '-noout', '-pubkey'),
  };
}
const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;
/** The serial of the certificate `openssl pkcs12 -nokeys` finds in the .p12. */
function p12Serial(path: string, passwordFile: string): string {
  const certs = openssl('pkcs12', '-in', path, '-passin', `file:${passwordFile}`, '-nokeys');
  return serialOf(certs.slice(certs.indexOf('-----BEGIN CERTIFICATE-----')));
}
/** A process that runs (not a zombie no parent reaped: in a container nothing may reap an orphan). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !existsSync(`/proc/${pid}/stat`) || !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}
const modeOf = (path: string) => statSync(path).mode & 0o777;
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('deploy to a file target', () => {
  it('writes the certificate and a PKCS#8 key (0600, OpenSSL reads both and they pair); --json; kept in show', async () => {
    const cert = issue(mdmTopic(), 365);
    const path = join(outDir(), 'push.pem');
    const env = await fileTarget([cert], path);
    const r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as DeployDoc;
    expect(doc).toEqual({
      schemaVersion: 1,
      name: 'acme',
      targets: [
        {
          label: 'file',
          kind: 'file',
          result: 'deployed',
          serialNumber: cert.serial,
          notAfter: cert.notAfter,
          message: null,
        },
      ],
    });
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(serialOf(text)).toBe(cert.serial);
    expect(text).toMatch(/-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    expect(modeOf(path)).toBe(0o600);
    expect(openssl('x509', '-in', path, '-noout', '-serial').trim()).toBe(`serial=${cert.serial}`);
    const pair = opensslPair(path);
    expect(pair.fromKey).toBe(pair.fromCert);
    expect(pair.fromKey).toBe(createPublicKey(cert.keyPem).export({ type: 'spki', format: 'pem' }));
    const show = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as {
      deployments: Array<{ target: string; serialNumber: string; result: string }>;
    };
    expect(show.deployments).toMatchObject([{ target: 'file', serialNumber: cert.serial, result: 'deployed' }]);
  });

  it('--key-format pkcs1 writes an RSA PRIVATE KEY (as MicroMDM reads it) that OpenSSL pairs with the certificate', async () => {
    const cert = issue(mdmTopic(), 365);
    const path = join(outDir(), 'micromdm.pem');
    const env = await fileTarget([cert], path, ['--key-format', 'pkcs1']);
    const r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^file\s+file\s+deployed\s+serial /);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(text).not.toContain('-----BEGIN PRIVATE KEY-----');
    openssl('rsa', '-in', path, '-check', '-noout');
    const pair = opensslPair(path);
    expect(pair.fromKey).toBe(pair.fromCert);
  });

  it('replaces the file there atomically: a new file by rename (0600 whatever the old mode), a reader keeps the old one', async () => {
    const topic = mdmTopic();
    const old = issue(topic, 100);
    const cert = issue(topic, 365);
    const dir = outDir();
    const path = join(dir, 'push.pem');
    const env = await fileTarget([old, cert], path);
    writeFileSync(path, old.certPem + old.keyPem);
    chmodSync(path, 0o644);
    const inodeBefore = statSync(path).ino;
    const reader = openSync(path, 'r');
    try {
      const r = await cli(['deploy', 'acme'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(statSync(path).ino).not.toBe(inodeBefore);
      expect(modeOf(path)).toBe(0o600);
      expect(serialOf(readFileSync(path, 'utf8'))).toBe(cert.serial);
      const buf = Buffer.alloc(old.certPem.length);
      readSync(reader, buf, 0, buf.length, 0);
      expect(buf.toString()).toBe(old.certPem);
    } finally {
      closeSync(reader);
    }
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses a symbolic link at the path (73): the file it points to is untouched, nothing recorded', async () => {
    const cert = issue(mdmTopic(), 365);
    const dir = outDir();
    const real = join(dir, 'real.pem');
    writeFileSync(real, 'the real file\n');
    const path = join(dir, 'link.pem');
    symlinkSync(real, path);
    const env = await fileTarget([cert], path);
    const r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(73);
    expect(r.stderr).toContain(`${path} is a symbolic link`);
    expect(r.stderr).toMatch(/hint: apns-cert target add acme --kind file --label file --path "\$\(readlink -f /);
    expect(readFileSync(real, 'utf8')).toBe('the real file\n');
    expect(lstatSync(path).isSymbolicLink()).toBe(true); // still the link, to the same file
    expect(leftovers(dir)).toEqual([]);
    const show = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as { deployments: unknown[] };
    expect(show.deployments).toEqual([]);
  });

  it('refuses a path whose directory does not exist (73, naming it, with mkdir) and a path inside the store (73)', async () => {
    const cert = issue(mdmTopic(), 365);
    const missing = join(work, 'no-such-dir');
    const env = await fileTarget([cert], join(missing, 'push.pem'));
    let r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(73);
    expect(r.stderr).toContain(`the directory ${missing} does not exist`);
    expect(r.stderr).toContain(`hint: mkdir -p ${missing}`);
    expect(existsSync(missing)).toBe(false);

    const store = env.APNS_CERT_STORE!;
    const inStore = join(store, 'certs', 'push.pem');
    r = await cli(['target', 'add', 'acme', '--kind', 'file', '--label', 'store', '--path', inStore], env);
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['deploy', 'acme', '--target', 'store'], env);
    expect(r.code, r.stderr).toBe(73);
    expect(r.stderr).toContain(`is inside the store ${store}`);
    expect(existsSync(inStore)).toBe(false);
  });

  it('the topic guard: a file holding another topic is refused (1, byte for byte unchanged); --allow-new-topic writes', async () => {
    const oldTopic = mdmTopic();
    const newTopic = mdmTopic();
    const foreign = issue(oldTopic, 200);
    const cert = issue(newTopic, 365);
    const path = join(outDir(), 'push.pem');
    const env = await fileTarget([cert], path);
    const before = Buffer.from(foreign.certPem + foreign.keyPem);
    writeFileSync(path, before);
    let r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^file\s+file\s+refused/);
    expect(r.stderr).toContain(`another topic (${oldTopic}, deploying ${newTopic}); nothing was written`);
    expect(r.stderr).toContain('Every enrolled device would stop answering');
    expect(r.stderr).toContain('hint: apns-cert deploy acme --target file --allow-new-topic');
    expect(readFileSync(path).equals(before)).toBe(true);
    r = await cli(['deploy', 'acme', '--allow-new-topic'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(serialOf(readFileSync(path, 'utf8'))).toBe(cert.serial);
  });

  it('a file there that holds no certificate is refused (1, unchanged, with how to move it away)', async () => {
    const cert = issue(mdmTopic(), 365);
    const path = join(outDir(), 'push.pem');
    const env = await fileTarget([cert], path);
    writeFileSync(path, 'not a certificate\n');
    const r = await cli(['deploy', 'acme', '--allow-new-topic'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('holds no certificate apns-cert can read');
    expect(r.stderr).toContain(`hint: mv ${path} ${path}.old`);
    expect(readFileSync(path, 'utf8')).toBe('not a certificate\n');
  });

  it('--format p12: needs --password-file (64); writes a .p12 OpenSSL opens; the next deploy opens it for the guard', async () => {
    const topic = mdmTopic();
    const old = issue(topic, 100);
    const cert = issue(topic, 365);
    const dir = outDir();
    const path = join(dir, 'push.p12');
    const pw = join(work, 'p12-password');
    writeFileSync(pw, `${P12_PASSWORD}\n`);
    const env = await recordWith([old], cli);
    let r = await cli(['target', 'add', 'acme', '--kind', 'file', '--path', path, '--format', 'p12'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--format p12 needs --password-file');
    r = await cli(['target', 'add', 'acme', '--kind', 'file', '--path', path, '--password-file', pw], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--password-file goes with --format p12');
    r = await cli(
      ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', 'https://x.example', '--password-file', pw],
      env,
    );
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--password-file is only for --kind file');
    r = await cli(
      ['target', 'add', 'acme', '--kind', 'file', '--path', path, '--format', 'p12', '--password-file', pw],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('.p12 password is sealed in the store');
    expect(readFileSync(join(env.APNS_CERT_STORE!, 'index.json'), 'utf8')).not.toContain('p12 secret');
    // --json says what show --json says: a secret is sealed for the target
    r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'file',
        '--path',
        path,
        '--format',
        'p12',
        '--password-file',
        pw,
        '--force',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'file', credential: true, replaced: true });
    const shown = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout);
    expect(shown.targets[0]).toMatchObject({ label: 'file', credential: true });

    r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(modeOf(path)).toBe(0o600);
    expect(p12Serial(path, pw)).toBe(old.serial);
    const key = openssl('pkcs12', '-in', path, '-passin', `file:${pw}`, '-nocerts', '-nodes');
    expect(createPublicKey(key.slice(key.indexOf('-----BEGIN'))).export({ type: 'spki', format: 'pem' })).toBe(
      createPublicKey(old.keyPem).export({ type: 'spki', format: 'pem' }),
    );

    // the renewal: the guard opens the .p12 there with the sealed password (the same topic), then replaces it
    r = await cli(['import', cert.file, '--name', 'acme'], env);
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as DeployDoc).targets[0]).toMatchObject({
      result: 'deployed',
      serialNumber: cert.serial,
    });
    expect(p12Serial(path, pw)).toBe(cert.serial);
    expect(leftovers(dir)).toEqual([]);

    // the password is sealed (in no store file in clear), named by the target (no orphan), removed with it
    const store = env.APNS_CERT_STORE!;
    const storeFiles = () =>
      readdirSync(store, { recursive: true, encoding: 'utf8' })
        .map((f) => join(store, f))
        .filter((f) => statSync(f).isFile());
    expect(storeFiles().filter((f) => readFileSync(f).includes(P12_PASSWORD))).toEqual([]);
    const secrets = () => storeFiles().filter((f) => f.includes('secrets'));
    expect(secrets()).toHaveLength(1);
    const doctor = JSON.parse((await cli(['doctor', '--offline', '--json'], env)).stdout) as {
      checks: Array<{ check: string; status: string }>;
    };
    expect(doctor.checks.find((c) => c.check === 'store-orphans')?.status).toBe('ok');
    r = await cli(['target', 'remove', 'acme', 'file'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(secrets()).toEqual([]);
  });

  it('--after runs with APNS_CERT_DEPLOYED_FILE (and none of our secrets); its output goes to stderr, never stdout', async () => {
    const cert = issue(mdmTopic(), 365);
    const dir = outDir();
    const path = join(dir, 'push.pem');
    const seen = join(dir, 'seen');
    const after =
      `printf '%s|%s|%s' "$APNS_CERT_DEPLOYED_FILE" "\${APNS_CERT_PASSPHRASE-unset}" "$(head -c 27 "$APNS_CERT_DEPLOYED_FILE")" > ${seen};` +
      ' echo AFTER-OUT; echo AFTER-ERR >&2; read x || echo STDIN-EMPTY >&2';
    const env = await fileTarget([cert], path, ['--after', after]);
    for (const json of [false, true]) {
      const r = await cli(['deploy', 'acme', ...(json ? ['--json'] : [])], env);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(seen, 'utf8')).toBe(`${path}|unset|-----BEGIN CERTIFICATE-----`);
      expect(r.stderr).toContain('AFTER-OUT\n');
      expect(r.stderr).toContain('AFTER-ERR\n');
      expect(r.stderr).toContain('STDIN-EMPTY');
      expect(r.stdout).not.toContain('AFTER');
      if (json) expect((JSON.parse(r.stdout) as DeployDoc).targets[0]!.result).toBe('deployed');
    }
  });

  it('--after failing: exit 1, "after failed", the file written; one that runs too long is killed within the limit', async () => {
    const cert = issue(mdmTopic(), 365);
    const dir = outDir();
    const path = join(dir, 'push.pem');
    const env = await fileTarget([cert], path, ['--after', 'exit 3'], { APNS_CERT_AFTER_TIMEOUT_MS: '500' });
    let r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(1);
    expect((JSON.parse(r.stdout) as DeployDoc).targets[0]).toMatchObject({
      result: 'after failed',
      serialNumber: cert.serial,
      message: 'the file is written; --after exited 3',
    });
    expect(serialOf(readFileSync(path, 'utf8'))).toBe(cert.serial);
    const show = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as {
      deployments: Array<{ result: string }>;
    };
    expect(show.deployments.map((d) => d.result)).toEqual(['after failed']);

    const pidFile = join(dir, 'pid');
    r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'file',
        '--path',
        path,
        '--after',
        `sleep 30 & echo $! > ${pidFile}; wait`,
        '--force',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const started = Date.now();
    r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.stderr).toContain('the file is written; --after did not end within 500 ms and was killed');
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running(sleeper)).toBe(false); // the whole process group was ended
  });

  it('--dry-run: the guard and the checks; says what would be written and that --after would run; writes nothing', async () => {
    const cert = issue(mdmTopic(), 365);
    const dir = outDir();
    const path = join(dir, 'push.pem');
    const ran = join(dir, 'ran');
    const env = await fileTarget([cert], path, ['--key-format', 'pkcs1', '--after', `touch ${ran}`]);
    const r = await cli(['deploy', 'acme', '--dry-run'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^file\s+file\s+would deploy/);
    expect(r.stderr).toContain(`would write the certificate ${cert.serial} (`);
    expect(r.stderr).toContain(`its private key (PKCS1) as PEM to ${path} (mode 0600), then run --after: touch ${ran}`);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(ran)).toBe(false);
    const show = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as { deployments: unknown[] };
    expect(show.deployments).toEqual([]);
  });

  it('a keyless record (import --no-key) with a nanomdm and a file target: 65, nothing sent, nothing written', async () => {
    const cert = issue(mdmTopic(), 365);
    const certOnly = join(work, 'cert-only.pem');
    writeFileSync(certOnly, cert.certPem);
    // a store made by the keyless import (it gets its master key, so the credential can be sealed)
    const env = inProcessEnv();
    let r = await cli(['import', certOnly, '--name', 'acme', '--no-key'], env);
    expect(r.code, r.stderr).toBe(0);
    const server = await startFakeMdm({ kind: 'nanomdm', credential: 'k', mode: 'normal' });
    fakes.push(server);
    writeFileSync(join(work, 'k'), 'k\n');
    const path = join(outDir(), 'push.pem');
    for (const args of [
      ['--kind', 'nanomdm', '--url', server.url, '--credential-file', join(work, 'k')],
      ['--kind', 'file', '--path', path],
    ]) {
      r = await cli(['target', 'add', 'acme', ...args], env);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const target of ['nanomdm', 'file']) {
      r = await cli(['deploy', 'acme', '--target', target], env);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(/private key is kept by the server .*--no-key/);
    }
    expect(server.requests).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it('beside a server target: each target ends on its own (the server deployed, the file 73: the exit code)', async () => {
    const cert = issue(mdmTopic(), 365);
    const missing = join(work, 'missing-too');
    const env = await fileTarget([cert], join(missing, 'push.pem'));
    const server = await startFakeMdm({ kind: 'nanomdm', credential: 'k2' });
    fakes.push(server);
    writeFileSync(join(work, 'k2'), 'k2\n');
    let r = await cli(
      ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', server.url, '--credential-file', join(work, 'k2')],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(73);
    expect((JSON.parse(r.stdout) as DeployDoc).targets.map((t) => [t.label, t.result])).toEqual([
      ['file', 'cannot write'],
      ['nanomdm', 'deployed'],
    ]);
  });

  it('the built CLI ended by SIGTERM while --after runs: 143, and the --after process group is ended too', async () => {
    const cert = issue(mdmTopic(), 365);
    const dir = outDir();
    const pidFile = join(dir, 'pid');
    const env = await fileTarget([cert], join(dir, 'push.pem'), ['--after', `sleep 30 & echo $! > ${pidFile}; wait`]);
    const child = spawn(process.execPath, [BIN, 'deploy', 'acme'], { env, stdio: 'ignore' });
    const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the pid written in full
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    expect(running(sleeper)).toBe(true);
    child.kill('SIGTERM');
    expect(await ended).toBe(143);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(running(sleeper)).toBe(false);
  });

  it('the built CLI writes the file and runs --after', async () => {
    const cert = issue(mdmTopic(), 365);
    const dir = outDir();
    const path = join(dir, 'push.pem');
    const seen = join(dir, 'seen');
    const env = await fileTarget([cert], path, [
      '--after',
      `printf %s "$APNS_CERT_DEPLOYED_FILE" > ${seen}; echo restarted`,
    ]);
    const r = await runCli(['deploy', 'acme'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^file\s+file\s+deployed\s+serial /);
    expect(r.stdout).not.toContain('restarted');
    expect(r.stderr).toContain('restarted');
    expect(readFileSync(seen, 'utf8')).toBe(path);
    expect(modeOf(path)).toBe(0o600);
    expect(serialOf(readFileSync(path, 'utf8'))).toBe(cert.serial);
  });

  it('the .p12 password appears in no output of any run', () => {
    expect(outputs.length).toBeGreaterThan(30);
    for (const r of outputs) expect(r.stdout + r.stderr).not.toContain(P12_PASSWORD);
  });
});
