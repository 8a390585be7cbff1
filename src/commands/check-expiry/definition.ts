import { Option } from 'commander';
import type { Command } from 'commander';
import type { CommandDefinition } from '../kit.js';
import { addThresholdOptions, atOption, namesOption, passwordFileOption, thresholds } from '../shared/options.js';
import type { CheckExpiryOptions, ExpiryFormat } from './run.js';

export const checkExpiry: CommandDefinition<CheckExpiryOptions> = {
  name: 'check-expiry',
  errorExitCode: 3,
  exitCodes: [
    [0, 'OK: every certificate has at least --warn-days days left'],
    [1, 'WARNING: some certificate has fewer than --warn-days days left'],
    [2, 'CRITICAL: some certificate has fewer than --critical-days days left, or has expired'],
    [
      3,
      'UNKNOWN: the check could not run (no store, damaged index, unreadable file, unknown name, bad option or webhook URL, --output not writable)',
    ],
  ],
  notes: [
    'WEBHOOK URL',
    '  A Slack or Teams incoming-webhook URL is a credential: whoever has it can post to the channel. Give it in a file',
    '  (--notify-file, mode 600) or in $APNS_CERT_NOTIFY_URL, never as an argument (every user can read the process list).',
    '  Messages name only its origin (scheme, host, port), never its path, query or user:password.',
  ],
  examples: [
    'apns-cert check-expiry -q            # cron: silent when all is well',
    'apns-cert check-expiry --warn-days 45 --critical-days 14 --name acme-prod',
    'apns-cert check-expiry --json /etc/mdm/push.pem | jq .status',
    'apns-cert check-expiry --format prometheus --output /var/lib/node_exporter/textfile/apns_cert.prom',
    'apns-cert check-expiry --format nagios   # as a Nagios/Icinga plugin',
    'apns-cert check-expiry -q --notify-file /etc/apns-cert/webhook-url   # file mode 600: the URL is a secret',
    'apns-cert check-expiry --at 2027-06-01',
  ],
  define(program) {
    const command = addThresholdOptions(program.command('check-expiry'), { warn: 'WARNING', critical: 'CRITICAL' })
      .summary('check expiry for cron and monitoring (Nagios exit codes)')
      .description(
        'Check the active certificates of the store (or the given certificate files instead). Reads the index only: no keychain, no passphrase. ' +
          'A certificate is CRITICAL when expired or with fewer than --critical-days days left, WARNING with fewer than --warn-days.',
      )
      .argument('[files...]', 'certificate files to check instead of the store')
      .addOption(namesOption('check only this record (repeatable)'))
      .addOption(atOption())
      .addOption(passwordFileOption())
      .addOption(
        new Option('--format <format>', 'output format (--json = --format json)').choices([
          'text',
          'json',
          'prometheus',
          'nagios',
        ]),
      )
      .option(
        '--output <file>',
        'write the output to this file atomically (temp file + rename), e.g. for the node_exporter textfile collector',
      )
      .option(
        '--notify-file <file>',
        'when the status is WARNING or worse, POST a JSON message (Slack/Teams "text" + the result) to the webhook URL in this file (else $APNS_CERT_NOTIFY_URL)',
      )
      .addOption(new Option('--notify <url>', 'refused: a webhook URL is a secret, use --notify-file').hideHelp());
    return command;
  },
  options(command: Command) {
    const o = command.opts<{
      name: string[];
      at?: Date;
      format?: ExpiryFormat;
      output?: string;
      notify?: string;
      notifyFile?: string;
      passwordFile?: string;
    }>();
    return {
      files: command.args,
      names: o.name,
      ...thresholds(command),
      at: o.at,
      format: o.format,
      output: o.output,
      notify: o.notify,
      notifyFile: o.notifyFile,
      passwordFile: o.passwordFile,
    };
  },
  load: async () => (await import('./run.js')).checkExpiry,
};
