import { Option } from 'commander';
import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { classifyExpiry, evaluateExpiry, validateThresholds, worst } from '../core/expiry.js';
import type { CheckStatus, ExpiryInput } from '../core/expiry.js';
import { summaryRecords } from '../core/expiry-summary.js';
import type { SummaryRecord } from '../core/expiry-summary.js';
import { formatJson, formatText, summary } from '../output/expiry-report.js';
import type { ExpiryReport, Painter } from '../output/expiry-report.js';
import { collect, isoInstant, recordName, wholeNumber, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export type ExpiryFormat = 'text' | 'json' | 'prometheus' | 'nagios';

export interface CheckExpiryOptions {
  files: string[];
  names: string[];
  warnDays: number;
  criticalDays: number;
  at: Date | undefined;
  format: ExpiryFormat | undefined;
  output: string | undefined;
  notify: string | undefined;
}

interface Problem {
  source: string;
  message: string;
}

const NAGIOS_EXIT: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

async function fromFiles(files: string[], deps: Deps, problems: Problem[]): Promise<ExpiryInput[]> {
  const { isPkcs12, summarizeCertificateFile } = await import('../core/input.js');
  const { decodeCertificates } = await import('./shared/read-certificates.js');
  const items: ExpiryInput[] = [];
  for (const file of files) {
    try {
      const bytes = await deps.readInput(file);
      const certs = isPkcs12(bytes) ? (await decodeCertificates(bytes, file, deps)).certificates : summarizeCertificateFile(bytes, file);
      const cert = certs.find((c) => c.topic !== null) ?? certs[0]!;
      items.push({ name: null, source: file, topic: cert.topic, notAfter: cert.notAfter });
    } catch (error) {
      problems.push({ source: file, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return items;
}

/** Every record's name, topic, retirement and active expiry: from expiry.json when it is current, else from the index. */
async function storeRecords(deps: Deps): Promise<SummaryRecord[] | null> {
  const summary = deps.store.readSummary();
  if (summary !== null) return summary;
  const index = await deps.store.readIndex();
  return index === null ? null : summaryRecords(index);
}

async function fromStore(names: string[], deps: Deps, problems: Problem[]): Promise<ExpiryInput[]> {
  const records = await storeRecords(deps);
  if (records === null) {
    problems.push({ source: deps.store.dir, message: `no store at ${deps.store.dir}` });
    return [];
  }
  for (const name of names) {
    if (!records.some((r) => r.name === name)) problems.push({ source: name, message: `no record "${name}" in the store` });
  }
  const items: ExpiryInput[] = [];
  for (const record of records) {
    if (names.length > 0 && !names.includes(record.name)) continue;
    if (record.retired || record.notAfter === null) continue;
    items.push({ name: record.name, source: record.name, topic: record.topic, notAfter: new Date(record.notAfter) });
  }
  if (items.length === 0 && problems.length === 0) {
    problems.push({ source: deps.store.dir, message: 'no active certificate to check in the store' });
  }
  return items;
}

export const checkExpiry: CommandModule<CheckExpiryOptions> = {
  name: 'check-expiry',
  errorExitCode: 3,
  define(program) {
    const command = program
      .command('check-expiry')
      .summary('check expiry for cron and monitoring (Nagios exit codes)')
      .description(
        'Check the active certificates of the store (or the given certificate files instead). Reads the index only: no keychain, no passphrase. ' +
          'A certificate is CRITICAL when expired or with fewer than --critical-days days left, WARNING with fewer than --warn-days.',
      )
      .argument('[files...]', 'certificate files to check instead of the store')
      .option('--warn-days <days>', 'WARNING below this many days left', wholeNumber, 30)
      .option('--critical-days <days>', 'CRITICAL below this many days left', wholeNumber, 7)
      .option('--name <name>', 'check only this record (repeatable)', (value: string, previous: string[]) => collect(recordName(value), previous), [])
      .option('--at <iso-date>', 'evaluate as of this instant instead of now', isoInstant)
      .addOption(new Option('--format <format>', 'output format (--json = --format json)').choices(['text', 'json', 'prometheus', 'nagios']))
      .option('--output <file>', 'write the output to this file atomically (temp file + rename), e.g. for the node_exporter textfile collector')
      .option('--notify <url>', 'when the status is WARNING or worse, POST a JSON message (Slack/Teams "text" + the result) to this webhook');
    return withHelp(command, {
      exitCodes: [
        [0, 'OK: every certificate has at least --warn-days days left'],
        [1, 'WARNING: some certificate has fewer than --warn-days days left'],
        [2, 'CRITICAL: some certificate has fewer than --critical-days days left, or has expired'],
        [3, 'UNKNOWN: the check could not run (no store, damaged index, unreadable file, unknown name, bad option or --notify URL, --output not writable)'],
      ],
      examples: [
        'apns-cert check-expiry -q            # cron: silent when all is well',
        'apns-cert check-expiry --warn-days 45 --critical-days 14 --name acme-prod',
        'apns-cert check-expiry --json /etc/mdm/push.pem | jq .status',
        'apns-cert check-expiry --format prometheus --output /var/lib/node_exporter/textfile/apns_cert.prom',
        'apns-cert check-expiry --format nagios   # as a Nagios/Icinga plugin',
        'apns-cert check-expiry -q --notify https://hooks.slack.com/services/...',
        'apns-cert check-expiry --at 2027-06-01',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{ warnDays: number; criticalDays: number; name: string[]; at?: Date; format?: ExpiryFormat; output?: string; notify?: string }>();
    return { files: command.args, names: o.name, warnDays: o.warnDays, criticalDays: o.criticalDays, at: o.at, format: o.format, output: o.output, notify: o.notify };
  },
  async run(options: CheckExpiryOptions, deps: Deps) {
    const thresholds = validateThresholds({ warnDays: options.warnDays, criticalDays: options.criticalDays });
    if (options.files.length > 0 && options.names.length > 0) {
      throw new AppError('USAGE', 'check-expiry: give certificate files or --name, not both', { hint: 'apns-cert check-expiry --name acme-prod' });
    }
    const notifyUrl = options.notify === undefined ? undefined : webhookUrl(options.notify);
    const format: ExpiryFormat = options.format ?? (deps.out.json ? 'json' : 'text');
    const now = options.at ?? deps.now();
    const problems: Problem[] = [];
    const items = options.files.length > 0 ? await fromFiles(options.files, deps, problems) : await fromStore(options.names, deps, problems);
    const status = worst([...items.map((i) => classifyExpiry(i.notAfter, now, thresholds)), ...(problems.length > 0 ? (['unknown'] as const) : [])]);
    // -q and all OK: nothing to print, and nothing to notify (only WARNING or worse is sent).
    if (format === 'text' && deps.out.quiet && status === 'ok' && options.output === undefined) return NAGIOS_EXIT.ok;
    const results = evaluateExpiry(items, now, thresholds);
    const report: ExpiryReport = {
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
    };

    const rendered = await render(format, report, options.output === undefined ? deps.out.style : undefined);
    if (options.output !== undefined) await writeAtomically(options.output, rendered);
    else deps.out.raw(rendered);

    // Only WARNING or worse is sent, so the exit code is already non-zero: a failed notification is
    // reported on stderr and never replaces the expiry status.
    if (notifyUrl !== undefined && status !== 'ok') {
      const { postWebhook } = await import('../output/webhook.js');
      const failure = await postWebhook(notifyUrl, { text: `APNS-CERT ${status.toUpperCase()}: ${summary(report)}`, ...report }, webhookTimeout(deps.env));
      if (failure !== null) deps.out.error(`apns-cert: notify ${notifyUrl.origin}: ${failure}`);
    }
    return NAGIOS_EXIT[status];
  },
};

function webhookTimeout(env: NodeJS.ProcessEnv): number {
  const raw = env.APNS_CERT_NOTIFY_TIMEOUT_MS;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 10_000;
}

function webhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('USAGE', `read --notify: "${raw}" is not a URL`, { hint: 'apns-cert check-expiry --notify https://hooks.example.com/...' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('USAGE', `read --notify: only http(s) webhooks are supported, not ${url.protocol}`, { hint: 'apns-cert check-expiry --notify https://hooks.example.com/...' });
  }
  return url;
}

async function render(format: ExpiryFormat, report: ExpiryReport, style: Deps['out']['style'] | undefined): Promise<string> {
  switch (format) {
    case 'json':
      return formatJson(report);
    case 'prometheus':
      return (await import('../output/prometheus.js')).formatPrometheus(report);
    case 'nagios':
      return (await import('../output/nagios.js')).formatNagios(report);
    case 'text': {
      const plain = (t: string) => t;
      const paint: Painter = style ? { ok: style.green, warning: style.yellow, critical: style.red, unknown: style.magenta } : { ok: plain, warning: plain, critical: plain, unknown: plain };
      return formatText(report, paint);
    }
  }
}

/** Temp file + rename in the same directory, as the textfile collector requires. */
async function writeAtomically(path: string, data: string): Promise<void> {
  const { replaceFileAtomically } = await import('../store/files.js');
  try {
    replaceFileAtomically(path, data, { mode: 0o644, fsync: true });
  } catch (error) {
    throw new AppError('CANNOT_WRITE', `write --output ${path}: ${(error as Error).message}`, { hint: `ls -ld "$(dirname ${path})"` });
  }
}
