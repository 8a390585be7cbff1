import type { Command } from 'commander';
import { COMMON_ERRORS, WRONG_P12_PASSWORD } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { atOption, nameOption, passwordFileOption } from '../shared/options.js';
import type { VerifyOptions } from './run.js';

export const verify: CommandDefinition<VerifyOptions> = {
  name: 'verify',
  exitCodes: [
    [0, 'every check holds'],
    [1, 'a check failed (each failure is named on stderr)'],
    ...COMMON_ERRORS,
    WRONG_P12_PASSWORD,
  ],
  examples: [
    'apns-cert verify push.pem --topic-hash "$PINNED_TOPIC_HASH"',
    'apns-cert verify push.pem --name acme-prod --key push.key',
    'apns-cert verify push.pem --apple-chain',
    'apns-cert verify --json push.pem --topic com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
  ],
  define(program) {
    const command = program
      .command('verify')
      .summary('check a certificate against expectations (for CI)')
      .description(
        'Check every expectation given: the topic hash, the topic, the same topic as a store record, a private key that matches. Exit 0 when all hold, 1 when any fails.',
      )
      .argument('<file>', 'certificate (PEM, DER or .p12, "-" for stdin)')
      .option('--topic-hash <hex>', 'expected topic hash (64 lowercase hex digits)')
      .option('--topic <topic>', 'expected topic')
      .addOption(nameOption('expect the topic recorded for this store record'))
      .option('--key <file>', 'expect this private key (PEM) to match the certificate')
      .option('--apple-chain', 'expect a valid chain to an Apple root (bundled Apple CAs)', false)
      .addOption(atOption())
      .addOption(passwordFileOption());
    return command;
  },
  options: (command: Command) => ({ ...command.opts<VerifyOptions>(), file: command.args[0]! }),
  load: async () => (await import('./run.js')).verify,
};
