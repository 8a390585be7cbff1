import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { AppError } from '../../errors.js';
import { lookupPassword } from './pgpass.js';
import type { PostgresAddress } from './url.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** The longest any statement may take on the client's side (a lock wait is bounded by lock_timeout before it). */
const QUERY_TIMEOUT_MS = 30_000;

/** node-postgres's TLS options for the address's sslmode (url.ts); the root certificate as libpq looks for it. */
function tlsOptions(address: PostgresAddress, env: NodeJS.ProcessEnv): false | ConnectionOptions {
  const { mode, rootCert } = address.ssl;
  if (mode === 'disable') return false;
  const file = rootCert ?? (env.HOME ? join(env.HOME, '.postgresql', 'root.crt') : undefined);
  let ca: string | undefined;
  if (file !== undefined && (rootCert !== undefined || existsSync(file))) {
    try {
      ca = readFileSync(file, 'utf8');
    } catch (error) {
      throw new AppError('FILE_MISSING', `read the root certificate ${file}: ${(error as Error).message}`, {
        hint: `ls -l ${file}   # sslrootcert= names the CA file of the server's certificate`,
      });
    }
  }
  if (mode === 'require' && ca === undefined) return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
    // verify-ca (and require with a root certificate): the chain, not the name
    ...(mode === 'verify-full' ? { servername: address.host } : { checkServerIdentity: () => undefined }),
  };
}

/**
 * A node-postgres client for the address (not connected yet): the password asked for only when the server wants
 * one (from `env`: PGPASSWORD, the password file; never from the URL or the command line), 10 s to connect, TLS as
 * the sslmode says, a client-side statement timeout.
 */
export function newClient(address: PostgresAddress, env: NodeJS.ProcessEnv, lockWaitMs: number): pg.Client {
  const { host, port, user, database } = address;
  const client = new pg.Client({
    host,
    port,
    user,
    database,
    password: async () => {
      const password = lookupPassword(env, address);
      if (password === undefined)
        throw new AppError(
          'WRONG_PASSWORD',
          `connect to the PostgreSQL store ${address.display}: the server asks for a password and none was given`,
          {
            hint: `export PGPASSWORD=...   # or a line ${host}:${port}:${database}:${user}:<password> in ~/.pgpass (mode 0600)`,
          },
        );
      return password;
    },
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // a server that stops answering (a network gone silent) ends the statement: 69, rolled back by the server
    query_timeout: Math.max(QUERY_TIMEOUT_MS, lockWaitMs + CONNECT_TIMEOUT_MS),
    keepAlive: true,
    application_name: 'apns-cert',
    ssl: tlsOptions(address, env),
  });
  client.on('error', () => undefined); // a lost connection fails the query under way, reported there
  return client;
}

/** Ends the connection; a server gone silent would keep end() waiting for its answer: after a second the socket is closed. */
export async function closeClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), 1000);
    timer.unref();
  });
  const ended = await Promise.race([
    client.end().then(
      () => 'ended' as const,
      () => 'ended' as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (ended === 'late')
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
