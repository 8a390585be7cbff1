import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL, cleanEnv, runCli, tempDir } from './cli.js';
import { inProcessEnv, runInProcess } from './in-process.js';

/** The in-process runner is only worth its speed if it answers exactly as the built CLI does. */
describe('runInProcess gives what the bundle gives: exit code, stdout and stderr', () => {
  const fixture = join(REAL, 'app-push_com.td.demo_2015_development-ios.pem');
  const cases: Array<[string, string[], { input?: string }?]> = [
    ['--help', ['--help']],
    ['a command help', ['inspect', '--help']],
    ['no command (usage error, help on stderr)', []],
    ['inspect of a fixture', ['inspect', fixture, '--at', '2016-01-01']],
    ['inspect --json of a fixture on stdin', ['inspect', '-', '--json', '--at', '2016-01-01'], { input: 'stdin' }],
    ['an unknown option', ['inspect', fixture, '--bogus']],
    ['an unknown command', ['inspcet']],
    ['a missing file', ['hash', join(tempDir(), 'nothing.pem')]],
    ['check-expiry on an empty store', ['check-expiry', '--json', '--at', '2020-01-01T00:00:00Z']],
  ];

  it.each(cases)('%s', async (_what, args, opts = {}) => {
    const env = cleanEnv({ APNS_CERT_STORE: join(tempDir(), 'store'), APNS_CERT_PASSPHRASE: 'same' });
    const input = opts.input === 'stdin' ? readFileSync(fixture, 'utf8') : '';
    const spawned = await runCli(args, { env, input });
    const inProcess = await runInProcess(args, { env, input });
    expect(inProcess).toEqual(spawned);
    expect(spawned.stdout + spawned.stderr).not.toBe('');
  });

  it('a change to the store: the same files and the same answers afterwards', async () => {
    const env = (store: string) => cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'same' });
    const [a, b] = [tempDir(), tempDir()];
    const csr = (dir: string) => ['csr', '--name', 'acme', '--out', join(dir, 'acme.csr'), '--json'];
    const spawned = await runCli(csr(a), { env: env(join(a, 'store')) });
    const inProcess = await runInProcess(csr(b), { env: env(join(b, 'store')) });
    expect(inProcess.code).toBe(spawned.code);
    expect(inProcess.stderr).toBe(spawned.stderr.replaceAll(a, b));
    expect(JSON.parse(inProcess.stdout).csrPath).toBe(join(b, 'acme.csr'));
    expect(readdirSync(join(b, 'store')).sort()).toEqual(readdirSync(join(a, 'store')).sort());
    const list = (dir: string) => runCli(['list', '--json'], { env: env(join(dir, 'store')) });
    expect((await list(b)).stdout).toBe((await list(a)).stdout);
  });

  it('cwd: a relative path is resolved there, and the test process is back in its own directory after', async () => {
    const dir = tempDir();
    const before = process.cwd();
    const r = await runInProcess(['csr', '--name', 'rel', '--out', 'rel.csr'], { env: inProcessEnv(), cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir)).toContain('rel.csr');
    expect(process.cwd()).toBe(before);
  });
});
