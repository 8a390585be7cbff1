import type { Command } from 'commander';
import { COMMON_ERRORS, WRONG_P12_PASSWORD } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { atOption, caFileOption, nameOption, passwordFileOption } from '../shared/options.js';
import type { VerifyOptions } from './run.js';

export const verify: CommandDefinition<VerifyOptions> = {
  name: 'verify',
  exitCodes: [
    [0, 'every check holds'],
    [1, 'a check failed (each failure is named on stderr); on a request, any request check'],
    ...COMMON_ERRORS,
    WRONG_P12_PASSWORD,
  ],
  examples: [
    'apns-cert verify push.pem --topic-hash "$PINNED_TOPIC_HASH"',
    'apns-cert verify push.pem --name acme-prod --key push.key',
    'apns-cert verify push.pem --apple-chain',
    'apns-cert verify acme-prod.request.b64 --name acme-prod   # before uploading to Apple',
    'apns-cert verify test.request.b64 --ca-file test-vendor-root.pem',
    'apns-cert verify --json push.pem --topic com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
  ],
  define(program) {
    const command = program
      .command('verify')
      .summary('check a certificate against expectations (for CI), or a push certificate request before upload')
      .description(
        'On a certificate: check every expectation given: the topic hash, the topic, the same topic as a store record, a private key that matches. ' +
          "On a PushCertificateRequest (base64 or plist, told by its content): check it as Apple's portal needs it: the plist has exactly its three keys and each decodes, " +
          "the CSR's own signature holds (with --name: it carries that record's pending key), the vendor signature verifies over the CSR with SHA-256, " +
          'the chain is in order up to a bundled Apple root (or a --ca-file root), every certificate of it is valid at --at, and the vendor certificate has 30 days left (a warning below). ' +
          'Exit 0 when all hold, 1 when any fails.',
      )
      .argument('<file>', 'certificate (PEM, DER or .p12) or push certificate request, "-" for stdin')
      .option('--topic-hash <hex>', 'expected topic hash (64 lowercase hex digits)')
      .option('--topic <topic>', 'expected topic')
      .addOption(
        nameOption(
          "certificate: expect the topic recorded for this store record; request: expect this record's pending key in the CSR",
        ),
      )
      .option('--key <file>', 'expect this private key (PEM) to match the certificate')
      .option('--apple-chain', 'expect a valid chain to an Apple root (bundled Apple CAs)', false)
      .addOption(atOption())
      .addOption(passwordFileOption())
      .addOption(caFileOption());
    return command;
  },
  options: (command: Command) => ({ ...command.opts<VerifyOptions>(), file: command.args[0]! }),
  load: async () => (await import('./run.js')).verify,
};
