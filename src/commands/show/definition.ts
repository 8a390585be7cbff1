import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { recordName } from '../shared/options.js';

export const show: CommandDefinition<{ name: string }> = {
  name: 'show',
  exitCodes: [[0, 'shown'], ...COMMON_ERRORS],
  examples: ['apns-cert show acme-prod', 'apns-cert show acme-prod --json | jq .history'],
  define(program) {
    const command = program
      .command('show')
      .summary('show one record and its certificate history')
      .argument('<name>', 'record name', recordName);
    return command;
  },
  options(command: Command) {
    return { name: command.processedArgs[0] as string };
  },
  load: async () => (await import('./run.js')).show,
};
