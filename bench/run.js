#!/usr/bin/env node
// apns-cert benchmarks: medians over repeated runs, each as a ratio against a baseline measured in the
// same run, interleaved so that machine noise hits both alike. Not part of the test suite.
// Usage: npm run bench [-- --runs 15] [-- --only P1,P4]   (S2, S4 start a private PostgreSQL cluster: Debian's postgresql;
//   S5 needs a Secret Service: scripts/with-secret-service.sh npm run bench -- --only S5, else it is skipped and says so)
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/apns-cert.cjs');
// Every process (subject and baseline) runs without NODE_OPTIONS and NODE_EXTRA_CA_CERTS: either makes every
// node start-up slower (extra CA certificates are read at start: ~80 ms on the machine this was written on),
// which would inflate the `node -e 0` baseline and flatter every ratio.
const baseEnv = { ...process.env };
delete baseEnv.NODE_OPTIONS;
delete baseEnv.NODE_EXTRA_CA_CERTS;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
// P2's baseline takes seconds a run, so it gets RUNS; the others get twice as many, which their medians need:
// P1 and P4 are a few ms above a ~30 ms baseline on a noisy machine, and P3 is mostly RSA key generation, a
// random search for primes (one run takes anywhere from a third to three times the median, on both sides).
const MANY = 2 * RUNS + 1;
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg > 0 ? process.argv[onlyArg + 1].split(',') : null;
const wanted = (id) => ONLY === null || ONLY.includes(id);
const work = mkdtempSync(join(tmpdir(), 'apns-cert-bench-'));

// ---------- inputs ----------
function makeCa() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }));
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2020-01-01');
  cert.validity.notAfter = new Date('2040-01-01');
  const attrs = [{ name: 'commonName', value: 'Bench CA' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  return { cert, privateKey };
}

/** forge builds the TBS, native crypto signs it (forge's own signing is ~20x slower). */
function mint(ca, publicKeyPem, topic, serial, notAfter) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(notAfter.getTime() - 365 * 86400000);
  cert.validity.notAfter = notAfter;
  cert.setSubject([
    { type: '0.9.2342.19200300.100.1.1', value: topic },
    { name: 'commonName', value: `APSP:${topic.split('.').pop()}` },
    { name: 'countryName', value: 'US' },
  ]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  const tbs = forge.pki.getTBSCertificate(cert);
  cert.tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', der, ca.privateKey).toString('binary');
  return forge.pki.certificateToPem(cert);
}

/**
 * Adds `records` to the store in `store` (a new directory, or a store the tool made), then makes one change with the
 * tool itself (adding and purging a spare record), so that index.json and expiry.json are the tool's own writes.
 */
function addRecords(store, records, now) {
  const indexFile = join(store, 'index.json');
  const iso = new Date(now).toISOString();
  mkdirSync(store, { recursive: true, mode: 0o700 });
  const index = existsSync(indexFile)
    ? JSON.parse(readFileSync(indexFile, 'utf8'))
    : { schemaVersion: 1, storeId: randomUUID(), secretBackend: 'passphrase', createdAt: iso, records: {} };
  const spare = { name: 'spare', topic: null, topicHash: null, appleIdHash: null, createdAt: iso, updatedAt: iso };
  Object.assign(index.records, records, { spare: { ...spare, pendingKey: null, retiredAt: null, certificates: [] } });
  writeFileSync(indexFile, `${JSON.stringify(index)}\n`, { mode: 0o600 });
  execFileSync(process.execPath, [bin, 'retire', 'spare', '--purge', '--yes'], {
    env: { ...baseEnv, APNS_CERT_STORE: store },
    stdio: 'ignore',
  });
  return store;
}

/** `n` records of one active certificate each (index entries only: check-expiry and import read no PEM of them). */
function syntheticRecords(n, now) {
  const records = {};
  const iso = new Date(now).toISOString();
  for (let i = 0; i < n; i++) {
    const topic = `com.apple.mgmt.External.${randomUUID()}`;
    const notAfter = new Date(now + (40 + (i % 300)) * 86400000);
    const fingerprintSha256 = randomUUID().replace(/-/g, '').repeat(2);
    const name = `tenant-${String(i).padStart(5, '0')}`;
    records[name] = {
      name,
      topic,
      topicHash: forge.md.sha256.create().update(topic).digest().toHex(),
      appleIdHash: null,
      createdAt: iso,
      updatedAt: iso,
      pendingKey: null,
      retiredAt: null,
      certificates: [
        {
          serialNumber: (0x100000 + i).toString(16).toUpperCase(),
          fingerprintSha256,
          notBefore: new Date(notAfter.getTime() - 365 * 86400000).toISOString(),
          notAfter: notAfter.toISOString(),
          importedAt: iso,
          keyId: 'ab'.repeat(32),
          status: 'active',
          file: `certs/${fingerprintSha256}.pem`,
        },
      ],
    };
  }
  return records;
}

/**
 * Gives the synthetic records of `store` the files their index entries name, for `store copy` (S2, S4), which
 * carries every certificate and sealed key a record names: one minted certificate's PEM for each entry, and the
 * sealed box of the store's own key under the synthetic key id (copied as it is; nothing opens it).
 */
function withTheFilesItNames(store, names) {
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
  const one = index.records.one;
  const pem = readFileSync(join(store, one.certificates[0].file), 'utf8');
  const box = readFileSync(join(store, 'keys', `${one.certificates[0].keyId}.key`), 'utf8');
  for (const name of names)
    for (const c of index.records[name].certificates) writeFileSync(join(store, c.file), pem, { mode: 0o600 });
  writeFileSync(join(store, 'keys', `${'ab'.repeat(32)}.key`), box, { mode: 0o600 });
}

function buildInputs() {
  const ca = makeCa();
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  const now = Date.now();
  const pemDir = join(work, 'pems');
  mkdirSync(pemDir);
  const files = [];
  for (let i = 0; i < 1000; i++) {
    const topic = `com.apple.mgmt.External.${randomUUID()}`;
    const notAfter = new Date(now + (40 + (i % 300)) * 86400000);
    const file = join(pemDir, `cert-${i}.pem`);
    writeFileSync(file, mint(ca, publicPem, topic, (0x100000 + i).toString(16), notAfter));
    files.push(file);
  }
  const store = addRecords(join(work, 'store'), syntheticRecords(1000, now), now);
  // a passphrase store for P3 (csr): created once by the CLI itself
  const csrStore = join(work, 'csr-store');
  const env = { ...baseEnv, APNS_CERT_STORE: csrStore, APNS_CERT_PASSPHRASE: 'bench' };
  execFileSync(
    process.execPath,
    [bin, '--secret-backend', 'passphrase', 'csr', '--name', 'warmup', '--out', join(work, 'warmup.csr')],
    { env, stdio: 'ignore' },
  );
  // a passphrase store (scrypt N=2^17) with one certificate and its key, for P6 (unlock) and P7 (export --p12)
  const { privateKey, publicKey: exportPublic } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const certPem = mint(
    ca,
    exportPublic.export({ type: 'spki', format: 'pem' }),
    `com.apple.mgmt.External.${randomUUID()}`,
    '0abc',
    new Date(now + 300 * 86400000),
  );
  writeFileSync(join(work, 'export-cert.pem'), certPem);
  writeFileSync(join(work, 'export-key.pem'), keyPem, { mode: 0o600 });
  writeFileSync(join(work, 'export-both.pem'), certPem + keyPem, { mode: 0o600 });
  const exportStore = join(work, 'export-store');
  execFileSync(
    process.execPath,
    [bin, '--secret-backend', 'passphrase', 'import', join(work, 'export-both.pem'), '--name', 'one'],
    { env: { ...baseEnv, APNS_CERT_STORE: exportStore, APNS_CERT_PASSPHRASE: 'bench' }, stdio: 'ignore' },
  );
  // S1, S3: a 10 000-record file store; S3 imports into it and into a store of one record (both made by the tool).
  const smallStore = join(work, 'small-store');
  const bigStore = join(work, 'big-store');
  const passEnv = { ...baseEnv, APNS_CERT_PASSPHRASE: 'bench' };
  for (const dir of [smallStore, bigStore])
    execFileSync(
      process.execPath,
      [bin, '--secret-backend', 'passphrase', 'import', join(work, 'export-both.pem'), '--name', 'one'],
      { env: { ...passEnv, APNS_CERT_STORE: dir }, stdio: 'ignore' },
    );
  const synthetic = syntheticRecords(10000, now);
  const syntheticNames = Object.keys(synthetic);
  const bigFile = addRecords(bigStore, synthetic, now);
  const importFiles = [];
  // S5: the same two stores with their master key in the OS keychain (a Secret Service), when there is one
  const keychainStores = wanted('S5') && process.env.DBUS_SESSION_BUS_ADDRESS !== undefined;
  const smallKeychainStore = join(work, 'small-keychain-store');
  const bigKeychainStore = join(work, 'big-keychain-store');
  if (keychainStores) {
    for (const dir of [smallKeychainStore, bigKeychainStore])
      execFileSync(
        process.execPath,
        [bin, '--secret-backend', 'keychain', 'import', join(work, 'export-both.pem'), '--name', 'one'],
        { env: { ...baseEnv, APNS_CERT_STORE: dir }, stdio: 'ignore' },
      );
    addRecords(bigKeychainStore, synthetic, now);
  }
  const importRows = ['S3', 'S4'].filter(wanted).length + (keychainStores ? 1 : 0);
  for (let i = 0; i < importRows * 2 * (MANY + 1); i++) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = mint(
      ca,
      pair.publicKey.export({ type: 'spki', format: 'pem' }),
      `com.apple.mgmt.External.${randomUUID()}`,
      (0x200000 + i).toString(16),
      new Date(now + 200 * 86400000),
    );
    const file = join(work, `import-${i}.pem`);
    writeFileSync(file, pem + pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    importFiles.push(file);
  }
  if (wanted('S2') || wanted('S4')) withTheFilesItNames(bigFile, syntheticNames);
  return {
    store,
    files,
    one: files[0],
    csrStore,
    exportStore,
    smallStore,
    bigStore: bigFile,
    importFiles,
    keychainStores,
    smallKeychainStore,
    bigKeychainStore,
  };
}

// ---------- measuring ----------
function timeIt(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts, env: opts.env ?? baseEnv });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !opts.okCodes?.includes(r.status))
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function peakRssKiB(cmd, args, env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return Number(r.stderr.trim().split('\n').pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Interleaves subject and baseline runs; returns medians and their ratio. */
function compare(subject, baseline, runs = RUNS) {
  const a = [];
  const b = [];
  subject();
  baseline(); // warm caches once
  for (let i = 0; i < runs; i++) {
    a.push(subject());
    b.push(baseline());
  }
  return { runs, subjectMs: median(a), baselineMs: median(b), ratio: median(a) / median(b) };
}

console.error(`apns-cert bench: building inputs in ${work} ...`);
const inputs = buildInputs();
const nodeE0 = () => timeIt(process.execPath, ['-e', '0']);
const cli =
  (args, env = {}) =>
  () =>
    timeIt(process.execPath, [bin, ...args], { env: { ...baseEnv, ...env }, okCodes: [1, 2] });
const checkendScript = join(work, 'checkend.sh');
writeFileSync(
  checkendScript,
  `for f in "$@"; do openssl x509 -checkend 2592000 -noout -in "$f" >/dev/null || true; done\n`,
);
const fileList = inputs.files;
let csrCount = 0;
/** The next of inputs.importFiles (S3 and S4 each import fresh certificates). */
let nextImport = 0;

/** test/helpers/postgres.ts (the tests' cluster harness), bundled by esbuild into the work directory and imported. */
async function postgresHarness() {
  const { build } = await import('esbuild');
  const outfile = join(work, 'postgres-harness.mjs');
  await build({
    entryPoints: [join(root, 'test/helpers/postgres.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'error',
  });
  return import(outfile);
}

const results = [];
const add = (id, what, target, r) => results.push({ id, what, target, ...r, pass: r.ratio <= target });

if (wanted('P1')) {
  console.error(`P1: check-expiry on a 1000-record store vs node -e 0 (${MANY} runs each)`);
  add(
    'P1',
    'check-expiry, 1000-record store ÷ node -e 0',
    1.5,
    compare(cli(['check-expiry', '-q'], { APNS_CERT_STORE: inputs.store }), nodeE0, MANY),
  );
}
if (wanted('P2')) {
  console.error(`P2: check-expiry on 1000 PEM files vs an openssl -checkend loop (${RUNS} runs each)`);
  add(
    'P2',
    'check-expiry, 1000 PEM files ÷ openssl x509 -checkend loop',
    0.1,
    compare(cli(['check-expiry', '-q', ...fileList]), () =>
      timeIt('sh', [checkendScript, ...fileList], { env: { ...baseEnv, SSL_CERT_FILE: '/dev/null' } }),
    ),
  );
}
if (wanted('P3')) {
  console.error(`P3: csr (passphrase backend) vs openssl req -newkey rsa:2048 (${MANY} runs each)`);
  add(
    'P3',
    'csr (passphrase backend) ÷ openssl req -new -newkey rsa:2048 -nodes',
    1.3,
    compare(
      () =>
        timeIt(
          process.execPath,
          [bin, 'csr', '--name', `bench-${csrCount++}`, '--out', join(work, `b${csrCount}.csr`)],
          { env: { ...baseEnv, APNS_CERT_STORE: inputs.csrStore, APNS_CERT_PASSPHRASE: 'bench' } },
        ),
      () =>
        timeIt('openssl', [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(work, 'o.key'),
          '-out',
          join(work, 'o.csr'),
          '-subj',
          '/CN=bench',
        ]),
      MANY,
    ),
  );
}
if (wanted('P4')) {
  console.error(`P4: inspect one certificate vs node -e 0 (${MANY} runs each)`);
  add('P4', 'inspect one certificate ÷ node -e 0', 1.6, compare(cli(['inspect', inputs.one]), nodeE0, MANY));
}
const exportEnv = {
  APNS_CERT_STORE: inputs.exportStore,
  APNS_CERT_PASSPHRASE: 'bench',
  APNS_CERT_P12_PASSWORD: 'bench',
};
if (wanted('P6')) {
  console.error(`P6: unlocking a passphrase store (export --pem) vs one scrypt N=2^17 in node (${RUNS} runs each)`);
  add(
    'P6',
    'unlock a passphrase store (export --pem, scrypt N=2^17) ÷ node running one scrypt N=2^17',
    1.5,
    compare(cli(['export', 'one', '--pem', join(work, 'out.pem'), '--force'], exportEnv), () =>
      timeIt(process.execPath, [
        '-e',
        "require('node:crypto').scryptSync('bench', Buffer.alloc(16), 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 2 ** 28 })",
      ]),
    ),
  );
}
if (wanted('P7')) {
  console.error(`P7: export --p12 (600 000 iterations) vs openssl pkcs12 -export -iter 600000 (${RUNS} runs each)`);
  add(
    'P7',
    'export --p12 (unlock + PBKDF2-SHA256 and MAC at 600 000) ÷ openssl pkcs12 -export -iter 600000',
    3,
    compare(cli(['export', 'one', '--p12', join(work, 'out.p12'), '--force'], exportEnv), () =>
      timeIt('openssl', [
        'pkcs12',
        '-export',
        '-in',
        join(work, 'export-cert.pem'),
        '-inkey',
        join(work, 'export-key.pem'),
        '-out',
        join(work, 'o.p12'),
        '-passout',
        'pass:bench',
        '-iter',
        '600000',
      ]),
    ),
  );
}
if (wanted('S1')) {
  console.error(`S1: check-expiry on a 10 000-record file store vs node -e 0 (${MANY} runs each)`);
  add(
    'S1',
    'check-expiry, 10 000-record file store ÷ node -e 0',
    2,
    compare(cli(['check-expiry', '-q'], { APNS_CERT_STORE: inputs.bigStore }), nodeE0, MANY),
  );
}
if (wanted('S3')) {
  console.error(`S3: import into a 10 000-record file store vs into a store of one record (${MANY} runs each)`);
  const importInto = (store) => () =>
    timeIt(process.execPath, [bin, 'import', inputs.importFiles[nextImport], '--name', `bench-${nextImport++}`], {
      env: { ...baseEnv, APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'bench' },
    });
  add(
    'S3',
    'import, into a 10 000-record file store ÷ into a one-record store',
    1.5,
    compare(importInto(inputs.bigStore), importInto(inputs.smallStore), MANY),
  );
}
if (wanted('S5') && !inputs.keychainStores)
  console.error('S5: skipped: no Secret Service here (run the bench under scripts/with-secret-service.sh)');
if (inputs.keychainStores) {
  console.error(
    `S5: import into a 10 000-record keychain file store vs into a store of one record (${MANY} runs each)`,
  );
  const importInto = (store) => () =>
    timeIt(process.execPath, [bin, 'import', inputs.importFiles[nextImport], '--name', `bench-${nextImport++}`], {
      env: { ...baseEnv, APNS_CERT_STORE: store },
    });
  add(
    'S5',
    'import, into a 10 000-record keychain file store ÷ into a one-record one',
    1.5,
    compare(importInto(inputs.bigKeychainStore), importInto(inputs.smallKeychainStore), MANY),
  );
}
if (wanted('S2') || wanted('S4')) {
  // a private PostgreSQL cluster (the tests' harness, test/helpers/postgres.ts, compiled here by esbuild), removed at exit
  const { startCluster, createDatabase, removeCluster } = await postgresHarness();
  console.error('S2, S4: starting a private PostgreSQL cluster ...');
  const cluster = await startCluster();
  process.on('exit', () => removeCluster(cluster));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  const pgStore = (name, from) => {
    const db = createDatabase(cluster, name);
    const env = { ...baseEnv, APNS_CERT_STORE: db.adminUrl, PGPASSWORD: db.password, APNS_CERT_PASSPHRASE: 'bench' };
    const ms = timeIt(process.execPath, [bin, 'store', 'copy', '--from', from, '--to', db.adminUrl], { env });
    console.error(`  store copy --from ${from} --to ${db.adminUrl}: ${ms.toFixed(0)} ms`);
    return env;
  };
  const bigPg = pgStore('bench_big', inputs.bigStore);
  const smallPg = pgStore('bench_small', inputs.smallStore);
  if (wanted('S2')) {
    console.error(`S2: check-expiry on a 10 000-record PostgreSQL store vs node -e 0 (${MANY} runs each)`);
    add(
      'S2',
      'check-expiry, 10 000-record PostgreSQL store (loopback) ÷ node -e 0',
      3,
      compare(cli(['check-expiry', '-q'], bigPg), nodeE0, MANY),
    );
  }
  if (wanted('S4')) {
    console.error(`S4: import into a 10 000-record PostgreSQL store vs into a store of one record (${MANY} runs each)`);
    const importInto = (env) => () =>
      timeIt(process.execPath, [bin, 'import', inputs.importFiles[nextImport], '--name', `bench-${nextImport++}`], {
        env,
      });
    add(
      'S4',
      'import, into a 10 000-record PostgreSQL store ÷ into a one-record one',
      1.5,
      compare(importInto(bigPg), importInto(smallPg), MANY),
    );
  }
}
if (wanted('P5')) {
  const rss = [];
  for (let i = 0; i < 5; i++)
    rss.push(peakRssKiB(process.execPath, [bin, 'check-expiry', '-q'], { ...baseEnv, APNS_CERT_STORE: inputs.store }));
  const rssMiB = median(rss) / 1024;
  results.push({
    id: 'P5',
    what: 'peak RSS of P1 (MiB, not a ratio)',
    target: 80,
    runs: rss.length,
    subjectMs: null,
    baselineMs: null,
    ratio: rssMiB,
    pass: rssMiB <= 80,
  });
}

const machine = {
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  runs: RUNS,
  date: new Date().toISOString(),
};
writeFileSync(join(root, 'bench/results.json'), `${JSON.stringify({ machine, results }, null, 2)}\n`);
const fmt = (x) => (x === null ? '-' : x.toFixed(x < 10 ? 2 : 0));
console.log('| id | what | runs | subject median ms | baseline median ms | ratio (P5: MiB) | target | |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of results)
  console.log(
    `| ${r.id} | ${r.what} | ${r.runs} | ${fmt(r.subjectMs)} | ${fmt(r.baselineMs)} | ${fmt(r.ratio)} | ≤ ${r.target} | ${r.pass ? 'met' : 'MISSED'} |`,
  );
console.log(
  `\n${machine.node}, ${machine.cpus} cores, without NODE_OPTIONS and NODE_EXTRA_CA_CERTS; written to bench/results.json`,
);
if (process.env.APNS_CERT_BENCH_KEEP === undefined) rmSync(work, { recursive: true, force: true });
else console.error(`inputs kept in ${work}`);
