import type { Command } from 'commander';
import { collect } from '../kit.js';
import type { CommandDefinition } from '../kit.js';
import { addThresholdOptions, thresholds } from '../shared/options.js';
import type { DoctorOptions } from './run.js';

export const doctor: CommandDefinition<DoctorOptions> = {
  name: 'doctor',
  exitCodes: [
    [0, 'no check failed (warnings allowed)'],
    [1, "some check failed (a target running a certificate not in its record's history is a failure)"],
    [
      64,
      'usage error (bad --apns-endpoint, a days value that is not a whole number, --critical-days above --warn-days)',
    ],
    [65, 'the store index is damaged'],
  ],
  examples: [
    'apns-cert doctor',
    'apns-cert doctor --offline --json',
    'apns-cert doctor --apns-endpoint proxy.internal:3128',
  ],
  define(program) {
    const command = addThresholdOptions(program.command('doctor'), { warn: 'warn', critical: 'fail' })
      .summary('check the secret backend, the store, expiry and the network path to APNs')
      .description(
        'Run every check and report each as ok / warn / fail with a hint: the secret backend (keychain reachable, or passphrase present), ' +
          'the store (owner and modes, as ssh checks ~/.ssh; index, files, orphans, leftover temporary files), certificates expiring soon, TCP reachability of APNs (api.push.apple.com:443 and :2197, ' +
          'a courier on :5223; 5 s each, in parallel) and, online, a probe of each active certificate and a read-back of every ' +
          'target (as apns-cert deploy --check: stale and unknown warn, foreign fails; targets with a credential need the store unlocked).',
      )
      .option('--offline', 'skip the network checks, the probes and the target read-backs', false)
      .option('--apns-endpoint <host:port>', 'check this endpoint instead of the defaults (repeatable)', collect, [])
      .option('--apns-url <https-url>', 'probe this APNs-like server instead of api.push.apple.com')
      .option('--ca-file <pem>', 'CA certificate(s) to trust for --apns-url');
    return command;
  },
  options(command: Command) {
    const o = command.opts<{
      offline: boolean;
      apnsEndpoint: string[];
      apnsUrl?: string;
      caFile?: string;
    }>();
    return {
      offline: o.offline,
      apnsEndpoints: o.apnsEndpoint,
      apnsUrl: o.apnsUrl,
      caFile: o.caFile,
      ...thresholds(command),
    };
  },
  load: async () => (await import('./run.js')).doctor,
};
