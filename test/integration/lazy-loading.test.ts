import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REAL, ROOT, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsr } from '../helpers/fake-apple.js';

const HEAVY = ['node-forge', '@inquirer/prompts', '@napi-rs/keyring', 'plist', 'pg'];
/** The build's output files and the packages each holds (scripts/bundle.js writes packages.json). */
const packages = (): Record<string, string[]> =>
  JSON.parse(readFileSync(join(ROOT, 'dist/packages.json'), 'utf8')) as Record<string, string[]>;
const isHeavy = (name: string) => HEAVY.some((h) => name === h || name.startsWith(`${h}/`));
/** The output files that hold a heavy package. */
function heavyFiles(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [file, names] of Object.entries(packages())) {
    const heavy = names.filter(isHeavy);
    if (heavy.length > 0) out.set(file, heavy);
  }
  return out;
}
function loadedHeavy(modules: string): string[] {
  const found: string[] = [];
  for (const [file, names] of heavyFiles()) if (modules.includes(`/dist/${file}`)) found.push(...names);
  for (const h of HEAVY) if (modules.includes(`/node_modules/${h}/`)) found.push(h);
  return found;
}
const TRACER = join(ROOT, 'test/helpers/trace-require.cjs');
let store: string;
let certFile: string;

async function traced(args: string[], extraEnv: Record<string, string> = {}) {
  const trace = join(tempDir(), 'trace.txt');
  const env = cleanEnv({
    APNS_CERT_STORE: store,
    NODE_OPTIONS: `--require=${TRACER}`,
    APNS_CERT_TRACE_FILE: trace,
    ...extraEnv,
  });
  const r = await runCli(args, { env });
  const modules = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
  return { r, modules };
}

beforeAll(async () => {
  store = tempDir();
  const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
  const work = tempDir(); // outside the store, which refuses output files inside itself
  const csrFile = join(work, 'a.csr');
  expect((await runCli(['csr', '--name', 'a', '--out', csrFile], { env })).code).toBe(0);
  certFile = join(work, 'a.pem');
  writeFileSync(
    certFile,
    signCsr(createFakeCa(), readFileSync(csrFile, 'utf8'), {
      topic: mdmTopic(),
      notBefore: daysFrom(new Date(), -1),
      notAfter: daysFrom(new Date(), 90),
    }),
  );
  expect((await runCli(['import', certFile], { env })).code).toBe(0);
});

describe('start-up', () => {
  const bin = createRequire(import.meta.url)(join(ROOT, 'bin/apns-cert.cjs')) as {
    cacheFor: (args: string[]) => string;
  };

  it.each(['apns-cert.cjs.cache', 'cache/inspect.cache', 'cache/check-expiry.cache'])(
    'the bundle compiles from the code cache %s (V8 accepts it)',
    (cache) => {
      // a process of its own: within one, V8 would reuse what it compiled first and never read the second cache
      const probe = `const { loadBundle } = require(${JSON.stringify(join(ROOT, 'bin/apns-cert.cjs'))});
      const { script, exports } = loadBundle({ cache: ${JSON.stringify(join(ROOT, 'dist', cache))} });
      console.log(JSON.stringify({ rejected: script.cachedDataRejected, main: typeof exports.main }));`;
      expect(JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }))).toEqual({
        rejected: false,
        main: 'function',
      });
    },
  );

  it('picks the cache by the command word, skipping global options and their values', () => {
    expect(bin.cacheFor(['inspect', 'x.pem'])).toBe(join(ROOT, 'dist/cache/inspect.cache'));
    expect(bin.cacheFor(['--store', 'inspect', '--json', 'check-expiry', '-q'])).toBe(
      join(ROOT, 'dist/cache/check-expiry.cache'),
    );
    expect(bin.cacheFor(['list'])).toBe(join(ROOT, 'dist/apns-cert.cjs.cache'));
    expect(bin.cacheFor([])).toBe(join(ROOT, 'dist/apns-cert.cjs.cache'));
  });
});

describe('the cron path loads no heavy module', () => {
  it('the main bundle holds none of the heavy packages: each is its own file, required where it is used', () => {
    expect(packages()['apns-cert.cjs']?.filter(isHeavy)).toEqual([]);
    expect([...heavyFiles().values()].flat().sort()).toEqual(
      expect.arrayContaining(['@inquirer/prompts', 'node-forge', 'plist', 'pg']),
    );
  });
  it('the tracer sees the forge chunk when a .p12 is read (control)', async () => {
    const { r, modules } = await traced(['inspect', join(REAL, 'fake_pushy_single-topic-client.p12')], {
      APNS_CERT_P12_PASSWORD: 'pushy-test',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(loadedHeavy(modules)).toContain('node-forge');
  });
  it('the tracer sees pg when the store is a PostgreSQL URL (control)', async () => {
    const { r, modules } = await traced(['check-expiry'], { APNS_CERT_STORE: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.code).toBe(3); // check-expiry's UNKNOWN: no server there
    expect(r.stderr).toContain('cannot reach the PostgreSQL store at 127.0.0.1:1');
    expect(loadedHeavy(modules)).toContain('pg');
  });
  it.each([
    [['check-expiry']],
    [['list']],
    [['show', 'a']],
    [['inspect', 'CERT']],
    [['hash', 'CERT']],
    [['check-expiry', 'CERT']],
  ])('%j on a file store loads neither forge, inquirer, the keychain binding nor pg', async (args) => {
    const { r, modules } = await traced(args.map((a) => (a === 'CERT' ? certFile : a)));
    expect(r.code, r.stderr).toBe(0);
    expect(modules).toContain('/bin/apns-cert.cjs');
    expect(loadedHeavy(modules)).toEqual([]);
  });
});
