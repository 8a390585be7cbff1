import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { evaluateExpiry, validateThresholds, worst } from '../core/expiry.js';
import type { CheckStatus, ExpiryInput, ExpiryResult } from '../core/expiry.js';
import { activeCertificate } from '../core/index-model.js';
import { daysText, shortDate } from '../output/output.js';
import { collect, isoInstant, wholeNumber, withHelp } from './kit.js';
import { readCertificates } from './shared/read-certificates.js';
import type { CommandModule, Deps } from './kit.js';

export interface CheckExpiryOptions {
  files: string[];
  names: string[];
  warnDays: number;
  criticalDays: number;
  at: Date | undefined;
}

interface Problem {
  source: string;
  message: string;
}

const NAGIOS_EXIT: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

async function fromFiles(files: string[], deps: Deps, problems: Problem[]): Promise<ExpiryInput[]> {
  const items: ExpiryInput[] = [];
  for (const file of files) {
    try {
      const decoded = await readCertificates(file, deps);
      const cert = decoded.certificates.find((c) => c.topic !== null) ?? decoded.certificates[0]!;
      items.push({ name: null, source: file, topic: cert.topic, notAfter: cert.notAfter });
    } catch (error) {
      problems.push({ source: file, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return items;
}

async function fromStore(names: string[], deps: Deps, problems: Problem[]): Promise<ExpiryInput[]> {
  const index = await deps.store.readIndex();
  if (index === null) {
    problems.push({ source: deps.store.dir, message: `no store at ${deps.store.dir}` });
    return [];
  }
  for (const name of names) {
    if (index.records[name] === undefined) problems.push({ source: name, message: `no record "${name}" in the store` });
  }
  const items: ExpiryInput[] = [];
  for (const record of Object.values(index.records)) {
    if (names.length > 0 && !names.includes(record.name)) continue;
    if (record.retiredAt !== null) continue;
    const active = activeCertificate(record);
    if (active === undefined) continue;
    items.push({ name: record.name, source: record.name, topic: record.topic, notAfter: new Date(active.notAfter) });
  }
  if (items.length === 0 && problems.length === 0) {
    problems.push({ source: deps.store.dir, message: 'no active certificate to check in the store' });
  }
  return items;
}

export const checkExpiry: CommandModule<CheckExpiryOptions> = {
  errorExitCode: 3,
  define(program) {
    const command = program
      .command('check-expiry')
      .summary('check expiry for cron and monitoring (Nagios exit codes)')
      .description('Check the active certificates of the store (or the given certificate files instead). Reads the index only: no keychain, no passphrase. A certificate is CRITICAL when expired or with fewer than --critical-days days left, WARNING with fewer than --warn-days.')
      .argument('[files...]', 'certificate files to check instead of the store')
      .option('--warn-days <days>', 'WARNING below this many days left', wholeNumber, 30)
      .option('--critical-days <days>', 'CRITICAL below this many days left', wholeNumber, 7)
      .option('--name <name>', 'check only this record (repeatable)', collect, [])
      .option('--at <iso-date>', 'evaluate as of this instant instead of now', isoInstant);
    return withHelp(command, {
      exitCodes: [
        [0, 'OK: every certificate has at least --warn-days days left'],
        [1, 'WARNING: some certificate has fewer than --warn-days days left'],
        [2, 'CRITICAL: some certificate has fewer than --critical-days days left, or has expired'],
        [3, 'UNKNOWN: the check could not run (no store, damaged index, unreadable file, unknown name, bad option)'],
      ],
      examples: [
        'apns-cert check-expiry -q            # cron: silent when all is well',
        'apns-cert check-expiry --warn-days 45 --critical-days 14 --name acme-prod',
        'apns-cert check-expiry --json /etc/mdm/push.pem | jq .status',
        'apns-cert check-expiry --at 2027-06-01',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{ warnDays: number; criticalDays: number; name: string[]; at?: Date }>();
    return { files: command.args, names: o.name, warnDays: o.warnDays, criticalDays: o.criticalDays, at: o.at };
  },
  async run(options: CheckExpiryOptions, deps: Deps) {
    const thresholds = validateThresholds({ warnDays: options.warnDays, criticalDays: options.criticalDays });
    if (options.files.length > 0 && options.names.length > 0) {
      throw new AppError('USAGE', 'check-expiry: give certificate files or --name, not both', { hint: 'apns-cert check-expiry --name acme-prod' });
    }
    const now = options.at ?? deps.now();
    const problems: Problem[] = [];
    const items = options.files.length > 0 ? await fromFiles(options.files, deps, problems) : await fromStore(options.names, deps, problems);
    const results = evaluateExpiry(items, now, thresholds);
    const status = worst([...results.map((r) => r.status), ...(problems.length > 0 ? (['unknown'] as const) : [])]);

    if (deps.out.json) {
      deps.out.document({
        status,
        checkedAt: now.toISOString(),
        warnDays: thresholds.warnDays,
        criticalDays: thresholds.criticalDays,
        certificates: results.map((r) => ({
          name: r.name,
          ...(r.name === null ? { file: r.source } : {}),
          topic: r.topic,
          notAfter: r.notAfter.toISOString(),
          daysRemaining: r.daysRemaining,
          status: r.status,
        })),
        errors: problems,
      });
    } else if (!(deps.out.quiet && status === 'ok')) {
      printText(results, problems, status, deps);
    }
    return NAGIOS_EXIT[status];
  },
};

function printText(results: ExpiryResult[], problems: Problem[], status: CheckStatus, deps: Deps): void {
  const s = deps.out.style;
  const paint: Record<CheckStatus, (t: string) => string> = { ok: s.green, warning: s.yellow, critical: s.red, unknown: s.magenta };
  deps.out.data(`${paint[status](status.toUpperCase())}: ${results.length} certificate${results.length === 1 ? '' : 's'} checked${problems.length > 0 ? `, ${problems.length} could not be` : ''}`);
  for (const p of problems) deps.out.data(`  ${paint.unknown('UNKNOWN'.padEnd(8))} ${p.source}: ${p.message}`);
  for (const r of results) {
    deps.out.data(`  ${paint[r.status](r.status.toUpperCase().padEnd(8))} ${r.source}  ${r.topic ?? '(no topic)'}  ${shortDate(r.notAfter)}  ${daysText(r.daysRemaining)}`);
  }
}
