#!/usr/bin/env node
'use strict';
// Runs the bundle (dist/apns-cert.cjs), compiled from a V8 code cache the build wrote beside it: a cron run is
// mostly start-up, and most of start-up is compiling. V8 checks that the cache was made for this source by
// this node; a cache it rejects (another node version) only costs the compile it would have saved.
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');
// The class require('node:module') returns, without loading that file (it brings the ESM loader with it).
const { createRequire, wrap } = module.constructor;

const DIST = join(__dirname, '..', 'dist');
const BUNDLE = join(DIST, 'apns-cert.cjs');
/** Commands with a cache of their own (scripts/bundle.js), holding only what they compile. */
const CACHE_PROFILES = new Set(['inspect', 'check-expiry']);

/**
 * The code cache for this command line: its command's own, else the one for all commands. The command word is
 * found as commandWord in src/cli/main.ts finds it; a wrong pick would only cost speed.
 */
function cacheFor(args) {
  let word;
  for (let i = 0; i < args.length && word === undefined; i++) {
    if (args[i] === '--store' || args[i] === '--secret-backend' || args[i] === '--passphrase-file') i++;
    else if (!args[i].startsWith('-')) word = args[i];
  }
  const own = join(DIST, 'cache', `${word}.cache`);
  return CACHE_PROFILES.has(word) && existsSync(own) ? own : `${BUNDLE}.cache`;
}

function loadBundle({ cache = cacheFor(process.argv.slice(2)) } = {}) {
  let cachedData;
  try {
    if (cache !== null) cachedData = readFileSync(cache);
  } catch {
    // no cache: compile from source
  }
  // latin1: the build writes the bundle in ASCII, so this is the same text without UTF-8 decoding.
  const script = new Script(wrap(readFileSync(BUNDLE, 'latin1')), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { exports: module.exports, script };
}

if (require.main === module) loadBundle().exports.main();
module.exports = { loadBundle, cacheFor, BUNDLE };
