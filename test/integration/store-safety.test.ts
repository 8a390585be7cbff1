/**
 * The store and the files written for the user, attacked the way production would be: a crafted index that
 * points outside the store, symbolic links at output paths and inside the store, a reader holding the old
 * file open, output paths that lead into the store, another user's store, a group-writable store, umask 000,
 * a store that does not exist yet, and a read-only file system (a real read-only bind mount).
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, hasStackTrace, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa, createVendorHierarchy, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
const ca = createFakeCa();
const isRoot = process.getuid?.() === 0;
/** uid 65534 is `nobody` on Debian and most Linux systems. */
const NOBODY = 65534;

/** Base store: "acme" with an active certificate and a pending renewal key; made once, copied per test. */
let base: string;
let work: string;
const PASS = { APNS_CERT_PASSPHRASE: 'store pass' };

beforeAll(async () => {
  base = tempDir();
  work = tempDir();
  const env = cleanEnv({ APNS_CERT_STORE: base, ...PASS });
  expect((await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'acme.csr')], { env })).code).toBe(0);
  signCsrFile(ca, join(work, 'acme.csr'), join(work, 'acme.pem'), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 300),
  });
  expect((await runInProcess(['import', join(work, 'acme.pem')], { env })).code).toBe(0);
  expect((await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'renew.csr')], { env })).code).toBe(0);
  const h = createVendorHierarchy(NOW);
  writeFileSync(join(work, 'vendor.pem'), h.vendor.pem);
  writeFileSync(join(work, 'vendor.key'), h.vendor.privatePem);
  writeFileSync(join(work, 'chain.pem'), h.wwdr.pem + h.root.pem);
  writeFileSync(join(work, 'p12.pass'), 'export pass\n');
});

/** A fresh copy of the base store at <dir>/store (so that <dir> is the store's parent), and its environment. */
function copyStore(): { dir: string; store: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir();
  const store = join(dir, 'store');
  cpSync(base, store, { recursive: true });
  chmodSync(store, 0o700);
  return { dir, store, env: cleanEnv({ APNS_CERT_STORE: store, ...PASS }) };
}

function readIndex(store: string) {
  return JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
}

function editIndex(store: string, edit: (index: ReturnType<typeof readIndex>) => void): void {
  const index = readIndex(store);
  edit(index);
  writeFileSync(join(store, 'index.json'), JSON.stringify(index), { mode: 0o600 });
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** The built CLI started by a shell under `umask 000`. */
function runUmask000(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, BIN, ...args], {
      env,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function expectCleanRefusal(r: CliResult, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.startsWith('apns-cert: ')).toBe(true);
  expect(r.stderr).toMatch(/\nhint: /);
  expect(hasStackTrace(r.stderr)).toBe(false);
}

describe('ids and file names from the index never lead out of the store', () => {
  it.each([
    ['the pending key', (index: ReturnType<typeof readIndex>) => (index.records.acme.pendingKey.keyId = '../../x')],
    [
      'a certificate entry',
      (index: ReturnType<typeof readIndex>) => (index.records.acme.certificates[0].keyId = '../../x'),
    ],
  ])(
    '"keyId": "../../x" on %s: retire --yes, csr --force and doctor refuse it as a damaged index (65); the file outside survives',
    async (_where, edit) => {
      const { dir, store, env } = copyStore();
      // keys/../../x.key is <dir>/x.key: a real file outside the store, the one the crafted id aims at
      const victim = join(dir, 'x.key');
      writeFileSync(victim, 'a key that belongs to someone else\n');
      editIndex(store, edit);
      const before = treeDigest(store);
      for (const args of [
        ['retire', 'acme', '--yes'],
        ['retire', 'acme', '--yes', '--purge'],
        ['csr', '--name', 'acme', '--out', join(work, 'x.csr'), '--force'],
        ['doctor', '--offline'],
        ['export', 'acme', '--pem', join(dir, 'out.pem')],
      ]) {
        const r = await runInProcess(args, { env });
        expectCleanRefusal(
          r,
          65,
          /read the store index .*: record "acme" (pendingKey|certificates\[0\])\.?\s?keyId is not a key id/,
        );
      }
      expect(readFileSync(victim, 'utf8')).toBe('a key that belongs to someone else\n');
      expect(treeDigest(store)).toBe(before);
      expect(existsSync(join(dir, 'out.pem'))).toBe(false);
    },
  );

  it('a certificate file that is a symbolic link out of the store is refused (65), not followed', async () => {
    const { dir, store, env } = copyStore();
    const file = readIndex(store).records.acme.certificates[0].file as string;
    // the same certificate, but outside the store: following the link would "work", which is the point
    const outside = join(dir, 'elsewhere.pem');
    cpSync(join(store, file), outside);
    rmSync(join(store, file));
    symlinkSync(outside, join(store, file));
    const r = await runInProcess(['export', 'acme', '--pem', join(dir, 'out.pem'), '--cert-only'], { env });
    expectCleanRefusal(r, 65, /leads out of the store/);
    expect(existsSync(join(dir, 'out.pem'))).toBe(false);
    const doctor = await runInProcess(['doctor', '--offline', '--json'], { env });
    expect(doctor.code).toBe(1);
    const checks = JSON.parse(doctor.stdout).checks as Array<{ check: string; status: string; message: string }>;
    expect(checks.find((c) => c.check === 'store-files')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/certificate .* leads out of the store/),
    });
  });

  it('keys/ as a symbolic link to another directory: retire refuses the store and deletes nothing there', async () => {
    const { dir, store, env } = copyStore();
    const keyId = readIndex(store).records.acme.pendingKey.keyId as string;
    const elsewhere = join(dir, 'private');
    cpSync(join(store, 'keys'), elsewhere, { recursive: true });
    rmSync(join(store, 'keys'), { recursive: true });
    symlinkSync(elsewhere, join(store, 'keys'));
    const r = await runInProcess(['retire', 'acme', '--yes'], { env });
    expectCleanRefusal(r, 77, /keys is a symbolic link/);
    expect(existsSync(join(elsewhere, `${keyId}.key`))).toBe(true);
  });
});

describe.skipIf(!isRoot)(
  'a store that another user owns or can write to is refused, as ssh refuses such a ~/.ssh (run as root)',
  () => {
    it('owned by nobody: root refuses it for every command (77; check-expiry UNKNOWN), doctor reports it; nothing changes', async () => {
      const { dir, store, env } = copyStore();
      chownSync(store, NOBODY, NOBODY);
      const before = treeDigest(store);
      for (const args of [
        ['list'],
        ['show', 'acme'],
        ['retire', 'acme', '--yes'],
        ['csr', '--name', 'acme', '--out', join(dir, 'n.csr'), '--force'],
        ['export', 'acme', '--pem', join(dir, 'n.pem')],
      ]) {
        expectCleanRefusal(
          await runInProcess(args, { env }),
          77,
          new RegExp(`open the store ${store}: ${store} belongs to uid ${NOBODY}, not to you \\(uid 0\\)`),
        );
      }
      const check = await runInProcess(['check-expiry'], { env });
      expect(check.code).toBe(3);
      expect(check.stderr).toMatch(/belongs to uid 65534/);
      const doctor = await runInProcess(['doctor', '--offline', '--json'], { env });
      expect(doctor.code).toBe(1);
      expect(JSON.parse(doctor.stdout).checks[0]).toMatchObject({
        check: 'store',
        status: 'fail',
        message: expect.stringMatching(/refused: .* belongs to uid 65534/),
      });
      expect(treeDigest(store)).toBe(before);
      expect(statSync(store).uid).toBe(NOBODY);
      expect(existsSync(join(dir, 'n.csr'))).toBe(false);
    });

    it('keys/ owned by nobody is refused the same way', async () => {
      const { store, env } = copyStore();
      chownSync(join(store, 'keys'), NOBODY, NOBODY);
      expectCleanRefusal(await runInProcess(['retire', 'acme', '--yes'], { env }), 77, /keys belongs to uid 65534/);
    });
  },
);

describe('a store writable by group or others is refused; its mode is never changed', () => {
  it.each([
    ['the store, group-writable', '', 0o770, /writable by group \(mode 770\)/],
    ['the store, writable by others', '', 0o703, /writable by others \(mode 703\)/],
    ['keys/, group-writable', 'keys', 0o730, /keys is writable by group/],
  ])('%s: refused (77), doctor reports it', async (_what, sub, dirMode, message) => {
    const { store, env } = copyStore();
    chmodSync(join(store, sub), dirMode);
    const before = treeDigest(store);
    expectCleanRefusal(await runInProcess(['list'], { env }), 77, message);
    expectCleanRefusal(
      await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'gw.csr'), '--force'], { env }),
      77,
      message,
    );
    const doctor = await runInProcess(['doctor', '--offline'], { env });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL\s+store\s+refused: /);
    expect(doctor.stdout).toMatch(/hint: chmod go-w /);
    expect(mode(join(store, sub))).toBe(dirMode);
    expect(treeDigest(store)).toBe(before);
  });

  it('a 0750 store is used as it is: a refusal (wrong passphrase) leaves it 0750, and so does a success', async () => {
    const { store, env } = copyStore();
    chmodSync(store, 0o750);
    const before = treeDigest(store);
    const r = await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'm.csr'), '--force'], {
      env: { ...env, APNS_CERT_PASSPHRASE: 'wrong' },
    });
    expect(r.code, r.stderr).toBe(77);
    expect(mode(store)).toBe(0o750);
    expect(treeDigest(store)).toBe(before);
    expect((await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'm.csr'), '--force'], { env })).code).toBe(
      0,
    );
    expect(mode(store)).toBe(0o750);
    // doctor says what the tool does not change on its own
    expect((await runInProcess(['doctor', '--offline'], { env })).stdout).toMatch(
      /FAIL\s+store-permissions\s+.*is 750, not 700/,
    );
  });
});

describe('output files are put in place by rename, never written through a link or in place', () => {
  const targets: Array<[string, (out: string) => string[], number, RegExp]> = [
    ['csr --out', (out) => ['csr', '--name', 'acme', '--out', out, '--force'], 0o644, /BEGIN CERTIFICATE REQUEST/],
    [
      'renew --csr-out',
      (out) => ['renew', 'acme', '--apple-id', 'a@b.example', '--csr-out', out, '--force', '--yes'],
      0o644,
      /BEGIN CERTIFICATE REQUEST/,
    ],
    ['export --pem', (out) => ['export', 'acme', '--pem', out, '--force'], 0o600, /BEGIN PRIVATE KEY/],
    [
      'export --p12',
      (out) => ['export', 'acme', '--p12', out, '--password-file', join(work, 'p12.pass'), '--force'],
      0o600,
      /./,
    ],
    [
      'export --pem --cert-only',
      (out) => ['export', 'acme', '--pem', out, '--cert-only', '--force'],
      0o600,
      /BEGIN CERTIFICATE/,
    ],
    [
      'vendor-sign --out',
      (out) => [
        'vendor-sign',
        '--csr',
        join(work, 'acme.csr'),
        '--vendor-cert',
        join(work, 'vendor.pem'),
        '--vendor-key',
        join(work, 'vendor.key'),
        '--chain',
        join(work, 'chain.pem'),
        '--out',
        out,
        '--force',
      ],
      0o644,
      /^[A-Za-z0-9+/=]+$/,
    ],
    [
      'check-expiry --output',
      (out) => ['check-expiry', '--format', 'prometheus', '--output', out],
      0o644,
      /apns_cert_check_success 1/,
    ],
  ];

  it.each(targets)(
    '%s --force over a symbolic link: the link is replaced, the file it pointed at is unchanged',
    async (_what, args, fileMode, content) => {
      const { dir, env } = copyStore();
      const victim = join(dir, 'victim.conf');
      writeFileSync(victim, 'not yours\n', { mode: 0o644 });
      const out = join(dir, 'out');
      symlinkSync(victim, out);
      const r = await runInProcess(args(out), { env });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(victim, 'utf8')).toBe('not yours\n');
      expect(mode(victim)).toBe(0o644);
      expect(lstatSync(out).isSymbolicLink()).toBe(false);
      expect(mode(out)).toBe(fileMode);
      expect(readFileSync(out, 'latin1')).toMatch(content);
      // no temporary file is left beside it
      expect(readdirSync(dir).sort()).toEqual(['out', 'store', 'victim.conf']);
    },
  );

  it('export --force: a reader that opened the old 0644 file keeps reading the old file, never the new key', async () => {
    const { dir, env } = copyStore();
    const out = join(dir, 'push.pem');
    writeFileSync(out, 'old contents, world-readable\n', { mode: 0o644 });
    const fd = openSync(out, 'r');
    try {
      const r = await runInProcess(['export', 'acme', '--pem', out, '--force'], { env });
      expect(r.code, r.stderr).toBe(0);
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, 0);
      expect(buf.subarray(0, n).toString()).toBe('old contents, world-readable\n');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(out, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
    expect(mode(out)).toBe(0o600);
  });

  it('without --force, a dangling symbolic link counts as an existing file: refused (73), nothing created where it points', async () => {
    const { dir, env } = copyStore();
    const out = join(dir, 'out.pem');
    symlinkSync(join(dir, 'nowhere.pem'), out);
    expectCleanRefusal(await runInProcess(['export', 'acme', '--pem', out], { env }), 73, /already exists/);
    expect(existsSync(join(dir, 'nowhere.pem'))).toBe(false);
    expect(readlinkSync(out)).toBe(join(dir, 'nowhere.pem'));
  });
});

describe('no output path may lie inside the store', () => {
  const cases: Array<[string, (store: string, dir: string) => string[]]> = [
    [
      'csr --out <store>/master-key.json --force',
      (s) => ['csr', '--name', 'acme', '--out', join(s, 'master-key.json'), '--force'],
    ],
    [
      'csr --out through a symbolic link to the store',
      (_s, d) => ['csr', '--name', 'acme', '--out', join(d, 'link', 'master-key.json'), '--force'],
    ],
    [
      'csr --out through a link to keys/',
      (_s, d) => ['csr', '--name', 'acme', '--out', join(d, 'keys-link', 'new.key'), '--force'],
    ],
    [
      'csr --out with ..',
      (_s, d) => ['csr', '--name', 'acme', '--out', `${d}/elsewhere/../store/index.json`, '--force'],
    ],
    ['csr --out a new directory inside the store', (s) => ['csr', '--name', 'acme', '--out', join(s, 'new', 'a.csr')]],
    [
      'csr --request-out',
      (s) => [
        'csr',
        '--name',
        'acme',
        '--out',
        join(work, 'req.csr'),
        '--force',
        '--vendor-cert',
        join(work, 'vendor.pem'),
        '--vendor-key',
        join(work, 'vendor.key'),
        '--chain',
        join(work, 'chain.pem'),
        '--request-out',
        join(s, 'index.json'),
      ],
    ],
    [
      'renew --csr-out',
      (s) => ['renew', 'acme', '--apple-id', 'a@b.example', '--csr-out', join(s, 'index.json'), '--force', '--yes'],
    ],
    ['export --pem', (s) => ['export', 'acme', '--pem', join(s, 'index.json'), '--force']],
    [
      'export --p12 <store> itself',
      (s) => ['export', 'acme', '--p12', s, '--force', '--password-file', join(work, 'p12.pass')],
    ],
    [
      'vendor-sign --out',
      (s) => [
        'vendor-sign',
        '--csr',
        join(work, 'acme.csr'),
        '--vendor-cert',
        join(work, 'vendor.pem'),
        '--vendor-key',
        join(work, 'vendor.key'),
        '--chain',
        join(work, 'chain.pem'),
        '--out',
        join(s, 'master-key.json'),
        '--force',
      ],
    ],
  ];

  it.each(cases)('%s: refused (73) before any work, the store byte-identical', async (_what, args) => {
    const { dir, store, env } = copyStore();
    symlinkSync(store, join(dir, 'link'));
    symlinkSync(join(store, 'keys'), join(dir, 'keys-link'));
    mkdirSync(join(dir, 'elsewhere'));
    const before = treeDigest(store);
    expectCleanRefusal(await runInProcess(args(store, dir), { env }), 73, /inside the store/);
    expect(treeDigest(store)).toBe(before);
    // and the store still opens with its passphrase
    expect((await runInProcess(['export', 'acme', '--pem', join(dir, 'proof.pem')], { env })).code).toBe(0);
  });

  it('check-expiry --output <store>/expiry.json: UNKNOWN (3), the store byte-identical', async () => {
    const { store, env } = copyStore();
    const before = treeDigest(store);
    const r = await runInProcess(['check-expiry', '--format', 'prometheus', '--output', join(store, 'expiry.json')], {
      env,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/inside the store/);
    expect(treeDigest(store)).toBe(before);
  });
});

describe('modes under umask 000, and refusals that leave no trace', () => {
  it('a new store, its keys/, and the parent directories of a CSR and an export are 0700; files 0600 (CSR 0644)', async () => {
    const dir = tempDir();
    const store = join(dir, 'new', 'store');
    const env = cleanEnv({ APNS_CERT_STORE: store, ...PASS });
    let r = await runUmask000(['csr', '--name', 'acme', '--out', join(dir, 'csrs', 'deep', 'acme.csr')], env, dir);
    expect(r.code, r.stderr).toBe(0);
    for (const d of [join(dir, 'new'), store, join(store, 'keys'), join(dir, 'csrs'), join(dir, 'csrs', 'deep')])
      expect(mode(d), d).toBe(0o700);
    for (const f of ['index.json', 'master-key.json', ...readdirSync(join(store, 'keys')).map((k) => `keys/${k}`)])
      expect(mode(join(store, f)), f).toBe(0o600);
    expect(mode(join(dir, 'csrs', 'deep', 'acme.csr'))).toBe(0o644);

    signCsrFile(ca, join(dir, 'csrs', 'deep', 'acme.csr'), join(dir, 'acme.pem'), {
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 90),
    });
    r = await runUmask000(['import', join(dir, 'acme.pem')], env, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(store, 'certs'))).toBe(0o700);
    r = await runUmask000(['export', 'acme', '--pem', join(dir, 'mdm', 'etc', 'push.pem')], env, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(dir, 'mdm'))).toBe(0o700);
    expect(mode(join(dir, 'mdm', 'etc'))).toBe(0o700);
    expect(mode(join(dir, 'mdm', 'etc', 'push.pem'))).toBe(0o600);
  });

  it.each([
    [
      'import of a certificate with no key anywhere (65)',
      (dir: string) => {
        const other = join(dir, 'other.pem');
        cpSync(join(work, 'acme.pem'), other);
        return { args: ['import', other], code: 65 };
      },
    ],
    [
      'import of a file that is not a certificate (65)',
      (dir: string) => {
        writeFileSync(join(dir, 'junk.pem'), 'junk');
        return { args: ['import', join(dir, 'junk.pem')], code: 65 };
      },
    ],
  ])('a refusal on a store that does not exist yet creates nothing: %s', async (_what, setup) => {
    const dir = tempDir();
    const store = join(dir, 'parent', 'store');
    const { args, code } = setup(dir);
    const r = await runUmask000(args, cleanEnv({ APNS_CERT_STORE: store, ...PASS }), dir);
    expect(r.code, r.stderr).toBe(code);
    expect(existsSync(join(dir, 'parent'))).toBe(false);
  });
});

/** Whether this process may mount (root with CAP_SYS_ADMIN): the read-only cases use a real read-only bind mount. */
function canMount(): boolean {
  if (!isRoot) return false;
  const probe = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mountable = canMount();
if (!mountable)
  console.warn('skipping the read-only file system and bind-mount cases: mounting needs root with CAP_SYS_ADMIN');

describe.skipIf(!mountable)('a store on a read-only file system, and a store seen through a bind mount', () => {
  const mounts: string[] = [];
  const bindMount = (source: string, readOnly: boolean): string => {
    const target = tempDir();
    execFileSync('mount', ['--bind', source, target]);
    mounts.push(target);
    if (readOnly) execFileSync('mount', ['-o', 'remount,bind,ro', target]);
    return target;
  };
  afterAll(() => {
    for (const m of mounts.reverse()) execFileSync('umount', [m]);
  });

  it('an existing store mounted read-only: the error names the real cause and a hint, never "create the store"', async () => {
    const { store } = copyStore();
    const ro = bindMount(store, true);
    const env = cleanEnv({ APNS_CERT_STORE: ro, ...PASS });
    const r = await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'ro.csr'), '--force'], { env });
    expectCleanRefusal(r, 73, new RegExp(`update the store ${ro}: its file system is mounted read-only`));
    expect(r.stderr).not.toMatch(/create the store/);
    expect(r.stderr).toMatch(new RegExp(`hint: findmnt -T ${ro}`));
    // reading still works
    expect((await runInProcess(['list'], { env })).code).toBe(0);
  });

  it('a new store below a read-only mount: "create the store", with the hint', async () => {
    const ro = bindMount(tempDir(), true);
    const r = await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'ro2.csr'), '--force'], {
      env: cleanEnv({ APNS_CERT_STORE: join(ro, 'store'), ...PASS }),
    });
    expectCleanRefusal(r, 73, /create the store .*read-only file system/);
    expect(r.stderr).toMatch(/hint: findmnt -T /);
  });

  it('an export onto a full file system (a real full tmpfs): 73 with a hint, and the directories made for it are gone', async () => {
    const { env } = copyStore();
    const full = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
    mounts.push(full);
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4k', 'count=64'], { stdio: 'ignore' });
    } catch {
      // dd stops with "No space left on device": the file system is full, as intended
    }
    const r = await runInProcess(['export', 'acme', '--pem', join(full, 'mdm', 'etc', 'push.pem')], { env });
    expectCleanRefusal(r, 73, /no space left on device/i);
    expect(r.stderr).toMatch(new RegExp(`hint: df -h ${join(full, 'mdm', 'etc')}`));
    expect(readdirSync(full)).toEqual(['filler']);
  });

  it('an output path inside the store through a bind mount of it is refused (73), the store byte-identical', async () => {
    const { store, env } = copyStore();
    const view = bindMount(store, false);
    const before = treeDigest(store);
    expectCleanRefusal(
      await runInProcess(['csr', '--name', 'acme', '--out', join(view, 'master-key.json'), '--force'], { env }),
      73,
      /inside the store/,
    );
    expect(treeDigest(store)).toBe(before);
  });
});
