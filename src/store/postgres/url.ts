import { AppError } from '../../errors.js';

/** A PostgreSQL store's address, from `postgres://user@host:port/db?schema=name` and the PG* variables. */
export interface PostgresAddress {
  host: string;
  port: number;
  user: string;
  database: string;
  /** The schema that holds the store's tables (default apns_cert). */
  schema: string;
  /** TLS, as libpq's sslmode and sslrootcert say (URL parameters, else PGSSLMODE, PGSSLROOTCERT). */
  ssl: { mode: SslMode; rootCert: string | undefined };
  /** The URL as messages show it: never a password. */
  display: string;
}

/**
 * The sslmodes apns-cert takes (libpq's meanings): disable, no TLS (the default, as node-postgres's); require, TLS
 * without checking the server's certificate (unless a root certificate is given: then as verify-ca); verify-ca,
 * the certificate must chain to the root certificate; verify-full, and name the host. libpq's allow and prefer
 * (TLS only if the server offers it) are refused: node-postgres cannot fall back, and a silent fallback to no TLS
 * is what they would mean.
 */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
const PARAMETERS = ['schema', 'sslmode', 'sslrootcert'];

export const DEFAULT_SCHEMA = 'apns_cert';
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** True when `text` (a --store value) names a PostgreSQL store rather than a directory. */
export const isPostgresUrl = (text: string) => /^postgres(ql)?:\/\//i.test(text);

/**
 * Parses a store URL as libpq reads one (host, port, user, database; a missing part from PGHOST, PGPORT, PGUSER,
 * PGDATABASE, then localhost, 5432, the OS user, the user's name). A password in it is refused (64): a command
 * line is in every process list. `?schema=` names the schema, `sslmode=` and `sslrootcert=` set TLS; no other
 * parameter is taken.
 */
export function parsePostgresUrl(text: string, env: NodeJS.ProcessEnv): PostgresAddress {
  const bad = (cause: string, hint = 'apns-cert --store postgres://user@host:5432/db <command>') =>
    new AppError('USAGE', `read the store URL: ${cause}`, { hint });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('it is not a URL');
  }
  if (url.password !== '')
    throw bad(
      'a password in the store URL is in every process list; use PGPASSWORD or ~/.pgpass',
      'export PGPASSWORD=...   # or a line host:port:db:user:password in ~/.pgpass (mode 0600)',
    );
  const params = [...url.searchParams.keys()].filter((k) => !PARAMETERS.includes(k));
  if (params.length > 0)
    throw bad(`the parameter ${params[0]} is not one apns-cert takes (${PARAMETERS.map((p) => `${p}=`).join(', ')})`);
  const mode = url.searchParams.get('sslmode') ?? env.PGSSLMODE ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(mode))
    throw bad(
      `sslmode ${mode} is not one apns-cert takes (${SSL_MODES.join(', ')})`,
      'apns-cert --store "postgres://user@host:5432/db?sslmode=verify-full" <command>',
    );
  const rootCert = url.searchParams.get('sslrootcert') ?? (env.PGSSLROOTCERT || undefined);
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_RE.test(schema)) throw bad(`the schema "${schema}" is not a plain lowercase name`);
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') || env.PGHOST || 'localhost';
  const portText = url.port || env.PGPORT || '5432';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`the port ${portText} is not a port`);
  const user = decodeURIComponent(url.username) || env.PGUSER || env.USER || env.LOGNAME || 'postgres';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || env.PGDATABASE || user;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const query = new URLSearchParams();
  if (schema !== DEFAULT_SCHEMA) query.set('schema', schema);
  if (url.searchParams.has('sslmode')) query.set('sslmode', mode);
  if (url.searchParams.has('sslrootcert')) query.set('sslrootcert', rootCert!);
  const search = query.size === 0 ? '' : `?${query.toString()}`;
  const display = `postgres://${encodeURIComponent(user)}@${hostPart}:${portText}/${encodeURIComponent(database)}${search}`;
  return {
    host,
    port: Number(portText),
    user,
    database,
    schema,
    ssl: { mode: mode as SslMode, rootCert },
    display,
  };
}
