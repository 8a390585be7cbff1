import type { Command } from 'commander';
import { COMMON_ERRORS, WRONG_P12_PASSWORD } from '../kit.js';
import { atOption, caFileOption, passwordFileOption } from '../shared/options.js';
import type { CommandDefinition } from '../kit.js';
import type { InspectOptions } from './run.js';

export const inspect: CommandDefinition<InspectOptions> = {
  name: 'inspect',
  exitCodes: [
    [0, 'shown (even when expired, not Apple-issued or not a push certificate)'],
    [1, 'a push certificate request whose signature does not verify, or whose chain has a broken link'],
    ...COMMON_ERRORS,
    WRONG_P12_PASSWORD,
  ],
  examples: [
    'apns-cert inspect MDM_Certificate.pem',
    'apns-cert inspect --json push.der | jq -r .notAfter',
    'apns-cert inspect old-push.pem --at 2020-06-01   # chain check inside its validity',
    'apns-cert inspect PushCertificateRequest',
    'security find-certificate -p -c APSP | apns-cert inspect -',
  ],
  define(program) {
    const command = program
      .command('inspect')
      .summary('show what a certificate or push certificate request is')
      .description(
        'Show a certificate (PEM, DER or .p12; need not be in the store): topic(s), topic hash, kind (mdm | app | mdm-vendor | unknown), environment, ' +
          'subject, issuer, whether it chains to an Apple root, serial, validity, fingerprints and key. On a PushCertificateRequest ' +
          '(base64 or plist): the CSR subject, the vendor chain, whether each certificate of the chain is signed by the next up to an ' +
          'Apple root, whether the vendor signature verifies, and the verdict of every check `verify` makes on a request (as of --at; SHA-1 is a warning here).',
      )
      .argument('<file>', 'certificate or request file, or "-" for stdin')
      .addOption(atOption())
      .addOption(passwordFileOption())
      .addOption(caFileOption());
    return command;
  },
  options(command: Command) {
    const o = command.opts<{ at?: Date; passwordFile?: string; caFile?: string }>();
    return { file: command.args[0]!, at: o.at, passwordFile: o.passwordFile, caFile: o.caFile };
  },
  load: async () => (await import('./run.js')).inspect,
};
