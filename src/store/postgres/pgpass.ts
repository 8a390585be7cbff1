import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The password libpq would use: PGPASSWORD, else the first matching line of the password file (PGPASSFILE, else
 * ~/.pgpass), in libpq's documented format (https://www.postgresql.org/docs/current/libpq-pgpass.html):
 * `hostname:port:database:username:password`, `*` matches anything, `\:` and `\\` escape, `#` starts a comment.
 * As libpq does, a file readable by group or others is ignored. Read from `env` (not process.env): the CLI's
 * environment is the one it was given.
 */
export function lookupPassword(
  env: NodeJS.ProcessEnv,
  to: { host: string; port: number; database: string; user: string },
): string | undefined {
  if (env.PGPASSWORD !== undefined && env.PGPASSWORD !== '') return env.PGPASSWORD;
  const file = env.PGPASSFILE || (env.HOME ? join(env.HOME, '.pgpass') : undefined);
  if (file === undefined) return undefined;
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile() || (process.platform !== 'win32' && (st.mode & 0o077) !== 0)) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = [to.host, String(to.port), to.database, to.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const fields = splitFields(line);
    if (fields.length < 5) continue;
    const matches = wanted.every((value, i) => fields[i] === '*' || fields[i] === value);
    if (matches) return fields[4];
  }
  return undefined;
}

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}
