import type { Command } from 'commander';
import { COMMON_ERRORS, collect } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { recordName } from '../shared/options.js';
import type { DeployOptions } from './run.js';

export const deploy: CommandDefinition<DeployOptions> = {
  name: 'deploy',
  changesStore: (options) => !options.dryRun,
  exitCodes: [
    [0, 'every target runs the certificate (deployed), or took it without a read-back (not confirmed)'],
    [1, 'a target runs a certificate of another topic (refused), refused the upload, or reads back another one'],
    ...COMMON_ERRORS,
    [69, 'a target could not be reached (or did not answer in time), or the secret backend is unavailable'],
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'a target refused its credential (401/403), or wrong store passphrase'],
  ],
  notes: [
    'Targets: every nanomdm, nanohub, micromdm and fleet target of the record, or those named by --target.',
    '64 also for: a record with no such target, a --target label it does not have, a file target (not done yet).',
    'Fleet keeps its own key: it gets the certificate only, which must be issued for the CSR Fleet made.',
    'When targets end differently the exit code is the first of 77, 69, 1 that applies.',
    'Each target is called with a timeout of 10 s per request; credentials are never printed.',
  ],
  examples: [
    'apns-cert deploy acme-prod',
    'apns-cert deploy acme-prod --target nanomdm --dry-run',
    'apns-cert deploy acme-prod --json | jq -r \'.targets[] | "\\(.label) \\(.result)"\'',
  ],
  define(program) {
    return program
      .command('deploy')
      .summary("put the record's active certificate and key on its MDM server targets")
      .description(
        'Upload the active certificate and its private key to each server target of the record, after checking ' +
          'that the server does not run a certificate of another topic; then read back what the server runs and ' +
          'compare it with what was sent. Every deployment is kept in the record (apns-cert show).',
      )
      .argument('<name>', 'record name', recordName)
      .option('--target <label>', 'deploy to this target only (repeatable)', collect)
      .option('--allow-new-topic', 'deploy even where the server runs a certificate of another topic', false)
      .option('--dry-run', 'check the targets and say what would be sent; send nothing', false);
  },
  options: (command: Command) => ({
    ...command.opts<Omit<DeployOptions, 'name'>>(),
    name: command.processedArgs[0] as string,
  }),
  load: async () => (await import('./run.js')).deploy,
};
