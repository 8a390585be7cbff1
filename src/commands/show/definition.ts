import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import type { ShowOptions } from './run.js';
import { recordName } from '../shared/options.js';

export const show: CommandDefinition<ShowOptions> = {
  name: 'show',
  exitCodes: [
    [0, 'shown'],
    ...COMMON_ERRORS,
    [69, 'with --reveal-apple-id: the secret backend (keychain) is unavailable'],
    [77, 'with --reveal-apple-id: wrong store passphrase'],
  ],
  examples: [
    'apns-cert show acme-prod',
    'apns-cert show acme-prod --json | jq .history',
    'apns-cert show acme-prod --reveal-apple-id   # the Apple ID kept with --remember-apple-id (unlocks the store)',
  ],
  notes: [
    'Owner and note are shown as given (plain text). The Apple ID is shown only with --reveal-apple-id, which opens',
    "the store's master key (a passphrase prompt or the keychain); --json then has `appleId` (null: none remembered).",
  ],
  define(program) {
    const command = program
      .command('show')
      .summary('show one record and its certificate history')
      .argument('<name>', 'record name', recordName)
      .option('--reveal-apple-id', 'print the Apple ID kept with --remember-apple-id (unlocks the store)', false);
    return command;
  },
  options(command: Command) {
    return { ...command.opts<ShowOptions>(), name: command.processedArgs[0] as string };
  },
  load: async () => (await import('./run.js')).show,
};
