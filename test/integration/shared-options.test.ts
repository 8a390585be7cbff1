/**
 * Options defined once (src/commands/shared/options.ts) behave the same in every command that has them:
 * --at, --password-file (and $APNS_CERT_P12_PASSWORD), the thresholds, and the exit-code table of each help.
 * In-process through src/cli/main.ts run(io): the real parse, the real files, a .p12 made here.
 */
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireRecord } from '../../src/commands/shared/require-record.js';
import { emptyIndex } from '../../src/core/index-model.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { encodePkcs12 } from '../../src/core/pkcs12.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

let store: string;
let work: string;
let pem: string;
let p12: string;
let goodPassword: string;
let badPassword: string;
let notAfter: Date;
const topic = mdmTopic();
// the bundle's build defines the version; main.ts reads it when it is loaded
(globalThis as { APNS_CERT_VERSION?: string }).APNS_CERT_VERSION ??= '0.0.0-test';
const { COMMANDS, run } = await import('../../src/cli/main.js');

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv: ['node', 'apns-cert', ...args],
    env: { APNS_CERT_STORE: store, ...env },
    stdin: () => process.stdin,
    stderrStream: () => process.stderr,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    tty: { stdin: () => false, stdout: () => false, stderr: () => false },
  });
  return { code, stdout, stderr };
}

beforeAll(() => {
  store = tempDir();
  work = tempDir();
  const now = new Date();
  notAfter = daysFrom(now, 90);
  const key = newKeyPem();
  const certPem = issuePushCert(createFakeCa(), {
    publicKeyPem: key.publicPem,
    topic,
    notBefore: daysFrom(now, -1),
    notAfter,
  });
  pem = join(work, 'push.pem');
  writeFileSync(pem, certPem);
  const cert = decodeCertificateFile(Buffer.from(certPem), 'push.pem').certificates[0]!;
  p12 = join(work, 'push.p12');
  writeFileSync(
    p12,
    encodePkcs12(describePrivateKey(createPrivateKey(key.privatePem)), [cert], 'pw-123', {
      legacy: false,
      iterations: 2048,
      friendlyName: 'push',
    }),
  );
  goodPassword = join(work, 'good.pass');
  writeFileSync(goodPassword, 'pw-123\n', { mode: 0o600 });
  badPassword = join(work, 'bad.pass');
  writeFileSync(badPassword, 'not-it\n', { mode: 0o600 });
});

describe('--at: as of this instant, for everything a command prints', () => {
  // 29.5 days before notAfter: 29 whole days left
  const at = () => new Date(notAfter.getTime() - 29.5 * 86_400_000).toISOString();
  const after = () => new Date(notAfter.getTime() + 86_400_000).toISOString();

  it('inspect and check-expiry give the same days left, and inspect checks the chain at the same instant', async () => {
    const inspect = await cli(['--json', 'inspect', pem, '--at', at()]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const shown = JSON.parse(inspect.stdout) as { daysRemaining: number; expired: boolean; appleChain: unknown };
    expect(shown.daysRemaining).toBe(29);
    expect(shown.expired).toBe(false);
    expect(shown.appleChain).toMatchObject({ checkedAt: at() });
    const check = await cli(['check-expiry', '--json', pem, '--at', at()]);
    const checked = JSON.parse(check.stdout) as { certificates: Array<{ daysRemaining: number }> };
    expect(checked.certificates[0]!.daysRemaining).toBe(29);
    expect(check.code).toBe(1); // WARNING: fewer than 30 days left as of --at
  });

  it('after notAfter, inspect --at says expired in its text and JSON', async () => {
    const json = JSON.parse((await cli(['--json', 'inspect', pem, '--at', after()])).stdout) as {
      expired: boolean;
      daysRemaining: number;
    };
    expect(json).toMatchObject({ expired: true, daysRemaining: -2 });
    const text = await cli(['inspect', pem, '--at', after()]);
    expect(text.stdout).toMatch(/^not after .*expired/m);
    expect((await cli(['check-expiry', pem, '--at', after()])).code).toBe(2);
  });
});

describe('--password-file and $APNS_CERT_P12_PASSWORD for every command that reads a .p12', () => {
  // each: the arguments, the exit code when the password opens the .p12, and with a wrong one
  const cases: Array<[string, () => string[], number, number]> = [
    ['inspect', () => ['inspect', p12], 0, 77],
    ['hash', () => ['hash', p12], 0, 77],
    ['verify', () => ['verify', p12, '--topic', topic], 0, 77],
    ['check-expiry', () => ['check-expiry', p12], 0, 3],
    // a closed port: the .p12 opened, then no connection (69); a wrong password stops before (77)
    ['probe', () => ['probe', p12, '--apns-url', 'https://127.0.0.1:9'], 69, 77],
    // a new store each time: the same certificate is imported once per store
    ['import', () => ['--store', tempDir(), 'import', p12, '--name', 'imported'], 0, 77],
  ];
  const env = { APNS_CERT_PASSPHRASE: 'store-passphrase' };

  it.each(cases)('%s: --password-file opens it, a wrong one is refused', async (_name, args, ok, wrong) => {
    const good = await cli([...args(), '--password-file', goodPassword], env);
    expect(good.code, good.stderr + good.stdout).toBe(ok);
    const bad = await cli([...args(), '--password-file', badPassword], env);
    expect(bad.code, bad.stderr + bad.stdout).toBe(wrong);
    expect(bad.stderr + bad.stdout).toMatch(/password/);
  });

  it.each(cases)('%s: $APNS_CERT_P12_PASSWORD opens it', async (_name, args, ok) => {
    const r = await cli(args(), { ...env, APNS_CERT_P12_PASSWORD: 'pw-123' });
    expect(r.code, r.stderr + r.stdout).toBe(ok);
  });

  it('hash of the .p12 is the hash of its topic', async () => {
    const fromP12 = await cli(['hash', p12, '--password-file', goodPassword]);
    expect(fromP12.stdout).toBe((await cli(['hash', '--topic', topic])).stdout);
  });
});

describe('thresholds: one parser for every command that has them', () => {
  it.each([
    ['doctor', ['doctor', '--offline'], 64],
    ['check-expiry', ['check-expiry'], 3],
  ] as const)(
    '%s refuses --critical-days above --warn-days, and a days value that is no number',
    async (_n, args, code) => {
      const above = await cli([...args, '--warn-days', '3', '--critical-days', '99']);
      expect(above.code).toBe(code);
      expect(above.stderr + above.stdout).toMatch(/--critical-days \(99\) is larger than --warn-days \(3\)/);
      const word = await cli([...args, '--warn-days', 'abc', '--critical-days', '99']);
      expect(word.code).toBe(code);
      expect(word.stderr).toMatch(/whole number/);
    },
  );
});

describe('requireRecord', () => {
  it('refuses a name that breaks the naming rule, and names the store for an unknown one', () => {
    expect(() => requireRecord(emptyIndex('id', 'passphrase', new Date()), '../x', 'show', '/s')).toThrow(
      expect.objectContaining({ code: 'USAGE', hint: 'apns-cert list' }),
    );
    expect(() => requireRecord(emptyIndex('id', 'passphrase', new Date()), 'nobody', 'show', '/s')).toThrow(
      'show: no record "nobody" in the store /s',
    );
  });
  it('verify --name of an unknown record: 64 and the hint', async () => {
    const imported = await cli(['import', p12, '--name', 'known', '--password-file', goodPassword], {
      APNS_CERT_PASSPHRASE: 'store-passphrase',
    });
    expect(imported.code, imported.stderr).toBe(0);
    const r = await cli(['verify', pem, '--name', 'nobody']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^apns-cert: verify: no record "nobody" in the store/m);
    expect(r.stderr).toMatch(/^hint: apns-cert list$/m);
  });
});

describe('help', () => {
  const words = (c: (typeof COMMANDS)[number]) => [c.name, ...(c.subcommand === undefined ? [] : [c.subcommand])];
  it.each(COMMANDS.map((c) => [words(c).join(' '), c] as const))(
    '%s --help lists exactly the exit codes the command declares',
    async (_words, definition) => {
      const r = await cli([...words(definition), '--help']);
      expect(r.code).toBe(0);
      const table = r.stdout.split('EXIT CODES\n')[1]!.split('\n\n')[0]!;
      const codes = [...table.matchAll(/^ {2}(\d+) /gm)].map((m) => Number(m[1]));
      expect(codes).toEqual(definition.exitCodes.map(([code]) => code));
    },
  );
  it('hash --help lists 77 (a .p12 with a wrong password)', async () => {
    expect((await cli(['hash', '--help'])).stdout).toMatch(/^ {2}77 +wrong \.p12 password$/m);
  });
});

describe('settings', () => {
  it('commands and core never read the environment (src/cli/deps.ts reads it once into settings)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
    for (const file of [...files(join(ROOT, 'src/commands')), ...files(join(ROOT, 'src/core'))]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/process\.env|\benv\.[A-Z_]+|deps\.env/);
    }
  });
});
