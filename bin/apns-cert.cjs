#!/usr/bin/env node
'use strict';
// Runs the bundle (dist/apns-cert.cjs), compiled from the V8 code cache the build wrote beside it: a cron run
// is mostly start-up, and most of start-up is compiling. V8 checks that the cache was made for this source by
// this node; a cache it rejects (another node version) only costs the compile it would have saved.
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');
// The class require('node:module') returns, without loading that file (it brings the ESM loader with it).
const { createRequire, wrap } = module.constructor;

const BUNDLE = join(__dirname, '..', 'dist', 'apns-cert.cjs');

function loadBundle({ useCache = true } = {}) {
  let cachedData;
  try {
    if (useCache) cachedData = readFileSync(`${BUNDLE}.cache`);
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
module.exports = { loadBundle, BUNDLE };
