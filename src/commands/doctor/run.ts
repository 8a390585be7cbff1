import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, isAppError } from '../../errors.js';
import { classifyExpiry, daysRemaining } from '../../core/expiry.js';
import { activeCertificate } from '../../core/index-model.js';
import type { StoreIndex } from '../../core/index-model.js';
import type { Endpoint } from '../../net/tcp.js';
import { daysText } from '../../output/output.js';
import { keyPath } from '../../store/paths.js';
import type { Runner, Deps } from '../kit.js';
import { probeIdentity, probeUrl, readCaFile } from '../shared/probe.js';
import { parseEndpoint, tcpReachable } from '../../net/tcp.js';
import { identityFromStore } from '../shared/identity.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  check: string;
  status: CheckStatus;
  message: string;
  hint: string | null;
}

export interface DoctorOptions {
  offline: boolean;
  apnsEndpoints: string[];
  apnsUrl: string | undefined;
  caFile: string | undefined;
  warnDays: number;
  criticalDays: number;
}

/** The ports Apple asks firewalls to open for APNs. */
export const DEFAULT_ENDPOINTS = ['api.push.apple.com:443', 'api.push.apple.com:2197', '1-courier.push.apple.com:5223'];

const check = (name: string, status: CheckStatus, message: string, hint: string | null = null): DoctorCheck => ({
  check: name,
  status,
  message,
  hint,
});

async function secretBackend(index: StoreIndex, deps: Deps): Promise<DoctorCheck> {
  try {
    await deps.vaults(index.secretBackend).load(index.storeId);
    return check(
      'secret-backend',
      'ok',
      index.secretBackend === 'keychain'
        ? 'the keychain is reachable and holds the store master key'
        : 'the passphrase opens the store master key',
    );
  } catch (error) {
    if (!isAppError(error)) throw error;
    const status: CheckStatus =
      error.code === 'SECRETS_UNAVAILABLE' && index.secretBackend === 'passphrase' ? 'warn' : 'fail';
    return check('secret-backend', status, `${index.secretBackend}: ${error.message}`, error.hint ?? null);
  }
}

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

/** Whether a file the index names is there: 'missing', 'outside' (a link out of the store), or 'ok'. */
function presence(deps: Deps, relative: string): 'ok' | 'missing' | 'outside' {
  try {
    return modeOf(deps.store.path(relative)) === null ? 'missing' : 'ok';
  } catch (error) {
    if (isAppError(error) && error.code === 'STORE_CORRUPT') return 'outside';
    throw error;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function storeFiles(index: StoreIndex, deps: Deps): Promise<DoctorCheck[]> {
  const dir = deps.store.dir;
  const problems: string[] = [];
  const referencedKeys = new Set<string>();
  const referencedCerts = new Set<string>();
  for (const record of Object.values(index.records)) {
    for (const c of record.certificates) {
      referencedCerts.add(c.file);
      const found = presence(deps, c.file);
      if (found !== 'ok')
        problems.push(
          `${record.name}: certificate ${c.file} ${found === 'missing' ? 'is missing' : 'leads out of the store'}`,
        );
    }
    const keyIds = [
      ...(record.retiredAt === null ? record.certificates.map((c) => c.keyId) : []),
      ...(record.pendingKey ? [record.pendingKey.keyId] : []),
    ];
    for (const keyId of keyIds) {
      referencedKeys.add(`${keyId}.key`);
      const found = presence(deps, keyPath(keyId));
      if (found !== 'ok')
        problems.push(
          `${record.name}: key ${keyId.slice(0, 16)}… ${found === 'missing' ? 'is missing' : 'leads out of the store'}`,
        );
    }
  }
  const listing = { '': list(dir), keys: list(join(dir, 'keys')), certs: list(join(dir, 'certs')) };
  const keyFiles = listing.keys;
  const orphans = keyFiles.filter((f) => f.endsWith('.key') && !referencedKeys.has(f));
  const orphanCerts = listing.certs.filter((f) => f.endsWith('.pem') && !referencedCerts.has(`certs/${f}`));
  const orphanFiles = [
    ...(orphans.length === 0
      ? []
      : [`${orphans.length} key file(s) belong to no record: ${orphans.map((o) => o.slice(0, 16)).join(', ')}`]),
    ...(orphanCerts.length === 0
      ? []
      : [
          `${orphanCerts.length} certificate file(s) belong to no record: ${orphanCerts.map((o) => o.slice(0, 16)).join(', ')}`,
        ]),
  ];
  // replaceFileAtomically's temporary files, left when a write was interrupted (a crash, Ctrl-C)
  const temporary = Object.entries(listing).flatMap(([sub, names]) =>
    names.filter((f) => f.endsWith('.tmp')).map((f) => join(dir, sub, f)),
  );

  const badModes: string[] = [];
  for (const sub of ['', 'certs', 'keys']) {
    const mode = modeOf(join(dir, sub));
    if (mode !== null && mode !== 0o700) badModes.push(`${join(dir, sub)} is ${mode.toString(8)}, not 700`);
  }
  const files = [
    'index.json',
    'expiry.json',
    'master-key.json',
    ...keyFiles.map((f) => `keys/${f}`),
    ...listing.certs.map((f) => `certs/${f}`),
  ];
  for (const f of files) {
    const mode = modeOf(join(dir, f));
    if (mode !== null && mode !== 0o600) badModes.push(`${f} is ${mode.toString(8)}, not 600`);
  }

  return [
    problems.length === 0
      ? check(
          'store-files',
          'ok',
          `index parses; every certificate and key it names is present (${Object.keys(index.records).length} record(s))`,
        )
      : check(
          'store-files',
          'fail',
          problems.join('; '),
          'restore the missing files from a backup, or retire the record: apns-cert retire <name>',
        ),
    orphanFiles.length === 0
      ? check('store-orphans', 'ok', 'no key or certificate file without a record')
      : check(
          'store-orphans',
          'warn',
          orphanFiles.join('; '),
          `ls -l ${[...(orphans.length > 0 ? [join(dir, 'keys')] : []), ...(orphanCerts.length > 0 ? [join(dir, 'certs')] : [])].join(' ')}   # left by an interrupted command; safe to delete once checked`,
        ),
    temporary.length === 0
      ? check('store-temporary-files', 'ok', 'no temporary file left by an interrupted write')
      : check(
          'store-temporary-files',
          'warn',
          `${temporary.length} temporary file(s) left by an interrupted write`,
          `rm -f ${temporary.join(' ')}`,
        ),
    badModes.length === 0
      ? check('store-permissions', 'ok', 'directories 0700, files 0600')
      : check('store-permissions', 'fail', badModes.join('; '), `chmod -R go-rwx ${dir}`),
  ];
}

function expiryChecks(index: StoreIndex, opts: DoctorOptions, now: Date): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  for (const record of Object.values(index.records)) {
    const active = activeCertificate(record);
    if (active === undefined || record.retiredAt !== null) continue;
    const notAfter = new Date(active.notAfter);
    const days = daysRemaining(notAfter, now);
    const status = classifyExpiry(notAfter, now, { warnDays: opts.warnDays, criticalDays: opts.criticalDays });
    const message = `${daysText(days)} (${active.notAfter})`;
    out.push(
      check(
        `expiry ${record.name}`,
        status === 'ok' ? 'ok' : status === 'warning' ? 'warn' : 'fail',
        message,
        status === 'ok' ? null : `apns-cert renew ${record.name}`,
      ),
    );
  }
  return out;
}

async function networkChecks(endpoints: Endpoint[]): Promise<DoctorCheck[]> {
  const results = await Promise.all(endpoints.map((e) => tcpReachable(e, 5000)));
  return endpoints.map((e, i) => {
    const failure = results[i];
    const name = `network ${e.host}:${e.port}`;
    return failure === null
      ? check(name, 'ok', 'TCP connection opened')
      : check(
          name,
          'fail',
          `no TCP connection: ${failure}`,
          `allow outbound TCP to ${e.host} port ${e.port} (Apple: 443 and 2197 to api.push.apple.com, 5223 to *.push.apple.com)`,
        );
  });
}

async function probeChecks(index: StoreIndex, opts: DoctorOptions, deps: Deps): Promise<DoctorCheck[]> {
  const url = probeUrl(opts.apnsUrl, false);
  const caPem = await readCaFile(opts.caFile);
  const out: DoctorCheck[] = [];
  for (const record of Object.values(index.records)) {
    if (activeCertificate(record) === undefined || record.retiredAt !== null) continue;
    const name = `probe ${record.name}`;
    try {
      const result = await probeIdentity(await identityFromStore(record.name, deps), url, caPem, deps);
      const status: CheckStatus = result.verdict === 'accepted' ? 'ok' : 'fail';
      out.push(check(name, status, result.detail, status === 'ok' ? null : `apns-cert probe ${record.name}`));
    } catch (error) {
      if (!isAppError(error)) throw error;
      out.push(check(name, 'warn', `not probed: ${error.message}`, error.hint ?? null));
    }
  }
  return out;
}

export const doctor: Runner<DoctorOptions> = {
  async run(options: DoctorOptions, deps: Deps) {
    const endpoints = (options.apnsEndpoints.length > 0 ? options.apnsEndpoints : DEFAULT_ENDPOINTS).map((text) => {
      const endpoint = parseEndpoint(text);
      if (endpoint === null)
        throw new AppError('USAGE', `read --apns-endpoint: "${text}" is not host:port`, {
          hint: 'apns-cert doctor --apns-endpoint api.push.apple.com:443',
        });
      return endpoint;
    });
    const network = options.offline ? Promise.resolve([]) : networkChecks(endpoints);
    const checks: DoctorCheck[] = [];
    // A store the tool refuses to use (another owner, writable by others) is reported, and not read.
    const unsafe = deps.store.safetyProblem();
    const index = unsafe === null ? await deps.store.readIndex() : null;
    if (unsafe !== null) {
      checks.push(check('store', 'fail', `refused: ${unsafe.message}`, unsafe.hint));
    } else if (index === null) {
      checks.push(check('store', 'warn', `no store at ${deps.store.dir} yet`, 'apns-cert csr --name <name>'));
    } else {
      checks.push(check('store', 'ok', `${deps.store.dir} (${index.secretBackend} backend)`));
      checks.push(await secretBackend(index, deps));
      checks.push(...(await storeFiles(index, deps)));
      checks.push(...expiryChecks(index, options, deps.now()));
    }
    checks.push(...(await network));
    if (!options.offline && index !== null) checks.push(...(await probeChecks(index, options, deps)));

    const ok = checks.every((c) => c.status !== 'fail');
    if (deps.out.json) {
      deps.out.document({ ok, checks });
    } else {
      const s = deps.out.style;
      const word = { ok: s.green('ok  '), warn: s.yellow('warn'), fail: s.red('FAIL') };
      for (const c of checks) {
        deps.out.data(`${word[c.status]}  ${c.check.padEnd(28)} ${c.message}`);
        if (c.hint !== null && c.status !== 'ok') deps.out.data(`      ${' '.repeat(28)} hint: ${c.hint}`);
      }
    }
    return ok ? 0 : 1;
  },
};
