import { Option } from 'commander';
import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { CUSTODY_NOTES, addCustodyOptions, recordName } from '../shared/options.js';
import type { CsrOptions } from './run.js';

const VIA = ['none', 'vendor', 'mdmcert'];

export const csr: CommandDefinition<CsrOptions> = {
  name: 'csr',
  changesStore: () => true,
  exitCodes: [
    [0, 'key stored and CSR written'],
    ...COMMON_ERRORS.map(([code, meaning]) =>
      code === 65
        ? ([code, `${meaning}, or mdmcert.download refused the request`] as const)
        : ([code, meaning] as const),
    ),
    [69, 'the secret backend (keychain) is unavailable, or mdmcert.download did not answer'],
    [73, 'cannot write the CSR (it exists: use --force or --out)'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'wrong store passphrase'],
  ],
  examples: [
    'apns-cert csr --name acme-prod --email mdm@acme.example --country US',
    'APNS_CERT_PASSPHRASE=... apns-cert --secret-backend passphrase csr --name acme-prod --out /tmp/acme.csr',
    'openssl req -in acme-prod.csr.pem -noout -verify',
    'apns-cert csr --name acme-prod --vendor-cert mdm.cer --vendor-key vendor.key   # CSR + PushCertificateRequest in one step',
    'apns-cert csr --name acme-dev --vendor 3f2a9c   # signed by a vendor identity kept in the store',
    'apns-cert csr --name acme-prod --via mdmcert --email mdm@acme.example --mdmcert-api-key-file ~/.mdmcert-api-key',
    'apns-cert csr --name acme-prod --apple-id mdm@acme.example --remember-apple-id --owner it-mdm@acme.example',
  ],
  notes: CUSTODY_NOTES,
  define(program) {
    const command = program
      .command('csr')
      .summary("create a private key and a CSR for Apple's push certificate portal")
      .description(
        'Create an RSA-2048 private key (kept encrypted in the store as the pending key of <name>) and a PKCS#10 CSR (SHA-256, PEM) to upload to Apple.',
      )
      .requiredOption('--name <name>', 'the push identity this key is for, e.g. acme-prod', recordName)
      .option('--out <file>', 'where to write the CSR (default: <name>.csr.pem)')
      .option('--email <addr>', 'e-mail address in the CSR subject')
      .option('--country <CC>', 'two-letter country code in the CSR subject')
      .option('--common-name <cn>', 'common name in the CSR subject (default: the name)')
      .option(
        '--apple-id <id>',
        'Apple ID that will sign in to the portal (a salted hash is kept; see --remember-apple-id)',
      )
      .option('--force', 'overwrite existing CSR and request files', false)
      .option('--vendor-cert <file>', 'MDM vendor certificate: also write the vendor-signed request for Apple')
      .option('--vendor-key <file>', "the vendor certificate's private key (PEM)")
      .option('--chain <pem-file>', 'with --vendor-cert: intermediate(s) and root instead of the bundled Apple CAs')
      .option('--vendor <sha256-prefix>', 'sign with a vendor identity kept in the store (apns-cert vendor list)')
      .option('--request-out <file>', 'where to write the vendor-signed request (default: <name>.request.b64)')
      .addOption(
        new Option('--via <how>', 'who signs the CSR for Apple: none (your MDM vendor), vendor, mdmcert').choices(VIA),
      )
      .option(
        '--mdmcert-api-key-file <file>',
        'with --via mdmcert: file holding your API key (or APNS_CERT_MDMCERT_API_KEY)',
      )
      .option(
        '--mdmcert-url <url>',
        'with --via mdmcert: the sign request URL (default: the service; or APNS_CERT_MDMCERT_URL)',
      );
    return addCustodyOptions(command);
  },
  options: (command: Command) => command.opts<CsrOptions>(),
  load: async () => (await import('./run.js')).csr,
};
