'use strict';
// Runs commands with the freshly built bundle in this process, then writes V8's code cache for what they
// compiled. One process per cache: V8 shares compiled code within a process.
// Usage (from scripts/bundle.js): node scripts/warm-code-cache.cjs <cache file> '<JSON [[args, [exit codes]], ...]>' '<JSON env>'
const { writeFileSync } = require('node:fs');
const { loadBundle } = require('../bin/apns-cert.cjs');

async function warm() {
  const [cacheFile, runsJson, envJson] = process.argv.slice(2);
  const { exports: cli, script } = loadBundle({ cache: null });
  const discard = { write: () => true };
  const tty = { stdin: () => false, stdout: () => false, stderr: () => false };
  for (const [args, expected] of JSON.parse(runsJson)) {
    const code = await cli.run({
      argv: ['node', 'apns-cert', ...args],
      env: JSON.parse(envJson),
      stdout: discard,
      stderr: discard,
      tty,
    });
    if (!expected.includes(code))
      throw new Error(`warm-up \`apns-cert ${args.join(' ')}\` exited ${code}, expected ${expected.join(' or ')}`);
  }
  writeFileSync(cacheFile, script.createCachedData());
}

warm().catch((error) => {
  console.error(`bundle: ${error.message}`);
  process.exit(1);
});
