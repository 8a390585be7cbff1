import type { Command } from 'commander';
import { COMMON_ERRORS, WRONG_P12_PASSWORD } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { passwordFileOption } from '../shared/options.js';
import type { HashOptions } from './run.js';

export const hash: CommandDefinition<HashOptions> = {
  name: 'hash',
  exitCodes: [[0, 'hash printed'], ...COMMON_ERRORS, WRONG_P12_PASSWORD],
  examples: [
    'apns-cert hash MDM_Certificate.pem',
    'apns-cert hash --topic com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
    'test "$(apns-cert hash push.pem)" = "$PINNED_TOPIC_HASH"',
  ],
  define(program) {
    const command = program
      .command('hash')
      .summary("print a certificate's topic hash")
      .description(
        'Print the topic hash: lowercase hex SHA-256 of the topic\'s UTF-8 bytes (same as `printf %s "$TOPIC" | sha256sum`).',
      )
      .argument('[file]', 'certificate (PEM, DER or .p12, "-" for stdin)')
      .option('--topic <topic>', 'hash this topic instead of reading a certificate')
      .addOption(passwordFileOption());
    return command;
  },
  options(command: Command) {
    const opts = command.opts<{ topic?: string; passwordFile?: string }>();
    return { file: command.args[0], topic: opts.topic, passwordFile: opts.passwordFile };
  },
  load: async () => (await import('./run.js')).hash,
};
