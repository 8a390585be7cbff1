import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { nameOption } from '../shared/options.js';
import type { MdmcertDecryptOptions } from './run.js';

export const mdmcertDecrypt: CommandDefinition<MdmcertDecryptOptions> = {
  name: 'mdmcert-decrypt',
  exitCodes: [
    [0, 'request written, and every check holds'],
    [1, 'request written, but a check failed (the file is kept to inspect)'],
    ...COMMON_ERRORS.map(([code, meaning]) =>
      code === 65
        ? ([code, `${meaning}, or a file for no pending request, or damaged (nothing written)`] as const)
        : ([code, meaning] as const),
    ),
    [69, 'the secret backend (keychain) is unavailable'],
    [73, 'cannot write the request (it exists: use --force or --out)'],
    [77, 'wrong store passphrase'],
  ],
  examples: [
    'apns-cert mdmcert-decrypt ~/Downloads/mdm_signed_request.20260301_094910_220.plist.b64.p7 --name acme-prod',
    'apns-cert mdmcert-decrypt mdm_signed_request.*.plist.b64.p7 --out acme.request.b64   # finds the record itself',
  ],
  define(program) {
    const command = program
      .command('mdmcert-decrypt')
      .summary('decrypt the signed request mailed by mdmcert.download and check it')
      .description(
        'Open the file mdmcert.download mailed (hex text as mailed, or PKCS#7 DER/PEM) with the exchange key kept in the store by ' +
          '`csr --via mdmcert`, write the PushCertificateRequest inside (to upload to Apple), check it, and print the portal steps.',
      )
      .argument('<file>', 'the mailed mdm_signed_request.<date>.plist.b64.p7')
      .addOption(nameOption('the record the request is for (default: found from the file)'))
      .option('--out <file>', 'where to write the request (default: <name>.request.b64)')
      .option('--ca-file <pem>', 'root certificate(s) to accept besides the bundled Apple CAs')
      .option('--force', 'overwrite an existing request file', false);
    return command;
  },
  options: (command: Command) => ({
    ...command.opts<Omit<MdmcertDecryptOptions, 'file'>>(),
    file: command.args[0]!,
  }),
  load: async () => (await import('./run.js')).mdmcertDecrypt,
};
