import { AppError } from '../../errors.js';
import { classifyExpiry, evaluateExpiry, worst, worstOfIsoDates } from '../../core/expiry.js';
import type { CheckStatus, ExpiryInput } from '../../core/expiry.js';
import { soonestExpiry, summaryRecords } from '../../core/expiry-summary.js';
import type { SummaryRecord } from '../../core/expiry-summary.js';
import { formatJson, formatText, summary } from '../../output/expiry-report.js';
import { formatNagios } from '../../output/nagios.js';
import { formatPrometheus } from '../../output/prometheus.js';
import type { ExpiryReport, Painter, ReportTarget } from '../../output/expiry-report.js';
import { recordNamed } from '../../core/index-model.js';
import { targetSeverity } from '../../core/target-state.js';
import { JSON_SCHEMA_VERSION } from '../../output/output.js';
import type { Runner, Deps } from '../kit.js';
import { asOf } from '../shared/options.js';
import { readSecretFile, writeOutputFile } from '../../io/files.js';
import { statSync } from 'node:fs';

export type ExpiryFormat = 'text' | 'json' | 'prometheus' | 'nagios';

export interface CheckExpiryOptions {
  files: string[];
  names: string[];
  warnDays: number;
  criticalDays: number;
  at: Date | undefined;
  format: ExpiryFormat | undefined;
  output: string | undefined;
  /** Given only to be refused: a URL on the command line is in every process list. */
  notify: string | undefined;
  notifyFile: string | undefined;
  passwordFile: string | undefined;
  /** Also read back what each record's targets run (deploy --check). */
  targets: boolean;
}

interface Problem {
  source: string;
  message: string;
}

const NAGIOS_EXIT: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

async function fromFiles(
  files: string[],
  passwordFile: string | undefined,
  deps: Deps,
  problems: Problem[],
): Promise<ExpiryInput[]> {
  // loaded here, not with the module: they load node:crypto, which the cron path over the store does not need
  const { isPkcs12, summarizeCertificateFile } = await import('../../core/input.js');
  const { decodeCertificates } = await import('../shared/read-certificates.js');
  const items: ExpiryInput[] = [];
  for (const file of files) {
    try {
      const bytes = await deps.readInput(file);
      const certs = isPkcs12(bytes)
        ? (await decodeCertificates(bytes, file, deps, { passwordFile })).certificates
        : summarizeCertificateFile(bytes, file);
      const cert = certs.find((c) => c.topic !== null) ?? certs[0]!;
      items.push({ name: null, source: file, topic: cert.topic, notAfter: cert.notAfter, owner: null, note: null });
    } catch (error) {
      problems.push({ source: file, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return items;
}

/** Every record's name, topic, retirement and active expiry: from expiry.json when it is current, else from the index. */
async function storeRecords(deps: Deps): Promise<SummaryRecord[] | null> {
  const summary = await deps.store.readSummary();
  if (summary !== null) return summary;
  const index = await deps.store.read();
  return index === null ? null : summaryRecords(index);
}

function fromStore(records: SummaryRecord[] | null, names: string[], deps: Deps, problems: Problem[]): ExpiryInput[] {
  if (records === null) {
    problems.push({ source: deps.store.location, message: `no store at ${deps.store.location}` });
    return [];
  }
  for (const name of names) {
    if (!records.some((r) => r.name === name))
      problems.push({ source: name, message: `no record "${name}" in the store` });
  }
  const items: ExpiryInput[] = [];
  for (const record of records) {
    if (names.length > 0 && !names.includes(record.name)) continue;
    if (record.retired || record.notAfter === null) continue;
    items.push({
      name: record.name,
      source: record.name,
      topic: record.topic,
      notAfter: new Date(record.notAfter),
      owner: record.owner,
      note: record.note,
    });
  }
  if (items.length === 0 && problems.length === 0) {
    problems.push({ source: deps.store.location, message: 'no active certificate to check in the store' });
  }
  return items;
}

type CheckedTarget = ReportTarget & { severity: ReturnType<typeof targetSeverity> };

/**
 * What the targets of each checked record run, by record name (deploy --check). Loaded here, not with the module:
 * the cron path without --targets needs no network and no secrets. Targets with a credential unlock the store.
 */
async function targetsOf(items: ExpiryInput[], deps: Deps): Promise<Map<string, CheckedTarget[]>> {
  const { checkTargets } = await import('../shared/target-reading.js');
  const out = new Map<string, CheckedTarget[]>();
  const index = await deps.store.read();
  if (index === null) return out;
  for (const item of items) {
    const record = item.name === null ? undefined : recordNamed(index, item.name);
    if (record === undefined) continue;
    const checks = await checkTargets(index, record, record.targets, deps);
    out.set(
      record.name,
      checks.map((c) => ({
        label: c.label,
        kind: c.kind,
        state: c.state,
        message: c.message,
        severity: targetSeverity(c.state, c.sameTopic),
      })),
    );
  }
  return out;
}

export const checkExpiry: Runner<CheckExpiryOptions> = {
  async run(options: CheckExpiryOptions, deps: Deps) {
    const thresholds = { warnDays: options.warnDays, criticalDays: options.criticalDays };
    if (options.files.length > 0 && options.names.length > 0) {
      throw new AppError('USAGE', 'check-expiry: give certificate files or --name, not both', {
        hint: 'apns-cert check-expiry --name acme-prod',
      });
    }
    if (options.targets && options.files.length > 0) {
      throw new AppError('USAGE', 'check-expiry: --targets checks the records of the store, not certificate files', {
        hint: 'apns-cert check-expiry --targets',
      });
    }
    const webhook = await webhookUrl(options, deps);
    const format: ExpiryFormat = options.format ?? (deps.out.json ? 'json' : 'text');
    const now = asOf(options.at, deps.now);
    const problems: Problem[] = [];
    const quiet = format === 'text' && deps.out.quiet && options.output === undefined;
    const wholeStore = quiet && options.files.length === 0 && options.names.length === 0 && !options.targets;
    // -q over the whole store: when even the soonest expiry is OK, there is nothing to print or send
    const soonestIsOk = (soonest: string | null) =>
      soonest !== null && worstOfIsoDates([soonest], now, thresholds) === 'ok';
    if (wholeStore && soonestIsOk((await deps.store.soonestExpiry?.()) ?? null)) return NAGIOS_EXIT.ok;
    const records = options.files.length > 0 ? null : await storeRecords(deps);
    if (wholeStore && records !== null && soonestIsOk(soonestExpiry(records))) return NAGIOS_EXIT.ok;
    const items =
      options.files.length > 0
        ? await fromFiles(options.files, options.passwordFile, deps, problems)
        : fromStore(records, options.names, deps, problems);
    const targets = options.targets ? await targetsOf(items, deps) : undefined;
    const status = worst([
      ...items.map((i) => classifyExpiry(i.notAfter, now, thresholds)),
      ...[...(targets?.values() ?? [])].flat().map((t) => t.severity),
      ...(problems.length > 0 ? (['unknown'] as const) : []),
    ]);
    // -q and all OK: nothing to print, and nothing to notify (only WARNING or worse is sent).
    if (quiet && status === 'ok') return NAGIOS_EXIT.ok;
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
        owner: r.owner,
        note: r.note,
        ...(targets !== undefined && r.name !== null
          ? { targets: (targets.get(r.name) ?? []).map(({ severity: _, ...t }) => t) }
          : {}),
      })),
      errors: problems,
    };

    const rendered = await render(format, report, options.output === undefined ? deps.out.style : undefined);
    if (options.output !== undefined) {
      // Replaced by rename, as the textfile collector requires; its directory must exist already.
      await writeOutputFile(options.output, rendered, {
        force: true,
        flag: '--output',
        store: deps.store,
        mode: 0o644,
        parents: false,
      });
    } else deps.out.raw(rendered);
    // The Prometheus format has no place for them, and a file is not read by the person running the check:
    // each problem is named on stderr, as the text format names it on stdout.
    if (format === 'prometheus' || options.output !== undefined) {
      for (const p of problems) deps.out.error(`apns-cert: check-expiry ${p.source}: ${p.message}`);
    }

    // Only WARNING or worse is sent, so the exit code is already non-zero: a failed notification is
    // reported on stderr and never replaces the expiry status.
    if (webhook !== undefined && status !== 'ok') {
      const { postWebhook } = await import('../../output/webhook.js'); // node:http(s): only when notifying
      const failure = await postWebhook(
        webhook.url,
        {
          schemaVersion: JSON_SCHEMA_VERSION,
          text: `APNS-CERT ${status.toUpperCase()}: ${summary(report)}`,
          ...report,
        },
        deps.settings.notifyTimeoutMs,
      );
      if (failure !== null) {
        deps.out.error(`apns-cert: notify ${webhook.url.origin}: ${failure}`);
        deps.out.error(
          `hint: curl -sS -X POST -H 'content-type: application/json' -d '{"text":"apns-cert test"}' ${webhook.shellWord}`,
        );
      }
    }
    return NAGIOS_EXIT[status];
  },
};

const WEBHOOK_HINT =
  'chmod 600 webhook-url && apns-cert check-expiry --notify-file webhook-url   # the file holds the URL';

/**
 * The webhook URL from --notify-file, else $APNS_CERT_NOTIFY_URL; never from the command line. Messages never echo
 * it; `shellWord` is what a shell command can use in its place.
 */
async function webhookUrl(
  options: CheckExpiryOptions,
  deps: Deps,
): Promise<{ url: URL; shellWord: string } | undefined> {
  if (options.notify !== undefined) {
    throw new AppError(
      'USAGE',
      '--notify <url> is refused: a webhook URL is a secret, and a command-line value is in every process list',
      { hint: WEBHOOK_HINT },
    );
  }
  let raw: string;
  let from: string;
  let shellWord: string;
  if (options.notifyFile !== undefined) {
    raw = readSecretFile(options.notifyFile, '--notify-file').trim();
    from = `--notify-file ${options.notifyFile}`;
    shellWord = `"$(cat '${options.notifyFile.replace(/'/g, "'\\''")}')"`;
    const mode = statSync(options.notifyFile).mode & 0o777;
    if ((mode & 0o077) !== 0)
      deps.out.warn(
        `${options.notifyFile} holds a webhook URL (a secret) and is mode ${mode.toString(8)}: chmod 600 ${options.notifyFile}`,
      );
  } else if (deps.settings.notifyUrl !== undefined) {
    raw = deps.settings.notifyUrl.trim();
    from = 'APNS_CERT_NOTIFY_URL';
    shellWord = '"$APNS_CERT_NOTIFY_URL"';
  } else {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('USAGE', `read ${from}: the webhook URL is not a URL`, { hint: WEBHOOK_HINT });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('USAGE', `read ${from}: only http(s) webhooks are supported, not ${url.protocol}`, {
      hint: WEBHOOK_HINT,
    });
  }
  return { url, shellWord };
}

async function render(
  format: ExpiryFormat,
  report: ExpiryReport,
  style: Deps['out']['style'] | undefined,
): Promise<string> {
  switch (format) {
    case 'json':
      return formatJson(report);
    case 'prometheus':
      return formatPrometheus(report);
    case 'nagios':
      return formatNagios(report);
    case 'text': {
      const plain = (t: string) => t;
      const paint: Painter = style
        ? { ok: style.green, warning: style.yellow, critical: style.red, unknown: style.magenta }
        : { ok: plain, warning: plain, critical: plain, unknown: plain };
      return formatText(report, paint);
    }
  }
}
