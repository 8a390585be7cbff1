import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import type { StoreInitOptions, StoreUpgradeOptions } from './run.js';

/**
 * `apns-cert store <subcommand>`: commands about the store itself rather than its records. The group is made
 * once; each subcommand (init, upgrade; copy to come) adds itself to it.
 */
export function storeGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'store') ??
    program
      .command('store')
      .summary('manage the store itself (create it, upgrade its key derivation)')
      .description('Commands about the store as a whole, not its records.')
  );
}

export const storeUpgrade: CommandDefinition<StoreUpgradeOptions> = {
  name: 'store',
  subcommand: 'upgrade',
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

/** A PostgreSQL role name, as --print-grants takes it (quoted in the SQL it prints). */
const ROLE_RE = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

export const storeInit: CommandDefinition<StoreInitOptions> = {
  name: 'store',
  subcommand: 'init',
  // --print-grants only prints SQL; making a store is a change (and a refused one is worth an entry)
  changesStore: (o) => o.printGrants === null,
  exitCodes: [
    [0, 'created, or already there (nothing changed); with --print-grants: the SQL printed'],
    ...COMMON_ERRORS,
    [69, 'the PostgreSQL server cannot be reached, or the keychain is unavailable'],
    [73, 'cannot write the store directory'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'the database refused the role (password, or permission denied)'],
  ],
  notes: [
    'A PostgreSQL store must be made by `store init` before any other command uses it (they exit 65 with this',
    'hint); a directory store is also made by its first change. Running it on a store that is there changes',
    'nothing and exits 0. The role that runs it needs CREATE on the database; the tables belong to it.',
    'The master key is wrapped by the team passphrase (asked twice, or --passphrase-file / APNS_CERT_PASSPHRASE).',
    'The password of the role comes from PGPASSWORD or ~/.pgpass (PGPASSFILE), never from the URL.',
  ],
  examples: [
    'apns-cert store init --store postgres://apns_owner@db.example:5432/mdm',
    'apns-cert --store postgres://apns_owner@db.example/mdm store init --print-grants apns_admin apns_monitor | psql',
    'apns-cert store init --store ~/apns-store --passphrase-file team-passphrase',
  ],
  define(program) {
    return storeGroup(program)
      .command('init')
      .summary('create the store (the tables of a PostgreSQL store) and its master key')
      .description(
        'Create the store: for a PostgreSQL store (--store postgres://user@host:port/db[?schema=name]) its schema ' +
          "and tables (versioned migrations; schema apns_cert by default), and the store's master key, wrapped " +
          'by the team passphrase. With --print-grants, print instead the SQL that grants the admin role every ' +
          'command and the monitor role check-expiry, list and show (no secret, no change).',
      )
      .option('--print-grants <roles...>', 'print the GRANTs for <admin-role> <monitor-role> (SQL on stdout)');
  },
  options(command: Command) {
    const roles = command.opts<{ printGrants?: string[] }>().printGrants;
    if (roles === undefined) return { printGrants: null };
    if (roles.length !== 2 || !roles.every((r) => ROLE_RE.test(r)))
      throw new AppError('USAGE', 'read --print-grants: it takes two role names, the admin role and the monitor role', {
        hint: 'apns-cert store init --print-grants apns_admin apns_monitor',
      });
    return { printGrants: { admin: roles[0]!, monitor: roles[1]! } };
  },
  load: async () => (await import('./run.js')).storeInit,
};
