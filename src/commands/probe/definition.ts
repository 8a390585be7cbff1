import type { Command } from 'commander';
import { COMMON_ERRORS } from '../kit.js';
import { passwordFileOption } from '../shared/options.js';
import type { CommandDefinition } from '../kit.js';
import type { ProbeOptions } from './run.js';

export const probe: CommandDefinition<ProbeOptions> = {
  name: 'probe',
  exitCodes: [
    [0, 'accepted: APNs took the certificate'],
    [
      1,
      'rejected: 403 (BadCertificate, BadCertificateEnvironment, CertificateExpired, ...), a TLS alert from the server, or a TLS session closed without an answer',
    ],
    ...COMMON_ERRORS,
    [
      69,
      'unreachable: no connection (the port is named), a port that does not speak TLS, no answer within 10 s, or APNs busy; also: keychain unavailable',
    ],
    [77, 'wrong store passphrase or .p12 password'],
  ],
  examples: [
    'apns-cert probe acme-prod',
    'apns-cert probe exported.p12 --password-file p12.pass',
    'apns-cert probe dev-app --sandbox --json',
  ],
  define(program) {
    const command = program
      .command('probe')
      .summary('ask APNs whether it accepts a certificate (one push to no device)')
      .description(
        "Open an HTTP/2 TLS connection to APNs with the certificate and its key as the client identity, and send one push with the certificate's " +
          'topic to a well-formed device token that belongs to no device. "BadDeviceToken" means APNs accepted the certificate; 403 or a refused ' +
          'handshake means it did not. Nothing reaches a device.',
      )
      .argument('<name|file>', 'a store record, or a PEM (certificate + key) or .p12 file')
      .option('--sandbox', 'use the development environment (api.sandbox.push.apple.com)', false)
      .option('--apns-url <https-url>', 'another APNs-like server (tests, proxies)')
      .option('--ca-file <pem>', "CA certificate(s) to trust for that server's certificate")
      .addOption(passwordFileOption());
    return command;
  },
  options: (command: Command) => ({ ...command.opts<ProbeOptions>(), target: command.args[0]! }),
  load: async () => (await import('./run.js')).probe,
};
