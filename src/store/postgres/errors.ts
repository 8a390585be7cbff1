import { AppError, isAppError } from '../../errors.js';
import type { PostgresAddress } from './url.js';

/** What node-postgres rejects with: a server error (SQLSTATE `code`) or a socket error (errno `code`). */
interface PgFailure {
  code?: string;
  message?: string;
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);

/** A connection that could not be made or was lost (the server stopped, the network went away, a timeout). */
export function isConnectionFailure(error: unknown): boolean {
  const e = error as PgFailure;
  const code = e?.code ?? '';
  return (
    SOCKET_CODES.has(code) ||
    code.startsWith('08') || // connection_exception
    code === '57P01' || // admin_shutdown
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now (starting up, shutting down)
    /Connection terminated|timeout expired|Query read timeout|Client has encountered a connection error|not queryable/i.test(
      e?.message ?? '',
    )
  );
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/**
 * The AppError for what the database answered `action` ("<action>: <cause>"): unreachable 69 naming the host,
 * permission denied 77 (one line, the role named), no store yet 65 (hint: store init), busy 75, password 77.
 */
export function pgError(error: unknown, action: string, address: PostgresAddress): AppError {
  if (isAppError(error)) return error;
  const e = error as PgFailure;
  const code = e?.code ?? '';
  const cause = (e?.message ?? String(error)).split('\n')[0]!;
  if (isConnectionFailure(error))
    return new AppError(
      'SERVICE_UNAVAILABLE',
      `cannot reach the PostgreSQL store at ${address.host}:${address.port}: ${cause}`,
      {
        hint: `pg_isready -h ${address.host} -p ${address.port}   # then run the command again (nothing was half-written)`,
      },
    );
  const sqlstate = /^[0-9A-Z]{5}$/.test(code);
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || (!sqlstate && /\bSSL\b|certificate/i.test(cause)))
    return new AppError(
      'SERVICE_UNAVAILABLE',
      `connect to the PostgreSQL store at ${address.host}:${address.port} over TLS: ${cause}`,
      {
        hint: `apns-cert --store "${address.display.split('?')[0]}?sslmode=verify-full&sslrootcert=<CA file of the server>" <command>`,
      },
    );
  switch (code) {
    case '42501':
      return new AppError('PERMISSION_DENIED', `${action}: permission denied by the database for this role`, {
        hint: `the role "${address.user}" lacks the grant for this (a monitor role reads no secret and changes nothing): run it with the admin role; grants: apns-cert store init --print-grants <admin> <monitor>`,
      });
    case '3F000': // invalid_schema_name
    case '42P01': // undefined_table
      return noStore(action, address);
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification (pg_hba refused)
      return new AppError(
        'WRONG_PASSWORD',
        `connect to the PostgreSQL store ${address.display}: the database refused role "${address.user}": ${cause}`,
        {
          hint: `check PGPASSWORD, or the line for ${address.host}:${address.port}:${address.database}:${address.user} in ~/.pgpass (PGPASSFILE)`,
        },
      );
    case '3D000': // invalid_catalog_name
      return new AppError('NO_STORE', `${action}: ${cause}`, {
        hint: `createdb -h ${address.host} -p ${address.port} ${address.database}   # then: apns-cert store init --store ${address.display}`,
      });
    case '55P03': // lock_not_available
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return busy(address);
    default:
      // 22xxx data exceptions, 23xxx integrity violations: the server is there, what was sent does not fit its tables
      if (/^2[23]/.test(code))
        return new AppError(
          'INTERNAL',
          `${action}: the PostgreSQL store ${address.display} refused the data (SQLSTATE ${code}): ${cause}`,
          {
            hint: `apns-cert doctor --store ${address.display}`,
          },
        );
      return new AppError(
        'SERVICE_UNAVAILABLE',
        `${action}: the PostgreSQL store ${address.display} answered ${code === '' ? 'an error' : `SQLSTATE ${code}`}: ${cause}`,
        { hint: `pg_isready -h ${address.host} -p ${address.port}` },
      );
  }
}

export const noStore = (action: string, address: PostgresAddress) =>
  new AppError('NO_STORE', `${action}: the database has no apns-cert store yet`, {
    hint: `apns-cert store init --store ${address.display}`,
  });

export const busy = (address: PostgresAddress) =>
  new AppError('STORE_BUSY', `update the store ${address.display}: another apns-cert process is changing it`, {
    hint: 'apns-cert list   # and retry when the other process is done',
  });
