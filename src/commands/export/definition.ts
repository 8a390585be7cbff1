import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import {
  LEGACY_P12_ITERATIONS,
  MAX_P12_ITERATIONS,
  MIN_P12_ITERATIONS,
  P12_ITERATIONS,
} from '../../core/pkcs12-params.js';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { recordName } from '../shared/options.js';
import type { ExportOptions } from './run.js';

/** commander argParser for --iterations: what importers accept and what our own import opens. */
function iterationCount(value: string): number {
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= MIN_P12_ITERATIONS && n <= MAX_P12_ITERATIONS)) {
    throw new InvalidArgumentError(
      `expected a whole number from ${MIN_P12_ITERATIONS} to ${MAX_P12_ITERATIONS}, got "${value}"`,
    );
  }
  return n;
}

export const exportCommand: CommandDefinition<ExportOptions> = {
  name: 'export',
  exitCodes: [
    [0, 'written'],
    ...COMMON_ERRORS,
    [69, 'the secret backend (keychain) is unavailable'],
    [73, 'cannot write the file (it exists: use --force)'],
    [77, 'wrong store passphrase'],
  ],
  examples: [
    'apns-cert export acme-prod --p12 acme-prod.p12 --password-file p12.pass',
    'apns-cert export acme-prod --p12 old-server.p12 --legacy',
    'apns-cert export acme-prod --p12 old-importer.p12 --iterations 10000',
    'apns-cert export acme-prod --pem /etc/mdm/push.pem',
    'apns-cert export acme-prod --pem /etc/micromdm/push.pem --key-format pkcs1',
    'apns-cert export acme-prod --pem push.crt --cert-only',
  ],
  define(program) {
    const command = program
      .command('export')
      .summary('export the active certificate and key for an MDM server (.p12 or PEM)')
      .description(
        'Write the active certificate of <name> with its private key, as a .p12 (AES-256, PBKDF2-SHA256; --legacy: 3DES for old servers) or as PEM. Files are created with mode 0600.',
      )
      .argument('<name>', 'record to export', recordName)
      .option(
        '--p12 <file>',
        'write a PKCS#12 file (password from --password-file, $APNS_CERT_P12_PASSWORD or a prompt)',
      )
      .option('--pem <file>', 'write certificate and private key as PEM')
      .option('--cert-only', 'with --pem: the certificate alone, no key', false)
      .option('--password-file <file>', 'password for the .p12')
      .option('--legacy', 'with --p12: 3DES and SHA-1 MAC, for servers that cannot read AES', false)
      .option(
        '--iterations <n>',
        `with --p12: key-derivation iterations (default ${P12_ITERATIONS} (PBKDF2-HMAC-SHA256), ${LEGACY_P12_ITERATIONS} with --legacy); lower only for an importer that cannot cope`,
        iterationCount,
      )
      .addOption(
        new Option(
          '--key-format <format>',
          'with --pem: the private key as PKCS#8 (PEM label PRIVATE KEY) or PKCS#1 (PEM label RSA PRIVATE KEY, for MicroMDM and other Go servers)',
        ).choices(['pkcs8', 'pkcs1']),
      )
      .option(
        '--force',
        'replace an existing file (by rename: a symbolic link there is replaced, not followed)',
        false,
      );
    return command;
  },
  options: (command: Command) => ({ ...command.opts<ExportOptions>(), name: command.processedArgs[0] as string }),
  load: async () => (await import('./run.js')).exportCommand,
};
