import { AppError } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { isDomainError } from '../../core/errors.js';
import type { DomainError } from '../../core/errors.js';
import { PORTAL_URL } from './portal.js';

interface Said {
  code: ErrorCode;
  hint?: string | undefined;
  details?: string[];
}

/** Example values for the options core validates, for a hint that can be run as it is. */
const EXAMPLE: Record<string, string> = {
  '--common-name': '--name acme-prod --common-name "ACME MDM"',
  '--country': '--name acme-prod --country US',
  '--email': '--name acme-prod --email admin@example.com',
};

/** Exit code, hint and extra lines for a core error, in the words of `command` (the one that is running). */
function say(e: DomainError, command: string): Said {
  switch (e.kind) {
    case 'bad-input':
      return { code: 'BAD_INPUT' };
    case 'not-a-certificate':
      return {
        code: 'BAD_INPUT',
        hint:
          e.what === 'csr'
            ? `upload the CSR at ${PORTAL_URL}, then: apns-cert import <the downloaded .pem>`
            : e.what === 'pkcs12'
              ? `apns-cert inspect ${e.source}   # import, inspect, hash, verify and check-expiry read .p12 files`
              : undefined,
      };
    case 'encrypted-key':
      return {
        code: 'BAD_INPUT',
        hint: e.inCertificateFile
          ? `openssl pkcs8 -in ${e.source} -out key.pem   # decrypt it, then import the certificate with key.pem's content`
          : `openssl pkcs8 -in ${e.source} -out key.pem   # decrypt it first`,
      };
    case 'wrong-password':
      return {
        code: 'WRONG_PASSWORD',
        hint: `apns-cert ${command} ${e.source} --password-file <file>   # or set APNS_CERT_P12_PASSWORD`,
      };
    case 'too-much-work':
      return {
        code: 'BAD_INPUT',
        hint: `openssl pkcs12 -in ${e.source} -nodes | apns-cert ${command} -${command === 'import' ? ' --name <name>' : ''}   # or re-export it with fewer iterations`,
      };
    case 'wrong-passphrase':
      return {
        code: 'WRONG_PASSPHRASE',
        hint: `APNS_CERT_PASSPHRASE=... apns-cert ${command} ...   # or --passphrase-file <file>`,
      };
    case 'damaged-index':
      return {
        code: 'STORE_CORRUPT',
        hint: `cp ${e.path} ${e.path}.damaged   # keep a copy, then restore the index from a backup`,
      };
    case 'damaged-store-file':
      return {
        code: 'STORE_CORRUPT',
        hint: e.file === undefined ? undefined : `apns-cert doctor   # then restore ${e.file} from a backup`,
      };
    case 'not-utf8':
      return {
        code: 'USAGE',
        hint: e.decoded
          ? `locale charmap   # should say UTF-8; then give ${e.what} again, as UTF-8`
          : 'iconv -f UTF-8 -t UTF-8 <file> >/dev/null   # names the first byte that is not UTF-8',
      };
    case 'bad-name':
      return { code: 'USAGE', hint: 'apns-cert list' };
    case 'bad-option':
      return { code: 'USAGE', hint: `apns-cert ${command} ${EXAMPLE[e.option] ?? `${e.option} <value>`}` };
    case 'no-topic':
      return { code: 'NO_TOPIC', hint: `apns-cert inspect ${e.source}` };
    case 'already-imported':
      return { code: 'ALREADY_IMPORTED', hint: `apns-cert show ${e.record}` };
    case 'key-mismatch':
      return {
        code: 'KEY_MISMATCH',
        hint: e.pending === undefined ? undefined : `apns-cert inspect ${e.source}   # was it issued for another CSR?`,
      };
    case 'no-matching-record':
      return { code: 'USAGE', hint: `apns-cert import ${e.source} --name <name>` };
    case 'retired':
      return { code: 'USAGE', hint: `apns-cert retire ${e.record} --purge --yes   # or import under another --name` };
    case 'no-key':
      return {
        code: 'NO_KEY',
        hint: 'apns-cert csr --name <name>   # make a new key and CSR (or import --no-key: the server keeps the key)',
      };
    case 'key-with-no-key':
      return { code: 'USAGE', hint: `apns-cert import ${e.source} --name <name>   # without --no-key: keep the key` };
    case 'expired':
      return {
        code: 'EXPIRED',
        hint: `apns-cert import ${e.source} --allow-expired   # only if you really want an expired certificate on record`,
      };
    case 'topic-changed':
      return {
        code: 'TOPIC_CHANGED',
        details: [
          `  on record:       ${e.recorded}`,
          `  in certificate:  ${e.found}`,
          'A renewal must keep its topic. A new topic means the certificate was created under another Apple ID,',
          'or with "Create" instead of "Renew" in Apple\'s portal. Every enrolled device would stop answering',
          'until it is re-enrolled. Nothing was changed; the current certificate stays active.',
        ],
        hint: `apns-cert import ${e.source} --name ${e.record} --allow-new-topic   # only if every device will re-enroll`,
      };
    default: {
      const unmapped: never = e;
      throw unmapped;
    }
  }
}

/**
 * The user's error for an error of core: its message, the exit code, and a hint that fits `command`, the
 * command that is running. Any other error is returned as it is.
 */
export function userError(error: unknown, command: string): unknown {
  if (!isDomainError(error)) return error;
  const said = say(error, command);
  return new AppError(said.code, error.message, { hint: said.hint, details: said.details, cause: error });
}
