import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';

export const list: CommandDefinition<Record<string, never>> = {
  name: 'list',
  exitCodes: [[0, 'listed (an empty or missing store lists nothing)'], ...COMMON_ERRORS],
  examples: [
    'apns-cert list',
    'apns-cert list --json | jq -r \'.certificates[] | select(.status != "active") | .name\'',
  ],
  define(program) {
    const command = program
      .command('list')
      .summary('list the push identities in the store')
      .description(
        'List every record: status (active | expired | pending | retired), topic, expiry. Reads the index only.',
      );
    return command;
  },
  options() {
    return {};
  },
  load: async () => (await import('./run.js')).list,
};
