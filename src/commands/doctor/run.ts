import { AppError, isAppError } from '../../errors.js';
import { classifyExpiry, daysRemaining } from '../../core/expiry.js';
import { certificateInService } from '../../core/index-model.js';
import type { StoreIndex } from '../../core/index-model.js';
import type { Endpoint } from '../../net/tcp.js';
import { parseEndpoint, tcpReachable } from '../../net/tcp.js';
import { daysText } from '../../output/output.js';
import type { StoreAudit } from '../../store/store.js';
import type { Runner, Deps } from '../kit.js';
import { userError } from '../shared/errors.js';
import { identityFromStore } from '../shared/identity.js';
import { probeIdentity, probeUrl, readCaFile } from '../shared/probe.js';

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
    await deps.store.unlock(index);
    return check(
      'secret-backend',
      'ok',
      index.secretBackend === 'keychain'
        ? 'the keychain is reachable and holds the store master key'
        : 'the passphrase opens the store master key',
    );
  } catch (caught) {
    const error = userError(caught, 'doctor');
    if (!isAppError(error)) throw error;
    // no passphrase given, or a database role that may not read the vault (a monitor role): not a fault of the store
    const status: CheckStatus =
      (error.code === 'SECRETS_UNAVAILABLE' && index.secretBackend === 'passphrase') ||
      error.code === 'PERMISSION_DENIED'
        ? 'warn'
        : 'fail';
    return check('secret-backend', status, `${index.secretBackend}: ${error.message}`, error.hint ?? null);
  }
}

const orphanText = (count: number, what: string, names: string[]) =>
  `${count} ${what} file(s) belong to no record: ${names.map((o) => o.slice(0, 16)).join(', ')}`;

/** The store's files, from what Store.audit found. */
function storeFiles(audit: StoreAudit, index: StoreIndex): DoctorCheck[] {
  const problems = audit.missing.map(
    (m) =>
      `${m.record}: ${m.kind === 'certificate' ? `certificate ${m.ref}` : `${m.kind} ${m.ref.slice(0, 16)}…`} ${m.problem === 'missing' ? 'is missing' : 'leads out of the store'}`,
  );
  const orphans = [
    ...(audit.orphanKeys.length === 0 ? [] : [orphanText(audit.orphanKeys.length, 'key', audit.orphanKeys)]),
    ...(audit.orphanCertificates.length === 0
      ? []
      : [orphanText(audit.orphanCertificates.length, 'certificate', audit.orphanCertificates)]),
    ...(audit.orphanSecrets.length === 0
      ? []
      : [orphanText(audit.orphanSecrets.length, 'secret', audit.orphanSecrets)]),
  ];
  const badModes = audit.badModes.map((b) => `${b.what} is ${b.mode.toString(8)}, not ${b.wanted.toString(8)}`);
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
    orphans.length === 0
      ? check('store-orphans', 'ok', 'no key, certificate or secret file without a record')
      : check(
          'store-orphans',
          'warn',
          orphans.join('; '),
          `ls -l ${audit.orphanPlaces.join(' ')}   # left by an interrupted command; safe to delete once checked`,
        ),
    audit.temporary.length === 0
      ? check('store-temporary-files', 'ok', 'no temporary file left by an interrupted write')
      : check(
          'store-temporary-files',
          'warn',
          `${audit.temporary.length} temporary file(s) left by an interrupted write`,
          `rm -f ${audit.temporary.join(' ')}`,
        ),
    badModes.length === 0
      ? check('store-permissions', 'ok', 'directories 0700, files 0600')
      : check('store-permissions', 'fail', badModes.join('; '), `chmod -R go-rwx ${audit.location}`),
  ];
}

function expiryChecks(index: StoreIndex, opts: DoctorOptions, now: Date): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  for (const record of Object.values(index.records)) {
    const active = certificateInService(record);
    if (active === undefined) continue;
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
    // A keyless record's key is on its server: there is nothing here to probe with.
    if (certificateInService(record)?.keyId == null) continue;
    const name = `probe ${record.name}`;
    try {
      const result = await probeIdentity(await identityFromStore(record.name, deps), url, caPem, deps);
      const status: CheckStatus = result.verdict === 'accepted' ? 'ok' : 'fail';
      out.push(check(name, status, result.detail, status === 'ok' ? null : `apns-cert probe ${record.name}`));
    } catch (caught) {
      const error = userError(caught, 'doctor');
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
    const audit = await deps.store.audit();
    const { unsafe, index } = audit;
    if (unsafe !== null) {
      checks.push(check('store', 'fail', `refused: ${unsafe.message}`, unsafe.hint));
    } else if (index === null) {
      checks.push(check('store', 'warn', `no store at ${deps.store.location} yet`, 'apns-cert csr --name <name>'));
    } else {
      checks.push(check('store', 'ok', `${deps.store.location} (${index.secretBackend} backend)`));
      checks.push(await secretBackend(index, deps));
      checks.push(...storeFiles(audit, index));
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
