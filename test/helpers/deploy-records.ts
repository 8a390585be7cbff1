/**
 * Records with push certificates for the deploy tests: certificates minted by a fake Apple CA (with their key,
 * in one PEM file to import), and a store holding the record "acme" made of them by `import`.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from './cli.js';
import { createFakeCa, daysFrom, issuePushCert, newKeyPem } from './fake-apple.js';
import { inProcessEnv } from './in-process.js';

export interface Issued {
  certPem: string;
  keyPem: string;
  /** The certificate followed by its key, to import. */
  file: string;
  serial: string;
  notAfter: string;
}

/** Mints push certificates valid from a day before `now`, written into `work`. */
export function pushCertIssuer(work: string, now: Date) {
  const ca = createFakeCa();
  let count = 0;
  return {
    ca,
    issue(topic: string, days: number): Issued {
      const key = newKeyPem();
      const certPem = issuePushCert(ca, {
        publicKeyPem: key.publicPem,
        topic,
        notBefore: daysFrom(now, -1),
        notAfter: daysFrom(now, days),
      });
      const file = join(work, `cert-${++count}.pem`);
      writeFileSync(file, certPem + key.privatePem);
      const x = new X509Certificate(certPem);
      return {
        certPem,
        keyPem: key.privatePem,
        file,
        serial: x.serialNumber,
        notAfter: new Date(x.validTo).toISOString(),
      };
    },
  };
}

/** A store of its own with the record "acme" whose certificates are `certs` (imported in order; the last is active). */
export async function recordWith(
  certs: Issued[],
  cli: (args: string[], env: NodeJS.ProcessEnv) => Promise<CliResult>,
  extra: Record<string, string> = {},
): Promise<NodeJS.ProcessEnv> {
  const env = inProcessEnv(extra);
  for (const c of certs) {
    const r = await cli(['import', c.file, '--name', 'acme', '--allow-new-topic'], env);
    expect(r.code, r.stderr).toBe(0);
  }
  return env;
}
