import { Option } from 'commander';
import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { isoInstant, recordName } from '../shared/options.js';
import type { LogOptions } from './run.js';

export const log: CommandDefinition<LogOptions> = {
  name: 'log',
  exitCodes: [
    [0, 'listed (no entries, or no store: nothing)'],
    ...COMMON_ERRORS,
    [77, 'the store or its audit log is unsafe to read (another owner, a symbolic link)'],
  ],
  examples: [
    'apns-cert log',
    'apns-cert log acme-prod --since 2026-01-01',
    'apns-cert log --json | jq -r \'.entries[] | select(.result != "ok") | .at + " " + .command\'',
  ],
  notes: [
    'Every command that changes the store (csr, import, renew, retire, deploy, target add/remove, vendor import/remove,',
    'store upgrade) appends an entry when it ends: time, OS user and host, command, record, result (ok, refused: exit 1',
    'or 77, failed: any other), and the serial number and topic where they apply. A removed record keeps its history.',
  ],
  define(program) {
    return program
      .command('log')
      .summary('show the audit log: who changed what in the store, and how it ended')
      .description(
        'One line per entry, oldest first: time, user@host, command, record, result, and the serial, topic or error. A line of the log that is not an entry (a writer killed mid-write) is skipped with a warning.',
      )
      .argument('[name]', 'only the entries of this record (also one removed since)', recordName)
      .addOption(new Option('--since <iso-date>', 'only entries from this instant on').argParser(isoInstant));
  },
  options(command: Command) {
    const o = command.opts<{ since?: Date }>();
    return { name: command.processedArgs[0] as string | undefined, since: o.since };
  },
  load: async () => (await import('./run.js')).log,
};
