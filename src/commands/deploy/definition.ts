import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { COMMON_ERRORS, collect } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { recordName } from '../shared/options.js';
import type { DeployOptions } from './run.js';

export const deploy: CommandDefinition<DeployOptions> = {
  name: 'deploy',
  changesStore: (options) => !options.check && !options.dryRun,
  exitCodes: [
    [
      0,
      'every target runs the certificate (deployed), or took it without a read-back (not confirmed); --check: every target is current',
    ],
    [
      1,
      'a target runs a certificate of another topic (refused), refused the upload, reads back another one, ' +
        "or a file target's --after command failed (after failed: the file is written); " +
        '--check: a target is stale, foreign or unknown (also when unreachable or refusing the credential: the message names the cause)',
    ],
    ...COMMON_ERRORS,
    [69, 'a target could not be reached (or did not answer in time), or the secret backend is unavailable'],
    [73, "cannot write to the store, or a file target's file (a symbolic link, no such directory, in the store)"],
    [75, 'another apns-cert process is changing the store'],
    [77, 'a target refused its credential (401/403), or wrong store passphrase'],
  ],
  notes: [
    'Targets: every target of the record (nanomdm, nanohub, micromdm, fleet, file), or those named by --target.',
    '64 also for: a record with no target, a --target label it does not have.',
    '65 also for: a record imported with --no-key and a target other than fleet (its key is not here); nothing is sent.',
    'A file target is written 0600 by rename (never through a symbolic link); its directory must exist. Its',
    '--after command runs with /bin/sh -c, APNS_CERT_DEPLOYED_FILE=<path>, output on stderr, for at most',
    '60 s (APNS_CERT_AFTER_TIMEOUT_MS, then killed); it does not get APNS_CERT_PASSPHRASE or the other secrets.',
    'Fleet keeps its own key: it gets the certificate only, which must be issued for the CSR Fleet made.',
    'When targets end differently the exit code is the first of 77, 69, 73, 1 that applies.',
    'Each target is called with a timeout of 10 s per request; credentials are never printed.',
    '',
    'CHECK (--check): read back what each target runs, upload nothing, change nothing. Without <name>: every record',
    'in service (not retired) that has a target. Per target, one line "<name>  <label>  <kind>  <state>  <detail>":',
    "  current  it runs the record's active certificate (same serial; NanoMDM: same topic and expiry)",
    "  stale    it runs a superseded certificate of the record's history",
    "  foreign  it runs a certificate not in the record's history (the detail says whether its topic is the record's)",
    '  unknown  no read-back: an older NanoMDM (400/405 to GET), unreachable, 401/403, nothing set, a missing file,',
    '           a .p12 file (not read by --check)',
    '  The exit codes 69 and 77 are not used by --check: every target that is not current is exit 1, and its line',
    '  names the cause. Targets with a credential unlock the store (keychain or passphrase).',
    '  --json: { schemaVersion, targets: [{ name, label, kind, state, running: { serialNumber, notAfter, topic } | null, message }] }',
  ],
  examples: [
    'apns-cert deploy acme-prod',
    'apns-cert deploy acme-prod --target nanomdm --dry-run',
    'apns-cert deploy acme-prod --json | jq -r \'.targets[] | "\\(.label) \\(.result)"\'',
    'apns-cert deploy acme-prod --check            # read back only: current / stale / foreign / unknown',
    'apns-cert deploy --check --json | jq -r \'.targets[] | select(.state != "current") | .name\'',
  ],
  define(program) {
    return program
      .command('deploy')
      .summary("put the record's active certificate and key on its MDM servers and files")
      .description(
        'Upload the active certificate and its private key to each server target of the record (or write it to ' +
          'each file target), after checking that the server (or file) does not hold a certificate of another ' +
          'topic; then read back what the server runs (or the file holds) and compare it with what was sent. ' +
          'Every deployment is kept in the record (apns-cert show).',
      )
      .argument('[name]', 'record name (optional with --check: every record with targets)', recordName)
      .option('--target <label>', 'deploy to this target only (repeatable)', collect)
      .option('--allow-new-topic', 'deploy even where the server runs a certificate of another topic', false)
      .option('--dry-run', 'check the targets and say what would be sent (or written); send nothing', false)
      .option('--check', 'read back what each target runs (current, stale, foreign, unknown); upload nothing', false);
  },
  options(command: Command): DeployOptions {
    const o = command.opts<{ target?: string[]; allowNewTopic: boolean; dryRun: boolean; check: boolean }>();
    const name = command.processedArgs[0] as string | undefined;
    if (o.check) {
      if (o.allowNewTopic || o.dryRun)
        throw new AppError(
          'USAGE',
          'deploy --check: it reads back only; --allow-new-topic and --dry-run do not apply',
          {
            hint: `apns-cert deploy ${name ?? '<name>'} --check`,
          },
        );
      return { check: true, name, target: o.target };
    }
    if (name === undefined)
      throw new AppError('USAGE', 'deploy: a record name is needed (only --check goes without one)', {
        hint: 'apns-cert deploy <name>   # or: apns-cert deploy --check',
      });
    return { check: false, name, target: o.target, allowNewTopic: o.allowNewTopic, dryRun: o.dryRun };
  },
  load: async () => (await import('./run.js')).deploy,
};
