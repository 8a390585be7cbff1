import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import type { VendorSignOptions } from './run.js';

export const vendorSign: CommandDefinition<VendorSignOptions> = {
  name: 'vendor-sign',
  exitCodes: [
    [0, 'request written'],
    ...COMMON_ERRORS.map(([c, m]): [number, string] =>
      c === 65
        ? [65, 'refused: CSR signature, vendor key mismatch, vendor certificate expired, chain not found']
        : [c, m],
    ),
    [73, 'cannot write --out (it exists: use --force)'],
  ],
  examples: [
    'apns-cert vendor-sign --csr customer.csr --vendor-cert mdm.cer --vendor-key vendor.key --out PushCertificateRequest',
    'apns-cert vendor-sign --csr customer.csr --vendor-cert test-vendor.pem --vendor-key test-vendor.key --chain test-ca.pem',
    'apns-cert inspect PushCertificateRequest',
  ],
  define(program) {
    const command = program
      .command('vendor-sign')
      .summary("sign a customer's CSR as the MDM vendor, for Apple's portal")
      .description(
        "Make the file Apple's push certificate portal accepts from a customer's CSR: a base64 plist with the CSR, the vendor " +
          'certificate chain (vendor, Apple WWDR intermediate, Apple root; bundled with the tool, chosen by the issuer) and an ' +
          'RSA SHA-256 signature over the CSR with the vendor key.',
      )
      .requiredOption('--csr <file>', "the customer's CSR (PEM or DER)")
      .requiredOption('--vendor-cert <file>', 'MDM vendor certificate (PEM or DER)')
      .requiredOption('--vendor-key <file>', 'its private key (PEM)')
      .option('--chain <pem-file>', 'intermediate(s) and root to use instead of the bundled Apple CAs')
      .option('--out <file>', 'where to write the request (default: stdout)')
      .option('--force', 'overwrite an existing --out file', false);
    return command;
  },
  options: (command: Command) => command.opts<VendorSignOptions>(),
  load: async () => (await import('./run.js')).vendorSign,
};
