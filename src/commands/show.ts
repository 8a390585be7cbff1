import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { recordNamed } from '../core/index-model.js';
import { daysText, shortDate } from '../output/output.js';
import { COMMON_ERRORS, recordName, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';
import { recordSummary } from './list.js';

export const show: CommandModule<{ name: string }> = {
  name: 'show',
  define(program) {
    const command = program
      .command('show')
      .summary('show one record and its certificate history')
      .argument('<name>', 'record name', recordName);
    return withHelp(command, {
      exitCodes: [[0, 'shown'], ...COMMON_ERRORS],
      examples: ['apns-cert show acme-prod', 'apns-cert show acme-prod --json | jq .history'],
    });
  },
  options(command: Command) {
    return { name: command.processedArgs[0] as string };
  },
  async run(options, deps: Deps) {
    const index = await deps.store.readOrFail();
    const record = recordNamed(index, options.name);
    if (record === undefined)
      throw new AppError('NOT_FOUND', `show: no record "${options.name}" in the store ${deps.store.location}`, {
        hint: 'apns-cert list',
      });
    const summary = recordSummary(record, deps.now());
    const history = [...record.certificates].reverse();
    if (deps.out.json) {
      deps.out.document({
        ...summary,
        appleIdRecorded: record.appleIdHash !== null,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        pendingKey: record.pendingKey,
        history,
      });
      return 0;
    }
    const rows: Array<[string, string]> = [
      ['name', record.name],
      ['status', summary.status],
      ['topic', record.topic ?? '-'],
      ['topic hash', record.topicHash ?? '-'],
      ['not after', summary.notAfter === null ? '-' : `${summary.notAfter} (${daysText(summary.daysRemaining!)})`],
      ['apple id', record.appleIdHash === null ? 'not recorded' : 'recorded (salted hash)'],
      [
        'pending key',
        record.pendingKey === null
          ? 'none'
          : `created ${record.pendingKey.createdAt}${record.pendingKey.csrPath ? `, CSR ${record.pendingKey.csrPath}` : ''}`,
      ],
    ];
    for (const [label, value] of rows) deps.out.data(`${label.padEnd(12)} ${value}`);
    deps.out.data('history:');
    for (const c of history) {
      deps.out.data(
        `  ${c.status.padEnd(10)} serial ${c.serialNumber}  ${shortDate(c.notBefore)} .. ${shortDate(c.notAfter)}  imported ${c.importedAt}`,
      );
    }
    return 0;
  },
};
