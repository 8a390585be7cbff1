import { readFileSync } from 'node:fs';
import { AppError } from '../../errors.js';
import type { ProbeResult } from '../../core/probe-verdict.js';
import type { Deps } from '../kit.js';
import type { Identity } from './identity.js';
import { interpretProbe } from '../../core/probe-verdict.js';

/** What probe and doctor share: the APNs URL, the CA file, one probe of one identity. */
export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';

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
  const { sendProbe } = await import('../../net/apns-probe.js');
  const outcome = await sendProbe({
    url,
    certPem: identity.certificate.pem,
    keyPem: identity.key.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    caPem,
    topic: identity.certificate.topic!,
    mdm: identity.certificate.kind === 'mdm',
    timeoutMs: deps.settings.probeTimeoutMs,
  });
  return interpretProbe(outcome);
}
