import { Option } from 'commander';
import type { Command } from 'commander';
import { TARGET_KINDS } from '../../core/index-model.js';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { recordName } from '../shared/options.js';
import type { TargetAddOptions, TargetListOptions, TargetRemoveOptions } from './run.js';

/** `apns-cert target <subcommand>`: where a record's certificate is deployed. The group is made once. */
export function targetGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'target') ??
    program
      .command('target')
      .summary("where a record's certificate is deployed: MDM servers and files (add, list, remove)")
      .description(
        "A record's deploy targets: an MDM server (nanomdm, nanohub, micromdm, fleet) by its base URL, with its " +
          'credential sealed in the store like a private key, or a file on this machine.',
      )
  );
}

export const targetAdd: CommandDefinition<TargetAddOptions> = {
  name: 'target',
  subcommand: 'add',
  changesStore: () => true,
  exitCodes: [
    [0, 'added (or replaced, with --force)'],
    ...COMMON_ERRORS,
    [69, 'the secret backend (keychain) is unavailable'],
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
    [77, 'wrong store passphrase'],
  ],
  notes: [
    '64 also for: a label the record already has (without --force), --url missing or given for --kind file,',
    'http:// to a host that is not a loopback address, a relative --path, an empty --credential-file,',
    '--format p12 without --password-file (or --password-file without it), an empty --password-file.',
    'The credential (and a .p12 password) is read only from its file and kept sealed under the store key; it is never printed.',
  ],
  examples: [
    'apns-cert target add acme-prod --kind nanomdm --url https://mdm.acme.example --credential-file nanomdm-api-key',
    'apns-cert target add acme-prod --kind fleet --url https://fleet.acme.example --credential-file fleet-token --ca-file acme-ca.pem',
    "apns-cert target add acme-prod --kind file --path /etc/mdm/push.pem --key-format pkcs1 --after 'systemctl restart micromdm'",
    'apns-cert target add acme-prod --kind file --path /srv/mdm/push.p12 --format p12 --password-file p12-password',
  ],
  define(program) {
    return targetGroup(program)
      .command('add')
      .summary('add a deploy target to a record')
      .description(
        'Add an MDM server (its base URL and credential) or a file as a target of the record. The label names it ' +
          '(default: the kind); a record may have several targets.',
      )
      .argument('<name>', 'record name', recordName)
      .addOption(new Option('--kind <kind>', 'the kind of target').choices(TARGET_KINDS).makeOptionMandatory())
      .option('--url <base-url>', "the server's base URL: https://, or http:// to a loopback address")
      .option('--credential-file <file>', "a file holding the server's API key or token (sealed in the store)")
      .option('--ca-file <pem>', "the CA certificate(s) the server's TLS certificate is checked against")
      .option('--label <label>', 'the name of this target on the record (default: the kind)', recordName)
      .option('--path <file>', 'kind file: where the certificate and key are written (an absolute path)')
      .addOption(new Option('--format <format>', 'kind file: the file format (default pem)').choices(['pem', 'p12']))
      .addOption(
        new Option('--key-format <format>', 'kind file: the private key format (default pkcs8)').choices([
          'pkcs8',
          'pkcs1',
        ]),
      )
      .option(
        '--password-file <file>',
        'kind file, --format p12: a file holding the .p12 password (sealed in the store)',
      )
      .option('--after <command>', 'kind file: a command run after the file is written (/bin/sh -c)')
      .option('--force', 'replace a target with the same label', false);
  },
  options: (command: Command) => ({
    ...command.opts<Omit<TargetAddOptions, 'name'>>(),
    name: command.processedArgs[0] as string,
  }),
  load: async () => (await import('./run.js')).targetAdd,
};

export const targetList: CommandDefinition<TargetListOptions> = {
  name: 'target',
  subcommand: 'list',
  exitCodes: [[0, 'listed (an empty or missing store lists nothing)'], ...COMMON_ERRORS],
  notes: ['64 also when <name> is no record of the store.'],
  examples: [
    'apns-cert target list',
    'apns-cert target list acme-prod',
    'apns-cert target list --json | jq -r \'.targets[] | select(.kind == "fleet") | .name\'',
  ],
  define(program) {
    return targetGroup(program)
      .command('list')
      .summary('list the deploy targets of every record, or of one')
      .description('Record, label, kind and URL (or path) of each target. Reads the index only; never a credential.')
      .argument('[name]', 'record name', recordName);
  },
  options: (command: Command) => ({ name: command.processedArgs[0] as string | undefined }),
  load: async () => (await import('./run.js')).targetList,
};

export const targetRemove: CommandDefinition<TargetRemoveOptions> = {
  name: 'target',
  subcommand: 'remove',
  changesStore: () => true,
  exitCodes: [
    [0, 'removed'],
    ...COMMON_ERRORS,
    [73, 'cannot write to the store'],
    [75, 'another apns-cert process is changing the store'],
  ],
  notes: ['64 also when the record has no target of that label.'],
  examples: ['apns-cert target remove acme-prod nanomdm', 'apns-cert target remove acme-prod fleet-staging'],
  define(program) {
    return targetGroup(program)
      .command('remove')
      .summary('remove a deploy target (and its sealed credential) from a record')
      .description('Remove the target <label> of the record <name>; its sealed credential is deleted with it.')
      .argument('<name>', 'record name', recordName)
      .argument('<label>', 'the label shown by apns-cert target list', recordName);
  },
  options: (command: Command) => ({
    name: command.processedArgs[0] as string,
    label: command.processedArgs[1] as string,
  }),
  load: async () => (await import('./run.js')).targetRemove,
};
