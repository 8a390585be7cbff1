import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { CUSTODY_NOTES, addCustodyOptions, nameOption, passwordFileOption } from '../shared/options.js';
import type { ImportOptions } from './run.js';

export const importCommand: CommandDefinition<ImportOptions> = {
  name: 'import',
  changesStore: () => true,
  exitCodes: [
    [0, 'imported'],
    [1, 'refused: the topic differs from the one on record (store unchanged)'],
    ...COMMON_ERRORS.map(([c, m]): [number, string] =>
      c === 64
        ? [64, `${m}; --no-key when the file or the store holds the key`]
        : c === 65
          ? [65, 'refused: no topic, key does not match, no key, already imported, expired; or bad data']
          : [c, m],
    ),
    [69, 'the secret backend (keychain) is unavailable'],
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'wrong store passphrase or wrong .p12 password'],
  ],
  examples: [
    'apns-cert import ~/Downloads/MDM_Certificate.pem --name acme-prod',
    'apns-cert import cert-and-key.pem --name legacy-prod --apple-id mdm@acme.example',
    'APNS_CERT_P12_PASSWORD=... apns-cert import exported.p12 --name legacy-prod',
    'apns-cert import fleet-push.pem --name fleet-prod --no-key   # Fleet keeps the key',
    'apns-cert import new.pem --name acme-prod --allow-new-topic   # deliberate new topic: re-enroll every device',
    'apns-cert import MDM_Certificate.pem --name acme-prod --owner it-mdm@acme.example --note "Acme MDM, prod"',
  ],
  notes: CUSTODY_NOTES,
  define(program) {
    const command = program
      .command('import')
      .summary('import the certificate Apple returned, checking its key and topic')
      .description(
        'Import a signed push certificate (PEM or DER, detected by content; a PEM file may also hold its private key). ' +
          'The key is the pending key of --name, any pending key in the store that matches, or the key in the file; ' +
          'with --no-key none is kept (the server that made the CSR, such as Fleet, keeps it). ' +
          'A renewal must keep the recorded topic: a new topic is refused (exit 1) and the store is left unchanged.',
      )
      .argument('<file>', 'certificate file from Apple, or "-" for stdin')
      .addOption(nameOption('record to import into (default: the record whose key or topic matches)'))
      .option(
        '--apple-id <id>',
        'Apple ID that created the certificate (a salted hash is kept; see --remember-apple-id)',
      )
      .option(
        '--allow-new-topic',
        'accept a certificate whose topic differs from the recorded one (devices must re-enroll)',
        false,
      )
      .option('--allow-expired', 'accept an expired certificate', false)
      .option('--no-key', 'keep the certificate without a private key: the server that made the CSR keeps it (Fleet)')
      .addOption(passwordFileOption());
    return addCustodyOptions(command);
  },
  options: (command: Command) => ({ ...command.opts<ImportOptions>(), file: command.args[0]! }),
  load: async () => (await import('./run.js')).importCommand,
};
