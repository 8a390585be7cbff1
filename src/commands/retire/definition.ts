import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { recordName } from '../shared/options.js';
import type { RetireOptions } from './run.js';

export const retire: CommandDefinition<RetireOptions> = {
  name: 'retire',
  changesStore: () => true,
  exitCodes: [
    [0, 'retired (or purged)'],
    ...COMMON_ERRORS,
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
    [130, 'cancelled at the confirmation'],
  ],
  examples: ['apns-cert retire acme-old', 'apns-cert retire acme-old --yes --purge'],
  define(program) {
    const command = program
      .command('retire')
      .summary('retire a push identity: delete its keys, keep its history')
      .description(
        "For a certificate revoked in the portal or replaced by a new topic: deletes the record's encrypted private keys and marks it retired (kept in `list` and `show`, out of check-expiry and renew). --purge removes the record and its certificates entirely.",
      )
      .argument('<name>', 'record to retire', recordName)
      .option('--yes', 'do not ask for confirmation (required without a terminal)', false)
      .option('--purge', 'remove the record entirely instead of keeping it as retired', false);
    return command;
  },
  options(command: Command) {
    const o = command.opts<{ yes: boolean; purge: boolean }>();
    return { name: command.processedArgs[0] as string, yes: o.yes, purge: o.purge };
  },
  load: async () => (await import('./run.js')).retire,
};
