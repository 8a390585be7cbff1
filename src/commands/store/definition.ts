import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import type { StoreUpgradeOptions } from './run.js';

/**
 * `apns-cert store <subcommand>`: commands about the store itself rather than its records. The group is made
 * once; each subcommand (upgrade here; init and copy to come) adds itself to it.
 */
export function storeGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'store') ??
    program
      .command('store')
      .summary('manage the store itself (upgrade its key derivation)')
      .description('Commands about the store as a whole, not its records.')
  );
}

export const storeUpgrade: CommandDefinition<StoreUpgradeOptions> = {
  name: 'store',
  changesStore: () => true,
  exitCodes: [
    [0, 're-wrapped, or already current (nothing written)'],
    ...COMMON_ERRORS,
    [73, 'cannot write master-key.json'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'wrong store passphrase'],
  ],
  examples: [
    'apns-cert store upgrade',
    'apns-cert --store /var/lib/apns-cert --passphrase-file /etc/apns-cert/passphrase store upgrade --json',
  ],
  define(program) {
    const command = storeGroup(program)
      .command('upgrade')
      .summary("re-wrap the store's master key with today's key derivation")
      .description(
        'Re-wrap the master key of a passphrase store under the same passphrase with the current scrypt parameters ' +
          '(N=2^17, r=8, p=1) and a check value that tells a wrong passphrase from a damaged master-key.json. ' +
          'Stores made before keep working without it; this makes a stolen copy of master-key.json slower to attack. ' +
          'The private keys are not touched (they are sealed under the master key, which stays the same). ' +
          'Apple ID hashes cannot be upgraded (the Apple ID is not stored): a record gets a new hash only when created anew. ' +
          'A keychain store has no key derivation: nothing to do.',
      );
    return command;
  },
  options() {
    return {};
  },
  load: async () => (await import('./run.js')).storeUpgrade,
};
