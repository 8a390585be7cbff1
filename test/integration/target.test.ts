/**
 * `target add | list | remove` on the real file store: targets kept in the index, credentials sealed in
 * secrets/ (never in the index, never in clear at rest, never in any output), refusals that change nothing,
 * a crafted index refused as damaged, doctor's view of the secrets.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, treeDigest } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa } from '../helpers/fake-apple.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

const work = tempDir();
const file = (name: string) => join(work, name);
/** A credential no run may show and no store file may hold in clear. */
const CREDENTIAL = `cred-${randomBytes(24).toString('base64url')}`;
const outputs: CliResult[] = [];

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const r = await runInProcess(args, { env });
  outputs.push(r);
  return r;
}

beforeAll(() => {
  writeFileSync(file('cred'), `${CREDENTIAL}\n`);
  writeFileSync(file('other-cred'), `other-${CREDENTIAL}\n`);
  writeFileSync(file('empty'), '\n');
  writeFileSync(file('latin1'), Buffer.from([0x70, 0xe4, 0x73, 0x73]));
  writeFileSync(file('two-lines'), 'token-part-one\ntoken-part-two\n');
  writeFileSync(file('euro'), 'fleet-token-\u20ac\n');
  writeFileSync(file('not-a-ca.pem'), 'hello\n');
});

/** A store with a record "acme" (a pending CSR). */
async function newStore(extra: Record<string, string> = {}) {
  const env = inProcessEnv(extra);
  const store = env.APNS_CERT_STORE!;
  const r = await cli(['csr', '--name', 'acme', '--out', join(tempDir(), 'acme.csr.pem')], env);
  expect(r.code, r.stderr).toBe(0);
  return { env, store };
}

function storeFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile());
}

/** The files under `dir` that hold the credential: its bytes, its base64 or its hex. */
function leaks(dir: string, credential = CREDENTIAL): string[] {
  const forms = [credential, Buffer.from(credential).toString('base64'), Buffer.from(credential).toString('hex')];
  return storeFiles(dir).filter((path) => {
    const bytes = readFileSync(path);
    return forms.some((form) => bytes.includes(form));
  });
}

/** The credential in no file of the store (which has files to look at). */
function expectNotInClear(store: string, credential = CREDENTIAL): void {
  expect(storeFiles(store).length).toBeGreaterThan(3);
  expect(leaks(store, credential).map((p) => relative(store, p))).toEqual([]);
}

const listJson = async (env: NodeJS.ProcessEnv, name?: string) => {
  const r = await cli(['target', 'list', ...(name ? [name] : []), '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { schemaVersion: number; targets: Array<Record<string, unknown>> };
};

const secretsOf = (store: string) =>
  existsSync(join(store, 'secrets')) ? readdirSync(join(store, 'secrets')).filter((f) => f.endsWith('.sealed')) : [];

describe('target add | list | remove', () => {
  it('adds a server target with its credential sealed, lists it, shows it, removes it and its secret', async () => {
    const { env, store } = await newStore();
    let r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'nanomdm',
        '--url',
        'http://127.0.0.1:9000',
        '--credential-file',
        file('cred'),
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('nanomdm\n');
    const [secret] = secretsOf(store);
    expect(secret).toMatch(/^[0-9a-f]{64}\.sealed$/);
    expect(statSync(join(store, 'secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(join(store, 'secrets', secret!)).mode & 0o777).toBe(0o600);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    expect(index.records.acme.targets).toEqual([
      {
        label: 'nanomdm',
        kind: 'nanomdm',
        url: 'http://127.0.0.1:9000',
        credentialId: secret!.replace('.sealed', ''),
        addedAt: expect.any(String),
      },
    ]);
    expect(index.records.acme.deployments).toEqual([]);

    r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'file',
        '--path',
        file('push.pem'),
        '--key-format',
        'pkcs1',
        '--after',
        'systemctl restart micromdm',
        '--label',
        'disk',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['target', 'add', 'acme', '--kind', 'fleet', '--url', 'https://fleet.example.com/'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no credential/);

    const listed = await listJson(env);
    expect(listed).toEqual({
      schemaVersion: 1,
      targets: [
        { name: 'acme', label: 'nanomdm', kind: 'nanomdm', url: 'http://127.0.0.1:9000' },
        { name: 'acme', label: 'disk', kind: 'file', url: null, path: file('push.pem') },
        { name: 'acme', label: 'fleet', kind: 'fleet', url: 'https://fleet.example.com/' },
      ],
    });
    expect(await listJson(env, 'acme')).toEqual(listed);
    const text = await cli(['target', 'list'], env);
    expect(text.stdout).toMatch(
      /^NAME\s+LABEL\s+KIND\s+WHERE\nacme\s+nanomdm\s+nanomdm\s+http:\/\/127\.0\.0\.1:9000\n/,
    );

    const shown = await cli(['show', 'acme'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /targets:\n {2}nanomdm\s+nanomdm\s+http:\/\/127\.0\.0\.1:9000, credential sealed\n {2}disk\s+file\s+\S+push\.pem\n {2}fleet/,
    );
    const shownJson = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout);
    expect(shownJson.targets.map((t: { label: string; credential: boolean }) => [t.label, t.credential])).toEqual([
      ['nanomdm', true],
      ['disk', false],
      ['fleet', false],
    ]);
    expect(shownJson.deployments).toEqual([]);
    expectNotInClear(store);

    r = await cli(['target', 'remove', 'acme', 'nanomdm', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ schemaVersion: 1, name: 'acme', removed: 'nanomdm', kind: 'nanomdm' });
    expect(secretsOf(store)).toEqual([]);
    expect((await listJson(env)).targets.map((t) => t.label)).toEqual(['disk', 'fleet']);
    r = await cli(['target', 'remove', 'acme', 'nanomdm'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no target "nanomdm" \(its targets: disk, fleet\)\nhint: apns-cert target list acme\n$/);
  });

  it('keeps the --ca-file certificates (CRLF or not) as canonical PEM in the index', async () => {
    const { env, store } = await newStore();
    const ca = createFakeCa();
    writeFileSync(file('ca-crlf.pem'), `junk before\r\n${ca.pem.replace(/\n/g, '\r\n')}`);
    const r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'fleet',
        '--url',
        'https://fleet.example.com',
        '--ca-file',
        file('ca-crlf.pem'),
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    expect(index.records.acme.targets[0].caPem).toBe(new X509Certificate(ca.pem).toString());
    expect((await cli(['target', 'list'], env)).code).toBe(0);
  });

  it('a label the record has is refused (64), --force replaces it and deletes the old sealed credential', async () => {
    const { env, store } = await newStore();
    const add = (cred: string, ...more: string[]) =>
      cli(
        [
          'target',
          'add',
          'acme',
          '--kind',
          'micromdm',
          '--url',
          'https://mdm.example.com',
          '--credential-file',
          file(cred),
          ...more,
        ],
        env,
      );
    expect((await add('cred')).code).toBe(0);
    const [first] = secretsOf(store);
    const before = treeDigest(store);
    const dup = await add('other-cred');
    expect(dup.code).toBe(64);
    expect(dup.stderr).toMatch(/already has a target "micromdm".*nothing was changed\nhint: .*--force/);
    expect(treeDigest(store)).toBe(before);
    const forced = await add('other-cred', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/Replaced the target "micromdm"/);
    const after = secretsOf(store);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(first);
    expectNotInClear(store, `other-${CREDENTIAL}`);
  });

  it.each([
    ['an unknown kind', ['--kind', 'jamf', '--url', 'https://x.example'], /argument 'jamf' is invalid/],
    [
      'http to a host that is not loopback',
      ['--kind', 'nanomdm', '--url', 'http://mdm.example.com'],
      /only for a loopback address[\s\S]*hint: apns-cert target add acme --kind nanomdm --url https:/,
    ],
    ['http to a private address', ['--kind', 'nanomdm', '--url', 'http://10.1.2.3:9000'], /loopback/],
    [
      'a URL with a user and password',
      ['--kind', 'nanomdm', '--url', 'https://nanomdm:key@mdm.example.com'],
      /user or password/,
    ],
    ['a server kind without --url', ['--kind', 'fleet'], /--kind fleet needs --url/],
    [
      '--url with kind file',
      ['--kind', 'file', '--url', 'https://x.example', '--path', '/tmp/x.pem'],
      /--url is not for --kind file/,
    ],
    [
      '--credential-file with kind file',
      ['--kind', 'file', '--path', '/tmp/x.pem', '--credential-file', 'CRED'],
      /--credential-file is not for --kind file/,
    ],
    ['kind file without --path', ['--kind', 'file'], /--kind file needs --path/],
    ['a relative --path', ['--kind', 'file', '--path', 'push.pem'], /--path must be an absolute path/],
    [
      '--path with a server kind',
      ['--kind', 'nanomdm', '--url', 'https://x.example', '--path', '/tmp/x'],
      /--path is only for --kind file/,
    ],
    [
      'a label that breaks the naming rule',
      ['--kind', 'nanomdm', '--url', 'https://x.example', '--label', '../x'],
      /names are 1-64/,
    ],
    [
      'an empty credential file',
      ['--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', 'EMPTY'],
      /is empty/,
    ],
    [
      'a credential file that is not UTF-8',
      ['--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', 'LATIN1'],
      /UTF-8/,
    ],
    [
      'a credential file of two lines (it would go into an HTTP header)',
      ['--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', 'TWO_LINES'],
      /holds a control or invisible character \(U\+000A\); an API key or token is one line/,
    ],
    [
      'a Fleet token with a character an HTTP header cannot carry raw',
      ['--kind', 'fleet', '--url', 'https://x.example', '--credential-file', 'EURO'],
      /holds a character a Fleet API token does not have \(U\+20AC\); an API key or token is one line of printable ASCII/,
    ],
  ])('refuses %s with 64 and changes nothing', async (_what, args, message) => {
    const { env, store } = await newStore();
    const before = treeDigest(store);
    const resolved = args.map(
      (a) =>
        ({
          CRED: file('cred'),
          EMPTY: file('empty'),
          LATIN1: file('latin1'),
          TWO_LINES: file('two-lines'),
          EURO: file('euro'),
        })[a] ?? a,
    );
    const r = await cli(['target', 'add', 'acme', ...resolved], env);
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nhint: /);
    expect(treeDigest(store)).toBe(before);
    expect(secretsOf(store)).toEqual([]);
  });

  it('takes a credential file that ends in blank lines (an editor added one), the lines dropped', async () => {
    const { env, store } = await newStore();
    writeFileSync(file('blank-lines'), 'api-token\n\r\n\n');
    const r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'fleet',
        '--url',
        'https://x.example',
        '--credential-file',
        file('blank-lines'),
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(secretsOf(store)).toHaveLength(1);
  });

  it('refuses an unknown record (64), a missing credential file (66) and a --ca-file that holds no certificate (65)', async () => {
    const { env, store } = await newStore();
    const before = treeDigest(store);
    const base = ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', 'https://x.example'];
    let r = await cli(
      ['target', 'add', 'nope', '--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', file('cred')],
      env,
    );
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no record "nope"/);
    r = await cli([...base, '--credential-file', file('missing')], env);
    expect(r.code).toBe(66);
    r = await cli([...base, '--credential-file', file('cred'), '--ca-file', file('not-a-ca.pem')], env);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/holds no PEM certificate/);
    r = await cli(['target', 'list', 'nope'], env);
    expect(r.code).toBe(64);
    r = await cli(['target', 'remove', 'nope', 'nanomdm'], env);
    expect(r.code).toBe(64);
    expect(treeDigest(store)).toBe(before);
  });

  it.each([
    ['a target label "../x"', { label: '../x' }],
    ['a credentialId "../../k"', { credentialId: '../../k' }],
    ['a kind the tool does not know', { kind: 'ssh' }],
  ])('a crafted index with %s is a damaged index (65) for every command that reads it', async (_what, patch) => {
    const { env, store } = await newStore();
    const r = await cli(
      ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', file('cred')],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const path = join(store, 'index.json');
    const index = JSON.parse(readFileSync(path, 'utf8'));
    Object.assign(index.records.acme.targets[0], patch);
    writeFileSync(path, JSON.stringify(index));
    for (const args of [['target', 'list'], ['show', 'acme'], ['target', 'remove', 'acme', 'nanomdm'], ['list']]) {
      const damaged = await cli(args, env);
      expect(damaged.code, `${args.join(' ')}: ${damaged.stderr}`).toBe(65);
      expect(damaged.stderr).toMatch(/record "acme" targets\[0\]/);
    }
  });

  it('doctor reports a secret no target names (orphan) and one a target names that is missing', async () => {
    const { env, store } = await newStore();
    const r = await cli(
      ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', file('cred')],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const doctor = async () => {
      const d = await cli(['doctor', '--offline', '--json'], env);
      return Object.fromEntries(
        (JSON.parse(d.stdout).checks as Array<{ check: string; status: string; message: string }>).map((c) => [
          c.check,
          c,
        ]),
      );
    };
    let checks = await doctor();
    expect(checks['store-files']!.status).toBe('ok');
    expect(checks['store-orphans']!.status).toBe('ok');
    const [secret] = secretsOf(store);
    const orphan = 'cd'.repeat(32);
    writeFileSync(join(store, 'secrets', `${orphan}.sealed`), readFileSync(join(store, 'secrets', secret!)), {
      mode: 0o600,
    });
    checks = await doctor();
    expect(checks['store-orphans']!.status).toBe('warn');
    expect(checks['store-orphans']!.message).toMatch(/1 secret file\(s\) belong to no record: cdcdcdcdcdcdcdcd/);
    rmSync(join(store, 'secrets', secret!));
    checks = await doctor();
    expect(checks['store-files']!.status).toBe('fail');
    expect(checks['store-files']!.message).toMatch(
      new RegExp(`acme target nanomdm: secret ${secret!.slice(0, 16)}… is missing`),
    );
    writeFileSync(join(store, 'secrets', 'x.sealed'), 'x', { mode: 0o644 });
    checks = await doctor();
    expect(checks['store-permissions']!.message).toMatch(/secrets\/x\.sealed is 644, not 600/);
  });

  it('a secrets/ directory that others may write to makes the store unsafe (77)', async () => {
    const { env, store } = await newStore();
    const r = await cli(
      ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', file('cred')],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const { chmodSync } = await import('node:fs');
    chmodSync(join(store, 'secrets'), 0o777);
    const listed = await cli(['target', 'list'], env);
    expect(listed.code).toBe(77);
    expect(listed.stderr).toMatch(/secrets is writable by group and others/);
  });

  it("retire --purge deletes the record and its targets' sealed credentials", async () => {
    const { env, store } = await newStore();
    const r = await cli(
      ['target', 'add', 'acme', '--kind', 'nanomdm', '--url', 'https://x.example', '--credential-file', file('cred')],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(secretsOf(store)).toHaveLength(1);
    const purged = await cli(['retire', 'acme', '--purge', '--yes'], env);
    expect(purged.code, purged.stderr).toBe(0);
    expect(secretsOf(store)).toEqual([]);
  });

  it('with APNS_CERT_DEBUG=1, on success and on errors, no output holds the credential', async () => {
    const { env, store } = await newStore({ APNS_CERT_DEBUG: '1' });
    const add = [
      'target',
      'add',
      'acme',
      '--kind',
      'nanomdm',
      '--url',
      'https://x.example',
      '--credential-file',
      file('cred'),
    ];
    expect((await cli(add, env)).code).toBe(0);
    expect((await cli(add, env)).code).toBe(64); // duplicate
    expect((await cli([...add, '--label', 'second', '--ca-file', file('not-a-ca.pem')], env)).code).toBe(65);
    expect((await cli(['--json', ...add, '--label', 'third'], env)).code).toBe(0);
    for (const args of [
      ['target', 'list'],
      ['target', 'list', '--json'],
      ['show', 'acme'],
      ['show', 'acme', '--json'],
      ['doctor', '--offline'],
    ])
      await cli(args, env);
    writeFileSync(join(store, 'secrets', `${'ef'.repeat(32)}.sealed`), 'not a box', { mode: 0o600 });
    await cli(['doctor', '--offline', '--json'], env);
    expectNotInClear(store);
  });
});

describe('target, end to end through the built CLI', () => {
  it('adds, lists and shows in spawned processes; the credential is in no output and no store file', async () => {
    const env = inProcessEnv({ APNS_CERT_DEBUG: '1' });
    const store = env.APNS_CERT_STORE!;
    const spawned = async (args: string[]) => {
      const r = await runCli(args, { env });
      outputs.push(r);
      return r;
    };
    expect((await spawned(['csr', '--name', 'acme', '--out', file('e2e.csr.pem')])).code).toBe(0);
    const add = await spawned([
      'target',
      'add',
      'acme',
      '--kind',
      'nanohub',
      '--url',
      'https://hub.example.com/',
      '--credential-file',
      file('cred'),
      '--label',
      'hub',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const listed = await spawned(['target', 'list', '--json']);
    expect(JSON.parse(listed.stdout).targets).toEqual([
      { name: 'acme', label: 'hub', kind: 'nanohub', url: 'https://hub.example.com/' },
    ]);
    const bad = await spawned([
      'target',
      'add',
      'acme',
      '--kind',
      'nanohub',
      '--url',
      'http://hub.example.com',
      '--credential-file',
      file('cred'),
    ]);
    expect(bad.code).toBe(64);
    expect((await spawned(['show', 'acme'])).stdout).toMatch(
      /hub\s+nanohub\s+https:\/\/hub\.example\.com\/, credential sealed/,
    );
    expectNotInClear(store);
  });
});

describe('the scan', () => {
  it('finds the credential where it is in clear or in base64', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'clear'), `x${CREDENTIAL}x`);
    writeFileSync(join(dir, 'b64'), Buffer.from(CREDENTIAL).toString('base64'));
    writeFileSync(join(dir, 'none'), 'nothing');
    expect(
      leaks(dir)
        .map((p) => relative(dir, p))
        .sort(),
    ).toEqual(['b64', 'clear']);
  });
});

describe('the credential in output', () => {
  it('appears in no stdout or stderr of any run of this file', () => {
    expect(outputs.length).toBeGreaterThan(40);
    for (const r of outputs) {
      expect(r.stdout).not.toContain(CREDENTIAL);
      expect(r.stderr).not.toContain(CREDENTIAL);
      expect(r.stdout + r.stderr).not.toContain(Buffer.from(CREDENTIAL).toString('base64'));
    }
  });
});
