#!/usr/bin/env node
// Release build. Start-up is most of what a cron run costs, so:
// - dist/apns-cert.cjs: one CommonJS bundle of src/ with commander and the small dependencies. Modules that
//   src/ imports with import() are only initialised when the import() runs.
// - dist/vendor/*.cjs: the heavy packages (node-forge, @inquirer/prompts, plist, xmldom, pg), each its own file,
//   required only by the code that uses them, so a command that does not need them does not even read them.
// - dist/keychain-child.cjs: the process that makes one OS-keychain call (src/secrets/keychain-child.ts), so
//   that a hung D-Bus call blocks a process the CLI can kill, not the CLI.
// - dist/apns-cert.cjs.cache, dist/cache/<command>.cache: V8's code cache for the bundle, made here after
//   running a few commands with it; bin/apns-cert.cjs compiles the bundle from one of them.
import { isAscii } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
rmSync('dist', { recursive: true, force: true });

/** Package name → the file it is built into, under dist/vendor/. */
const VENDORS = {
  'node-forge': 'node-forge.cjs',
  '@inquirer/prompts': 'inquirer-prompts.cjs',
  plist: 'plist.cjs',
  '@xmldom/xmldom': 'xmldom.cjs',
  // node-postgres, for a PostgreSQL store only (src/store/postgres/)
  pg: 'pg.cjs',
};

/** Imports of a vendor package become a require() of its built file, relative to the importing output file. */
const vendorsAsFiles = (fromDir) => ({
  name: 'vendors-as-files',
  setup(b) {
    b.onResolve({ filter: /^[@a-z]/ }, (args) => {
      const file = VENDORS[args.path];
      return file === undefined || args.kind === 'entry-point'
        ? undefined
        : { path: `${fromDir}${file}`, external: true };
    });
  },
});

/**
 * commander requires node:child_process at load time, only to run executable subcommands (unused here).
 * Loading it costs start-up time on every run, so commander gets a proxy that loads it on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'apns-cert' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'apns-cert' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

/**
 * node-postgres asks at load time whether it runs on Cloudflare Workers by constructing a fetch Response, which
 * makes Node load its whole fetch implementation (undici: ~25 ms of every PostgreSQL command's start). apns-cert
 * runs on Node.js only, so the answer is fixed here. A pg whose stream.js no longer has that function fails the build.
 */
const pgOnNode = {
  name: 'pg-on-node',
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const probe = 'function isCloudflareRuntime() {';
      if (!source.includes(probe)) throw new Error(`bundle: ${args.path} has no isCloudflareRuntime() to fix`);
      return { contents: source.replace(probe, `${probe}\n  return false; // apns-cert: Node.js only`), loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // NO_MINIFY=1 npm run build: readable names in `node --cpu-prof` profiles.
  minify: process.env.NO_MINIFY !== '1',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // import() of a vendor file or of @napi-rs/keyring becomes require(): the bundle is run by vm.Script,
  // which has no loader for a real import().
  supported: { 'dynamic-import': false },
};

const main = await build({
  ...common,
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/apns-cert.cjs',
  // ASCII only (other characters escaped), so that bin/apns-cert.cjs can read it as latin1: no UTF-8 decoding.
  charset: 'ascii',
  external: ['@napi-rs/keyring'],
  plugins: [vendorsAsFiles('./vendor/'), lazyChildProcess],
  define: { APNS_CERT_VERSION: JSON.stringify(version) },
  sourcemap: 'external',
});

// e.g. import.meta, which is empty in a CommonJS bundle
if (main.warnings.length > 0) throw new Error('bundle: esbuild warned about the main bundle (above)');
if (!isAscii(readFileSync('dist/apns-cert.cjs')))
  throw new Error('bundle: dist/apns-cert.cjs is not ASCII; bin/apns-cert.cjs reads it as latin1');

const keychainChild = await build({
  ...common,
  entryPoints: ['src/secrets/keychain-child.ts'],
  outfile: 'dist/keychain-child.cjs',
  external: ['@napi-rs/keyring'],
});
if (keychainChild.warnings.length > 0) throw new Error('bundle: esbuild warned about the keychain process (above)');

mkdirSync('dist/vendor', { recursive: true });
const vendors = await Promise.all(
  Object.entries(VENDORS).map(([pkg, file]) =>
    build({
      ...common,
      entryPoints: [pkg],
      outfile: `dist/vendor/${file}`,
      plugins: [vendorsAsFiles('./'), ...(pkg === 'pg' ? [pgOnNode] : [])],
      // pg's optional native binding (pg.native), which apns-cert never uses: left a require() that is never run
      external: ['pg-native'],
    }),
  ),
);

// Which output file holds which packages: the lazy-loading test checks the cron path against it.
const packages = {};
for (const result of [main, keychainChild, ...vendors]) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.cjs')) continue;
    const names = new Set();
    for (const input of Object.keys(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (m) names.add(m[1]);
    }
    packages[file.replace(/^dist\//, '')] = [...names].sort();
  }
}
writeFileSync('dist/packages.json', `${JSON.stringify(packages, null, 2)}\n`);

// The code caches: the bundle's functions compiled while it runs commands on throw-away inputs. The commands a
// cron job or a CI pipeline runs most get a cache of their own, holding only what they compile (less for V8
// to read at start-up); bin/apns-cert.cjs picks the cache by the command word (CACHE_PROFILES there).
const work = mkdtempSync(join(tmpdir(), 'apns-cert-build-'));
try {
  const caFile = join(work, 'ca.pem');
  const integration2 = /file: 'ca_apple-application-integration-2-ca\.pem',[^}]*der: '([^']+)'/.exec(
    readFileSync('src/core/apple-ca-bundle.ts', 'utf8'),
  );
  if (integration2 === null)
    throw new Error('bundle: no Apple Application Integration 2 CA in src/core/apple-ca-bundle.ts for the warm-up');
  writeFileSync(caFile, `-----BEGIN CERTIFICATE-----\n${integration2[1]}\n-----END CERTIFICATE-----\n`);
  const env = {
    APNS_CERT_STORE: join(work, 'store'),
    APNS_CERT_PASSPHRASE: 'build-time warm-up',
    APNS_CERT_SECRET_BACKEND: 'passphrase',
  };
  const profiles = [
    // every command's definition, and the common paths (this one also creates the store the next ones read)
    [
      'dist/apns-cert.cjs.cache',
      [
        [['--help'], [0]],
        [['inspect', caFile], [0]],
        [
          ['check-expiry', caFile],
          [0, 1, 2],
        ],
        [['csr', '--name', 'warm-up', '--out', join(work, 'warm-up.csr')], [0]],
        [['check-expiry', '-q'], [3]], // a record without a certificate yet
        [['list'], [0]],
      ],
    ],
    ['dist/cache/inspect.cache', [[['inspect', caFile], [0]]]],
    [
      'dist/cache/check-expiry.cache',
      [
        [
          ['check-expiry', caFile],
          [0, 1, 2],
        ],
        [['check-expiry', '-q'], [3]],
      ],
    ],
  ];
  mkdirSync('dist/cache');
  for (const [file, runs] of profiles)
    execFileSync(process.execPath, ['scripts/warm-code-cache.cjs', file, JSON.stringify(runs), JSON.stringify(env)], {
      stdio: 'inherit',
    });
} finally {
  rmSync(work, { recursive: true, force: true });
}
