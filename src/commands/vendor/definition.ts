import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import type { VendorImportOptions, VendorRemoveOptions } from './run.js';

/** `apns-cert vendor <subcommand>`: MDM vendor identities kept in the store. The group is made once. */
export function vendorGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'vendor') ??
    program
      .command('vendor')
      .summary('MDM vendor identities kept in the store (import, list, remove)')
      .description(
        'An MDM vendor certificate, its chain and its private key (sealed like every key), kept so that csr and renew ' +
          "sign the PushCertificateRequest Apple's portal takes.",
      )
  );
}

export const vendorImport: CommandDefinition<VendorImportOptions> = {
  name: 'vendor',
  subcommand: 'import',
  changesStore: () => true,
  exitCodes: [
    [0, 'kept in the store, or already kept (nothing written)'],
    ...COMMON_ERRORS,
    [69, 'the secret backend (keychain) is unavailable'],
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'wrong store passphrase'],
  ],
  notes: [
    'Refused (65): a key that does not match the certificate, a vendor certificate not valid now, or no chain',
    'to a bundled Apple root (or to one in --chain).',
  ],
  examples: [
    'apns-cert vendor import --cert mdm_vendor.cer --key vendor.key',
    'apns-cert vendor import --cert vendor.pem --key vendor.key --chain wwdr-and-root.pem',
  ],
  define(program) {
    return vendorGroup(program)
      .command('import')
      .summary('keep an MDM vendor certificate, its chain and its key in the store')
      .description(
        'Check that the key matches the vendor certificate and that its chain is found (the bundled Apple CAs, or --chain), ' +
          'then keep the certificate and chain, and the key sealed under the store key. Importing the same certificate again changes nothing.',
      )
      .requiredOption('--cert <file>', 'the MDM vendor certificate (PEM or DER)')
      .requiredOption('--key <file>', "the vendor certificate's private key (PEM)")
      .option('--chain <pem-file>', 'intermediate(s) and root instead of the bundled Apple CAs');
  },
  options: (command: Command) => command.opts<VendorImportOptions>(),
  load: async () => (await import('./run.js')).vendorImport,
};

export const vendorList: CommandDefinition<Record<string, never>> = {
  name: 'vendor',
  subcommand: 'list',
  exitCodes: [[0, 'listed (an empty or missing store lists nothing)'], ...COMMON_ERRORS],
  examples: [
    'apns-cert vendor list',
    "apns-cert vendor list --json | jq -r '.vendors[] | select(.daysRemaining < 30) | .sha256'",
  ],
  define(program) {
    return vendorGroup(program)
      .command('list')
      .summary('list the vendor identities in the store')
      .description(
        'Every vendor identity: SHA-256 of its certificate, expiry, days left, subject. Reads the index only.',
      );
  },
  options() {
    return {};
  },
  load: async () => (await import('./run.js')).vendorList,
};

export const vendorRemove: CommandDefinition<VendorRemoveOptions> = {
  name: 'vendor',
  subcommand: 'remove',
  changesStore: () => true,
  exitCodes: [
    [0, 'removed'],
    [1, 'refused: a record is signed by this vendor (without --force)'],
    ...COMMON_ERRORS,
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
  ],
  notes: ['64 also when the prefix matches no vendor identity, or several.'],
  examples: [
    'apns-cert vendor remove 3f2a9c',
    'apns-cert vendor remove 3f2a9c --force   # renew of its records then asks for a new import',
  ],
  define(program) {
    return vendorGroup(program)
      .command('remove')
      .summary('remove a vendor identity (certificate, chain and key) from the store')
      .description(
        'Remove the vendor identity whose SHA-256 starts with <sha256-prefix>: its entry, its certificate and chain, its key. ' +
          'Refused while a record is signed by it, unless --force (then renew of that record stops until it is imported again).',
      )
      .argument('<sha256-prefix>', 'the start of the SHA-256 shown by apns-cert vendor list')
      .option('--force', 'remove it even though records are signed by it', false);
  },
  options: (command: Command) => ({
    ...command.opts<{ force: boolean }>(),
    prefix: command.processedArgs[0] as string,
  }),
  load: async () => (await import('./run.js')).vendorRemove,
};
