import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import type { StoreInitOptions, StoreUpgradeOptions } from './run.js';
import type { StoreCopyOptions } from './copy.js';

/**
 * `apns-cert store <subcommand>`: commands about the store itself rather than its records. The group is made
 * once; each subcommand (init, upgrade, copy) adds itself to it.
 */
export function storeGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'store') ??
    program
      .command('store')
      .summary('manage the store itself (create, copy, upgrade its key derivation)')
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
    [
      0,
      'created, upgraded (the tables of a database store of an older schema), or already there (nothing changed); with --print-grants: the SQL printed',
    ],
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

export const storeCopy: CommandDefinition<StoreCopyOptions> = {
  name: 'store',
  subcommand: 'copy',
  changesStore: () => true,
  exitCodes: [
    [0, 'copied'],
    [64, 'usage error (--from or --to missing, or the same store)'],
    [65, 'the destination is not empty (nothing changed), or the source is damaged'],
    [66, 'there is no store at --from'],
    [69, 'a PostgreSQL server cannot be reached, or the keychain is unavailable'],
    [70, 'internal error (rerun with APNS_CERT_DEBUG=1 and report it)'],
    [73, 'cannot write the destination directory (nothing left there)'],
    [75, 'another apns-cert process is changing the destination'],
    [77, 'the database refused the role, or a wrong passphrase'],
  ],
  notes: [
    'The destination must be empty: a directory that does not exist (or is empty), or a database without the',
    "store's tables or with none but what `store init` made. It gets the source's store id and master key:",
    'the sealed secrets are copied as they are sealed, nothing is decrypted. A passphrase store keeps its',
    'passphrase (the wrapped master key is copied); a keychain store copied to PostgreSQL has its master key',
    'opened from this keychain and wrapped under a new team passphrase (asked twice, or --passphrase-file /',
    'APNS_CERT_PASSPHRASE); a keychain store copied to a directory stays on this keychain.',
    'All or nothing: a directory is built beside the destination and renamed into place; a database is',
    'written in one transaction. The audit log is copied, and the copy is logged in the destination.',
  ],
  examples: [
    'apns-cert store copy --from ~/.local/share/apns-cert --to postgres://apns_admin@db.example/mdm',
    'apns-cert store copy --from postgres://apns_admin@db.example/mdm --to /backup/apns-cert-2026-12-01',
  ],
  define(program) {
    return storeGroup(program)
      .command('copy')
      .summary('copy a store into an empty one (directory or PostgreSQL), nothing re-sealed')
      .description(
        'Copy every record, certificate, vendor identity, sealed secret and audit log entry of one store into an ' +
          'empty one: a directory or a PostgreSQL URL on either side. The sealed secrets are copied as they are, ' +
          'with the master key as the passphrase wraps it: nothing is decrypted, and the copy opens with the same ' +
          'passphrase.',
      )
      .requiredOption('--from <store>', 'the store to copy: a directory or postgres://user@host:port/db')
      .requiredOption('--to <store>', 'the empty store to fill: a directory or postgres://user@host:port/db');
  },
  options(command: Command) {
    const { from, to } = command.opts<{ from: string; to: string }>();
    if (from === '' || to === '')
      throw new AppError('USAGE', 'read --from and --to: each names a store (a directory or a postgres:// URL)', {
        hint: 'apns-cert store copy --from <dir|url> --to <dir|url>',
      });
    return { from, to };
  },
  load: async () => (await import('./copy.js')).storeCopy,
};
