import { daysRemaining } from '../core/expiry.js';
import { activeCertificate, recordStatus } from '../core/index-model.js';
import type { PushRecord } from '../core/index-model.js';
import { daysText, shortDate } from '../output/output.js';
import { COMMON_ERRORS, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export function recordSummary(record: PushRecord, now: Date) {
  const active = activeCertificate(record);
  const status = recordStatus(record, now);
  return {
    name: record.name,
    topic: record.topic,
    topicHash: record.topicHash,
    notAfter: active?.notAfter ?? null,
    daysRemaining: active === undefined ? null : daysRemaining(new Date(active.notAfter), now),
    status,
    serialNumber: active?.serialNumber ?? null,
    pendingKey: record.pendingKey !== null,
  };
}

export const list: CommandModule<Record<string, never>> = {
  name: 'list',
  define(program) {
    const command = program
      .command('list')
      .summary('list the push identities in the store')
      .description(
        'List every record: status (active | expired | pending | retired), topic, expiry. Reads the index only.',
      );
    return withHelp(command, {
      exitCodes: [[0, 'listed (an empty or missing store lists nothing)'], ...COMMON_ERRORS],
      examples: [
        'apns-cert list',
        'apns-cert list --json | jq -r \'.certificates[] | select(.status != "active") | .name\'',
      ],
    });
  },
  options() {
    return {};
  },
  async run(_options, deps: Deps) {
    const index = await deps.store.read();
    const now = deps.now();
    const rows = Object.values(index?.records ?? {})
      .map((r) => recordSummary(r, now))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (deps.out.json) {
      deps.out.document({ certificates: rows });
      return 0;
    }
    if (rows.length === 0) {
      deps.out.info(`No certificates in ${deps.store.location}. Start with: apns-cert csr --name <name>`);
      return 0;
    }
    const s = deps.out.style;
    deps.out.data(
      s.bold(`${'NAME'.padEnd(20)} ${'STATUS'.padEnd(8)} ${'NOT AFTER'.padEnd(10)}  ${'DAYS'.padEnd(18)} TOPIC`),
    );
    for (const r of rows) {
      const status = r.status === 'expired' ? s.red(r.status.padEnd(8)) : r.status.padEnd(8);
      const days = r.daysRemaining === null ? '-' : daysText(r.daysRemaining);
      deps.out.data(
        `${r.name.padEnd(20)} ${status} ${(r.notAfter === null ? '-' : shortDate(r.notAfter)).padEnd(10)}  ${days.padEnd(18)} ${r.topic ?? '-'}${r.pendingKey ? ' (pending key)' : ''}`,
      );
    }
    return 0;
  },
};
