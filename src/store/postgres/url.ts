import { AppError } from '../../errors.js';

/** A PostgreSQL store's address, from `postgres://user@host:port/db?schema=name` and the PG* variables. */
export interface PostgresAddress {
  host: string;
  port: number;
  user: string;
  database: string;
  /** The schema that holds the store's tables (default apns_cert). */
  schema: string;
  /** The URL as messages show it: never a password. */
  display: string;
}

export const DEFAULT_SCHEMA = 'apns_cert';
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** True when `text` (a --store value) names a PostgreSQL store rather than a directory. */
export const isPostgresUrl = (text: string) => /^postgres(ql)?:\/\//i.test(text);

/**
 * Parses a store URL as libpq reads one (host, port, user, database; a missing part from PGHOST, PGPORT, PGUSER,
 * PGDATABASE, then localhost, 5432, the OS user, the user's name). A password in it is refused (64): a command
 * line is in every process list. `?schema=` names the schema; no other parameter is taken.
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
  const params = [...url.searchParams.keys()].filter((k) => k !== 'schema');
  if (params.length > 0) throw bad(`the parameter ${params[0]} is not one apns-cert takes (only ?schema=)`);
  const schema = url.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_RE.test(schema)) throw bad(`the schema "${schema}" is not a plain lowercase name`);
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') || env.PGHOST || 'localhost';
  const portText = url.port || env.PGPORT || '5432';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`the port ${portText} is not a port`);
  const user = decodeURIComponent(url.username) || env.PGUSER || env.USER || env.LOGNAME || 'postgres';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || env.PGDATABASE || user;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const display = `postgres://${encodeURIComponent(user)}@${hostPart}:${portText}/${encodeURIComponent(database)}${schema === DEFAULT_SCHEMA ? '' : `?schema=${schema}`}`;
  return { host, port: Number(portText), user, database, schema, display };
}
