#!/usr/bin/env node
// Release build: one ESM entry (dist/bundle/apns-cert.js) with lazily loaded chunks for the heavy
// modules (node-forge, plist, @inquirer/prompts), so each command loads only what it needs.
import { rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

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
 * An ESM import of a built-in (`import { readFileSync } from 'node:fs'`) makes node build the module's whole
 * ESM facade, reading every export: for node:fs that loads fs/promises, streams and readline. A require()
 * does not. So built-ins are required, through the require() the banner provides.
 */
const builtinsAsRequire = {
  name: 'builtins-as-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (args.path === 'node:module') return undefined;
      if (args.namespace === 'builtin') return { path: args.path, external: true };
      return { path: args.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

const result = await build({
  metafile: true,
  plugins: [lazyChildProcess, builtinsAsRequire],
  entryPoints: { 'apns-cert': 'src/cli/entry.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@napi-rs/keyring'],
  // CommonJS dependencies bundled into ESM still use require(), __filename and __dirname.
  // CommonJS dependencies bundled into ESM still use require(), __filename and __dirname. The shim
  // creates the real require() on first use only, and needs no node:url.
  banner: {
    js: [
      "import { createRequire as __apnsCertCreateRequire } from 'node:module';",
      'let __apnsCertRequire;',
      'const __apnsCertReq = () => (__apnsCertRequire ??= __apnsCertCreateRequire(import.meta.url));',
      'const require = Object.assign((id) => __apnsCertReq()(id), { resolve: (id, o) => __apnsCertReq().resolve(id, o) });',
      'const __filename = decodeURIComponent(new URL(import.meta.url).pathname);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },

  sourcemap: 'external',
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
});

// Which output file holds which packages: the lazy-loading test checks the cron path against it.
const packages = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const names = new Set();
  for (const input of Object.keys(output.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m) names.add(m[1]);
  }
  packages[file.replace(/^dist\/bundle\//, '')] = [...names].sort();
}
writeFileSync('dist/bundle/packages.json', `${JSON.stringify(packages, null, 2)}\n`);
