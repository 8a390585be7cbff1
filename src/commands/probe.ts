import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { AppError } from '../errors.js';
import type { ProbeResult } from '../core/probe-verdict.js';
import { COMMON_ERRORS, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';
import type { Identity } from './shared/identity.js';

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';

export interface ProbeOptions {
  target: string;
  sandbox: boolean;
  apnsUrl: string | undefined;
  caFile: string | undefined;
  passwordFile: string | undefined;
}

export function probeUrl(apnsUrl: string | undefined, sandbox: boolean): URL {
  const raw = apnsUrl ?? (sandbox ? APNS_SANDBOX : APNS_PRODUCTION);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('USAGE', `read --apns-url: "${raw}" is not a URL`, {
      hint: 'apns-cert probe acme-prod --apns-url https://127.0.0.1:8443',
    });
  }
  if (url.protocol !== 'https:')
    throw new AppError('USAGE', `read --apns-url: APNs speaks HTTPS, not ${url.protocol}`, {
      hint: 'apns-cert probe acme-prod',
    });
  return url;
}

export async function readCaFile(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError('FILE_MISSING', `read --ca-file ${path}: ${(error as Error).message}`);
  }
}

/** Sends the probe push for one identity. */
export async function probeIdentity(
  identity: Identity,
  url: URL,
  caPem: string | undefined,
  deps: Deps,
): Promise<ProbeResult> {
  const { sendProbe } = await import('../net/apns-probe.js');
  const { interpretProbe } = await import('../core/probe-verdict.js');
  const timeout = deps.env.APNS_CERT_PROBE_TIMEOUT_MS;
  const outcome = await sendProbe({
    url,
    certPem: identity.certificate.pem,
    keyPem: identity.key.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    caPem,
    topic: identity.certificate.topic!,
    mdm: identity.certificate.kind === 'mdm',
    timeoutMs: timeout !== undefined && /^\d+$/.test(timeout) ? Number(timeout) : 10_000,
  });
  return interpretProbe(outcome);
}

const EXIT = { accepted: 0, rejected: 1, unreachable: 69 } as const;

export const probe: CommandModule<ProbeOptions> = {
  name: 'probe',
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
      .option('--password-file <file>', 'password of a .p12');
    return withHelp(command, {
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
    });
  },
  options(command: Command) {
    const o = command.opts<{ sandbox: boolean; apnsUrl?: string; caFile?: string; passwordFile?: string }>();
    return {
      target: command.args[0]!,
      sandbox: o.sandbox,
      apnsUrl: o.apnsUrl,
      caFile: o.caFile,
      passwordFile: o.passwordFile,
    };
  },
  async run(options: ProbeOptions, deps: Deps) {
    const url = probeUrl(options.apnsUrl, options.sandbox);
    const caPem = await readCaFile(options.caFile);
    const { loadIdentity } = await import('./shared/identity.js');
    const identity = await loadIdentity(options.target, deps, { passwordFile: options.passwordFile });
    const result = await probeIdentity(identity, url, caPem, deps);
    if (deps.out.json) {
      deps.out.document({
        target: url.origin,
        source: identity.source,
        topic: identity.certificate.topic,
        accepted: result.verdict === 'accepted',
        ...result,
      });
    } else {
      const s = deps.out.style;
      const word =
        result.verdict === 'accepted'
          ? s.green('ACCEPTED')
          : result.verdict === 'rejected'
            ? s.red('REJECTED')
            : s.yellow('UNREACHABLE');
      deps.out.data(`${word} ${identity.source} (${identity.certificate.topic}) at ${url.host}: ${result.detail}`);
    }
    return EXIT[result.verdict];
  },
};
