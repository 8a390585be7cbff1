import { Option } from 'commander';
import type { Command } from 'commander';
import type { CommandDefinition } from '../kit.js';
import { addThresholdOptions, atOption, namesOption, passwordFileOption, thresholds } from '../shared/options.js';
import type { CheckExpiryOptions, ExpiryFormat } from './run.js';

export const checkExpiry: CommandDefinition<CheckExpiryOptions> = {
  name: 'check-expiry',
  errorExitCode: 3,
  exitCodes: [
    [0, 'OK: every certificate has at least --warn-days days left (--targets: and every target is current)'],
    [
      1,
      "WARNING: some certificate has fewer than --warn-days days left; --targets: a target is stale, unknown, or runs a certificate of the record's topic not in its history",
    ],
    [
      2,
      'CRITICAL: some certificate has fewer than --critical-days days left, or has expired; --targets: a target runs a certificate of another topic',
    ],
    [
      3,
      'UNKNOWN: the check could not run (no store, damaged index, unreadable file, unknown name, bad option or webhook URL, --output not writable)',
    ],
  ],
  notes: [
    'TARGETS (--targets)',
    '  Reads back what each target of each checked record runs, as apns-cert deploy --check does: current, stale (a',
    "  superseded certificate of the record), foreign (not in the record's history), unknown (no read-back: the line",
    '  says why). This unlocks the store for targets with a credential (keychain, or the passphrase: on a monitoring',
    '  host give --passphrase-file), and calls each server (10 s per request). Prometheus gets',
    '  apns_cert_target_current{name,target} 1|0; Nagios a perfdata value per target; --json a "targets" list per record.',
    '',
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
    'apns-cert check-expiry --targets --format nagios --passphrase-file /etc/apns-cert/passphrase',
  ],
  define(program) {
    const command = addThresholdOptions(program.command('check-expiry'), { warn: 'WARNING', critical: 'CRITICAL' })
      .summary('check expiry for cron and monitoring (Nagios exit codes)')
      .description(
        'Check the active certificates of the store (or the given certificate files instead). Reads the index only: no keychain, no passphrase ' +
          '(except --targets, which reads back what the MDM servers run and unlocks the store for their credentials). ' +
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
      .option(
        '--targets',
        "also read back what each record's targets run (as deploy --check); unlocks the store for their credentials",
        false,
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
      targets: boolean;
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
      targets: o.targets,
    };
  },
  load: async () => (await import('./run.js')).checkExpiry,
};
