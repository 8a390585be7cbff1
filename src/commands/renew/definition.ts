import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { CUSTODY_NOTES, addCustodyOptions, recordName } from '../shared/options.js';
import type { RenewOptions } from './run.js';

export const renew: CommandDefinition<RenewOptions> = {
  name: 'renew',
  changesStore: () => true,
  exitCodes: [
    [0, 'renewed (wizard), or CSR written (scripted)'],
    [1, 'refused: Apple ID mismatch declined / without --yes, or the new certificate has another topic'],
    ...COMMON_ERRORS.map(([code, meaning]) =>
      code === 65
        ? ([
            code,
            `${meaning}, or mdmcert.download refused the request, or a record without a key has no fleet target`,
          ] as const)
        : ([code, meaning] as const),
    ),
    [69, 'the secret backend (keychain) is unavailable, or mdmcert.download or the Fleet target did not answer'],
    [73, 'cannot write the CSR (it exists: use --force or --csr-out)'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'wrong store passphrase, or the Fleet target refused its credential'],
    [130, 'cancelled (Ctrl-C); the store is as it was, a pending key may remain'],
  ],
  notes: [
    'A record signed via vendor (csr --vendor-cert / --vendor) gets the signed request beside the CSR: upload that.',
    'Its vendor certificate is checked first: 65 when it has expired or is no longer in the store (nothing written),',
    'a warning when it expires within 30 days.',
    ...CUSTODY_NOTES,
    'The wizard asks whether to remember the Apple ID (unless it is the remembered one), and next time offers it as the answer.',
    'A record without a key (import --no-key) renews with the CSR of its fleet target (--target when it has several):',
    'Fleet keeps the key, so the certificate Apple returns is imported without one and must be for that CSR.',
  ],
  examples: [
    'apns-cert renew                      # wizard: pick the certificate, follow the steps',
    'apns-cert renew acme-prod            # wizard for one record; resumes a renewal in progress',
    'apns-cert renew acme-prod --apple-id mdm@acme.example --csr-out acme.csr   # scripted: CSR only',
    'apns-cert renew acme-prod --apple-id mdm@acme.example --remember-apple-id --owner it-mdm@acme.example',
    'apns-cert import ~/Downloads/MDM_Certificate.pem --name acme-prod            # scripted: finish',
  ],
  define(program) {
    const command = program
      .command('renew')
      .summary('renew a push certificate: Apple ID check, CSR, portal steps, import')
      .description(
        "On a terminal: a wizard that checks the Apple ID, makes the CSR, says exactly which row to Renew in Apple's portal, " +
          'and imports the certificate you download, refusing a changed topic. Run it again to resume a renewal that has its CSR. ' +
          'Without a terminal (or with --json) it never prompts: it does the Apple ID check and the CSR, then `apns-cert import` finishes.',
      )
      .argument('[name]', 'record to renew (asked for on a terminal)', recordName)
      .option('--apple-id <id>', 'Apple ID that will sign in to the portal (required without a terminal)')
      .option('--csr-out <file>', 'where to write the CSR (default: <name>-renew-<yyyymmdd>.csr.pem)')
      .option(
        '--request-out <file>',
        'a record signed via vendor: where to write the signed request (default: <name>-renew-<yyyymmdd>.request.b64)',
      )
      .option('--target <label>', 'a record without a key: the fleet target whose CSR to use')
      .option('--reuse-key', 'sign the CSR with the current key instead of a new one', false)
      .option('--yes', 'go on when the Apple ID is not the recorded one', false)
      .option('--force', 'overwrite an existing CSR file', false)
      .option(
        '--mdmcert-api-key-file <file>',
        'a record signed via mdmcert: file holding your API key (or APNS_CERT_MDMCERT_API_KEY)',
      )
      .option(
        '--ca-file <pem>',
        "a record signed via mdmcert: root(s) to accept for the request's chain besides Apple's",
      )
      .option('--mdmcert-url <url>', 'a record signed via mdmcert: the sign request URL (or APNS_CERT_MDMCERT_URL)');
    return addCustodyOptions(command);
  },
  options: (command: Command) => ({
    ...command.opts<RenewOptions>(),
    name: command.processedArgs[0] as string | undefined,
  }),
  load: async () => (await import('./run.js')).renew,
};
