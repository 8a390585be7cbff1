import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanEnv, hasStackTrace, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsr } from '../helpers/fake-apple.js';
import { dbusDaemonSkipReason, keychainSkipReason, startPrivateBus, startSilentBus } from '../helpers/keychain.js';

// The keychain call of the CLI goes to the D-Bus session bus; here that bus is broken in each way a real one can
// be, with real processes and sockets. The CLI must give up after APNS_CERT_KEYCHAIN_TIMEOUT_MS (10 s by
// default) with exit 69, and end at once on SIGINT/SIGTERM, the store as it was.

const noDaemon = dbusDaemonSkipReason();
const noKeychain = keychainSkipReason();
if (noDaemon) console.warn(`skipping the private-bus tests: ${noDaemon}`);
if (noKeychain) console.warn(`skipping the tests on an existing keychain store: ${noKeychain}`);

/** A D-Bus address broken one way; `ready` resolves once the CLI is waiting on it. */
type Broken = { address: string; ready: (store: string) => Promise<void>; gone?: Promise<void> | undefined };

const waitFor = async (what: () => boolean) => {
  while (!what()) await new Promise((resolve) => setTimeout(resolve, 50));
};
const lockHeld = (store: string) => () => existsSync(join(store, 'store.lock'));

/** Each test closes what it started (the tests of a file run at the same time). */
type Cleanup = (close: () => void) => void;

async function silent(mode: 'accept' | 'read' | 'auth', cleanup: Cleanup): Promise<Broken> {
  const bus = await startSilentBus(mode);
  cleanup(() => bus.close());
  return {
    address: bus.address,
    ready: async () => void (await (mode === 'auth' ? bus.began : bus.connected)),
    // a socket that is never read never sees the other end close
    gone: mode === 'accept' ? undefined : bus.disconnected,
  };
}

async function privateBus(stopped: boolean, cleanup: Cleanup): Promise<Broken> {
  const bus = await startPrivateBus();
  cleanup(() => bus.close());
  if (stopped) process.kill(bus.pid, 'SIGSTOP'); // the kernel still queues connections; the daemon never answers
  // nothing to observe on a stopped daemon: the CLI waits on it once the lock is held and a moment has passed
  return {
    address: bus.address,
    ready: async (store) => (await waitFor(lockHeld(store)), await new Promise((r) => setTimeout(r, 500))),
  };
}

const BROKEN: Array<[string, (cleanup: Cleanup) => Promise<Broken>, string | undefined]> = [
  ['a bus daemon that is stopped (SIGSTOP)', (c: Cleanup) => privateBus(true, c), noDaemon],
  ['a socket that accepts and never reads', (c: Cleanup) => silent('accept', c), undefined],
  ['a socket that reads and never writes', (c: Cleanup) => silent('read', c), undefined],
  ['a bus that answers the authentication handshake, then nothing', (c: Cleanup) => silent('auth', c), undefined],
  [
    'a socket path that does not exist',
    async () => ({ address: `unix:path=${join(tempDir(), 'no-such-bus')}`, ready: async () => undefined }),
    undefined,
  ],
  ['a bus with no Secret Service on it', (c) => privateBus(false, c), noDaemon],
];

/** The built CLI, started; `result` settles when it has ended (killed with SIGKILL after `killAfterMs`). */
function startCli(args: string[], env: NodeJS.ProcessEnv, killAfterMs: number) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const result = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, result };
}

/** A store with the keychain backend and record "a", made with the real Secret Service; `imported`: with a certificate. */
async function keychainStore({ imported = false } = {}): Promise<string> {
  const store = tempDir();
  const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_SECRET_BACKEND: 'keychain' });
  const csr = join(tempDir(), 'a.csr');
  const r = await runCli(['csr', '--name', 'a', '--out', csr], { env });
  expect(r.code, r.stderr).toBe(0);
  if (imported) {
    const cert = join(tempDir(), 'a.pem');
    writeFileSync(
      cert,
      signCsr(createFakeCa(), readFileSync(csr, 'utf8'), {
        topic: mdmTopic(),
        notBefore: daysFrom(new Date(), -1),
        notAfter: daysFrom(new Date(), 90),
      }),
    );
    const i = await runCli(['import', cert, '--name', 'a'], { env });
    expect(i.code, i.stderr).toBe(0);
  }
  return store;
}

describe.concurrent('a keychain call on a broken session bus ends with exit 69 within the 10 s limit', () => {
  it.for(BROKEN)(
    '%s: a new store (the master key is saved)',
    async ([, broken, skip], { skip: skipTest, onTestFinished }) => {
      if (skip !== undefined) skipTest(skip);
      const bus = await broken(onTestFinished);
      const store = join(tempDir(), 'store');
      const env = cleanEnv({
        APNS_CERT_STORE: store,
        DBUS_SESSION_BUS_ADDRESS: bus.address,
        APNS_CERT_SECRET_BACKEND: 'keychain',
      });
      // killed (code null) if still running after 18 s: start-up and the default 10 s, with room for a busy machine
      const { result } = startCli(['csr', '--name', 'acme', '--out', `${store}.csr`], env, 18_000);
      const r = await result;
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toMatch(/^apns-cert: reach the OS keychain: /);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(existsSync(join(store, 'index.json'))).toBe(false);
      expect(existsSync(join(store, 'store.lock'))).toBe(false);
      expect(existsSync(`${store}.csr`)).toBe(false);
      await bus.gone; // the abandoned keychain process is gone: its end of the connection closed
    },
  );

  it.for(BROKEN.filter(([name]) => /stopped|handshake/.test(name)))(
    '%s: an existing store (the master key is read), APNS_CERT_KEYCHAIN_TIMEOUT_MS=2000 honoured',
    async ([, broken, skip], { skip: skipTest, onTestFinished }) => {
      const reason = skip ?? noKeychain;
      if (reason !== undefined) skipTest(reason);
      const store = await keychainStore();
      const before = treeDigest(store);
      const bus = await broken(onTestFinished);
      const env = cleanEnv({
        APNS_CERT_STORE: store,
        DBUS_SESSION_BUS_ADDRESS: bus.address,
        APNS_CERT_KEYCHAIN_TIMEOUT_MS: '2000',
      });
      // killed after 8 s: the 10 s default would not make it
      const r = await startCli(['csr', '--name', 'b', '--out', join(tempDir(), 'b.csr')], env, 8_000).result;
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toMatch(/^apns-cert: reach the OS keychain: the keychain did not answer within 2 s/);
      expect(treeDigest(store)).toBe(before);
      await bus.gone;
    },
  );
});

describe.concurrent('the keychain process', () => {
  it('export on a stopped bus daemon (the report: still running at 40 s): exit 69 within APNS_CERT_KEYCHAIN_TIMEOUT_MS', async ({
    skip: skipTest,
    onTestFinished,
  }) => {
    const reason = noDaemon ?? noKeychain;
    if (reason !== undefined) skipTest(reason);
    const store = await keychainStore({ imported: true });
    const bus = await privateBus(true, onTestFinished);
    const out = join(tempDir(), 'a-export.pem');
    const env = cleanEnv({
      APNS_CERT_STORE: store,
      DBUS_SESSION_BUS_ADDRESS: bus.address,
      APNS_CERT_KEYCHAIN_TIMEOUT_MS: '2000',
    });
    const r = await startCli(['export', 'a', '--pem', out], env, 8_000).result; // the 10 s default would not make it
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toMatch(/^apns-cert: reach the OS keychain: the keychain did not answer within 2 s/);
    expect(existsSync(out)).toBe(false);
  });

  it('ends itself when the CLI is killed with SIGKILL while it waits (no process is left on the bus)', async ({
    onTestFinished,
  }) => {
    const bus = await silent('read', onTestFinished);
    const store = join(tempDir(), 'store');
    const env = cleanEnv({
      APNS_CERT_STORE: store,
      DBUS_SESSION_BUS_ADDRESS: bus.address,
      APNS_CERT_SECRET_BACKEND: 'keychain',
      APNS_CERT_KEYCHAIN_TIMEOUT_MS: '60000',
    });
    const { child, result } = startCli(['csr', '--name', 'acme', '--out', `${store}.csr`], env, 30_000);
    await bus.ready(store);
    child.kill('SIGKILL');
    expect((await result).signal).toBe('SIGKILL');
    await bus.gone; // the keychain process's connection closed: it is gone too (else the test times out)
  });
});

describe.concurrent('SIGINT and SIGTERM end a command waiting on a hung keychain at once, the store as it was', () => {
  // The keychain limit is set to a minute: a signal that is not acted on leaves the CLI to the 20 s kill timer.
  const patient = { APNS_CERT_KEYCHAIN_TIMEOUT_MS: '60000' };

  it.for([
    ['SIGINT', 130, 'a socket that reads and never writes', (c: Cleanup) => silent('read', c)],
    [
      'SIGTERM',
      143,
      'a bus that answers the authentication handshake, then nothing',
      (c: Cleanup) => silent('auth', c),
    ],
  ] as const)(
    '%s (exit %i) on an existing store, %s: lock released, nothing changed',
    async ([signal, code, , broken], { skip: skipTest, onTestFinished }) => {
      if (noKeychain !== undefined) skipTest(noKeychain);
      const store = await keychainStore();
      const before = treeDigest(store);
      const bus = await broken(onTestFinished);
      const env = cleanEnv({ APNS_CERT_STORE: store, DBUS_SESSION_BUS_ADDRESS: bus.address, ...patient });
      const { child, result } = startCli(['csr', '--name', 'b', '--out', join(tempDir(), 'b.csr')], env, 20_000);
      await bus.ready(store);
      await waitFor(lockHeld(store));
      child.kill(signal);
      const r = await result;
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toBe(`apns-cert: cancelled by ${signal}\n`);
      expect(existsSync(join(store, 'store.lock'))).toBe(false);
      expect(treeDigest(store)).toBe(before);
      await bus.gone;
    },
  );

  it.for([
    ['SIGTERM', 143, 'a bus daemon that is stopped (SIGSTOP)', (c: Cleanup) => privateBus(true, c), noDaemon],
    ['SIGINT', 130, 'a socket that accepts and never reads', (c: Cleanup) => silent('accept', c), undefined],
  ] as const)(
    '%s (exit %i) on a new store, %s: no store is left behind',
    async ([signal, code, , broken, skip], { skip: skipTest, onTestFinished }) => {
      if (skip !== undefined) skipTest(skip);
      const bus = await broken(onTestFinished);
      const parent = tempDir();
      const store = join(parent, 'store');
      const env = cleanEnv({
        APNS_CERT_STORE: store,
        DBUS_SESSION_BUS_ADDRESS: bus.address,
        APNS_CERT_SECRET_BACKEND: 'keychain',
        ...patient,
      });
      const { child, result } = startCli(['csr', '--name', 'acme', '--out', join(parent, 'acme.csr')], env, 20_000);
      await bus.ready(store);
      await waitFor(lockHeld(store));
      child.kill(signal);
      const r = await result;
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toBe(`apns-cert: cancelled by ${signal}\n`);
      expect(existsSync(store)).toBe(false);
      expect(existsSync(join(parent, 'acme.csr'))).toBe(false);
      await bus.gone;
    },
  );
});

describe('the keychain process ships with the CLI', () => {
  it('npm pack includes dist/keychain-child.cjs, which the bundle runs from its own directory', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
    ) as Array<{ files: Array<{ path: string }> }>;
    expect(pack!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['bin/apns-cert.cjs', 'dist/apns-cert.cjs', 'dist/keychain-child.cjs']),
    );
  });
});
