import { daysText, shortDate } from '../../output/output.js';
import type { Runner, Deps } from '../kit.js';
import { isKeyless, recordSummary } from '../shared/record-summary.js';

export const list: Runner<Record<string, never>> = {
  async run(_options, deps: Deps) {
    const index = await deps.store.read();
    const now = deps.now();
    const rows = Object.values(index?.records ?? {})
      .map((r) => ({ ...recordSummary(r, now), keyless: isKeyless(r) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (deps.out.json) {
      deps.out.document({ certificates: rows.map(({ keyless: _, ...row }) => row) });
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
        `${r.name.padEnd(20)} ${status} ${(r.notAfter === null ? '-' : shortDate(r.notAfter)).padEnd(10)}  ${days.padEnd(18)} ${r.topic ?? '-'}${r.pendingKey ? ' (pending key)' : ''}${r.keyless ? ' (key kept by the server)' : ''}`,
      );
    }
    return 0;
  },
};
