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

const result = await build({
  metafile: true,
  plugins: [lazyChildProcess],
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
  banner: {
    js: [
      "import { createRequire as __apnsCertCreateRequire } from 'node:module';",
      "import { fileURLToPath as __apnsCertFileURLToPath } from 'node:url';",
      'const require = __apnsCertCreateRequire(import.meta.url);',
      'const __filename = __apnsCertFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
  sourcemap: 'linked',
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
