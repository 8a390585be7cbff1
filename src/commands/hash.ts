import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { COMMON_ERRORS, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export interface HashOptions {
  file: string | undefined;
  topic: string | undefined;
}

export const hash: CommandModule<HashOptions> = {
  name: 'hash',
  define(program) {
    const command = program
      .command('hash')
      .summary("print a certificate's topic hash")
      .description(
        'Print the topic hash: lowercase hex SHA-256 of the topic\'s UTF-8 bytes (same as `printf %s "$TOPIC" | sha256sum`).',
      )
      .argument('[file]', 'certificate (PEM or DER, "-" for stdin)')
      .option('--topic <topic>', 'hash this topic instead of reading a certificate');
    return withHelp(command, {
      exitCodes: [[0, 'hash printed'], ...COMMON_ERRORS],
      examples: [
        'apns-cert hash MDM_Certificate.pem',
        'apns-cert hash --topic com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
        'test "$(apns-cert hash push.pem)" = "$PINNED_TOPIC_HASH"',
      ],
    });
  },
  options(command: Command) {
    const opts = command.opts<{ topic?: string }>();
    return { file: command.args[0], topic: opts.topic };
  },
  async run(options: HashOptions, deps: Deps) {
    if ((options.file === undefined) === (options.topic === undefined)) {
      throw new AppError('USAGE', 'hash: give either a certificate file or --topic <topic>', {
        hint: 'apns-cert hash push.pem',
      });
    }
    let topic: string;
    if (options.topic !== undefined) {
      topic = options.topic;
    } else {
      const file = options.file!;
      const { readCertificates } = await import('./shared/read-certificates.js');
      const decoded = await readCertificates(file, deps);
      const cert = decoded.certificates.find((c) => c.topic !== null);
      if (cert?.topic == null) {
        throw new AppError('NO_TOPIC', `hash ${file}: the certificate has no APNs topic (no UID in its subject)`, {
          hint: `apns-cert inspect ${file}`,
        });
      }
      topic = cert.topic;
    }
    const { topicHash } = await import('../core/topic.js');
    const value = topicHash(topic);
    if (deps.out.json) deps.out.document({ topic, topicHash: value });
    else deps.out.data(value);
    return 0;
  },
};
