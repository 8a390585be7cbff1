import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { lookupPassword } from '../../src/store/postgres/pgpass.js';
import { isPostgresUrl, parsePostgresUrl } from '../../src/store/postgres/url.js';
import { postgresStoreUrl } from '../../src/store/location.js';
import { tempDir } from '../helpers/cli.js';

describe('the store URL', () => {
  it('names a PostgreSQL store by its scheme; anything else is a directory', () => {
    expect(isPostgresUrl('postgres://u@h/db')).toBe(true);
    expect(isPostgresUrl('postgresql://u@h/db')).toBe(true);
    expect(isPostgresUrl('/var/lib/apns-cert')).toBe(false);
    expect(isPostgresUrl('./postgres:/x')).toBe(false);
    expect(postgresStoreUrl(undefined, { APNS_CERT_STORE: 'postgres://u@h/db' })).toBe('postgres://u@h/db');
    expect(postgresStoreUrl('/dir', { APNS_CERT_STORE: 'postgres://u@h/db' })).toBeUndefined();
    expect(postgresStoreUrl('postgresql://u@h/db', {})).toBe('postgresql://u@h/db');
  });

  it('reads user, host, port, database and schema; a missing part from the PG* variables', () => {
    expect(parsePostgresUrl('postgres://admin@db.example:6543/mdm?schema=tenant_a', {})).toEqual({
      host: 'db.example',
      port: 6543,
      user: 'admin',
      database: 'mdm',
      schema: 'tenant_a',
      ssl: { mode: 'disable', rootCert: undefined },
      display: 'postgres://admin@db.example:6543/mdm?schema=tenant_a',
    });
    expect(
      parsePostgresUrl('postgres://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem', { PGSSLMODE: 'require' }),
    ).toMatchObject({
      ssl: { mode: 'verify-full', rootCert: '/etc/ca.pem' },
      display: 'postgres://u@h:5432/d?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem',
    });
    expect(parsePostgresUrl('postgres://u@h/d', { PGSSLMODE: 'require', PGSSLROOTCERT: '/ca' }).ssl).toEqual({
      mode: 'require',
      rootCert: '/ca',
    });
    expect(
      parsePostgresUrl('postgres://', { PGHOST: 'h', PGPORT: '5433', PGUSER: 'u', PGDATABASE: 'd' }),
    ).toMatchObject({
      host: 'h',
      port: 5433,
      user: 'u',
      database: 'd',
      schema: 'apns_cert',
      display: 'postgres://u@h:5433/d',
    });
    expect(parsePostgresUrl('postgresql://u@[::1]/d', {})).toMatchObject({ host: '::1', port: 5432 });
    expect(parsePostgresUrl('postgres://u@h/', { USER: 'x' }).database).toBe('u');
  });

  it.each([
    ['postgres://u:secret@h/db', /a password in the store URL is in every process list; use PGPASSWORD or ~\/.pgpass/],
    ['postgres://u@h/db?application_name=x', /the parameter application_name is not one apns-cert takes/],
    [
      'postgres://u@h/db?sslmode=prefer',
      /sslmode prefer is not one apns-cert takes \(disable, require, verify-ca, verify-full\)/,
    ],
    ['postgres://u@h/db?schema=Bad-Name', /is not a plain lowercase name/],
    ['postgres://u@h:99999/db', /not a URL|is not a port/],
  ])('refuses %s (64), never echoing a password', (url, message) => {
    let caught: unknown;
    try {
      parsePostgresUrl(url, {});
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught) && caught.exitCode).toBe(64);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('secret');
  });
});

describe('the password (libpq rules)', () => {
  const to = { host: 'db.example', port: 5432, database: 'mdm', user: 'admin' };
  const passfile = (text: string, mode = 0o600) => {
    const path = join(tempDir(), 'pgpass');
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };

  it('PGPASSWORD first, then the first matching line of PGPASSFILE', () => {
    const file = passfile('# comment\nother:*:*:*:no\ndb.example:5432:*:admin:first\n*:*:*:*:second\n');
    expect(lookupPassword({ PGPASSWORD: 'env', PGPASSFILE: file }, to)).toBe('env');
    expect(lookupPassword({ PGPASSFILE: file }, to)).toBe('first');
    expect(lookupPassword({ PGPASSFILE: file }, { ...to, user: 'monitor' })).toBe('second');
  });

  it('~/.pgpass when PGPASSFILE is not set; escaped colons and backslashes', () => {
    const home = tempDir();
    writeFileSync(join(home, '.pgpass'), 'db.example:5432:mdm:admin:a\\:b\\\\c:d\n', { mode: 0o600 });
    expect(lookupPassword({ HOME: home }, to)).toBe('a:b\\c:d');
  });

  it('ignores a password file that group or others can read, as libpq does', () => {
    expect(lookupPassword({ PGPASSFILE: passfile('*:*:*:*:open\n', 0o644) }, to)).toBeUndefined();
    expect(lookupPassword({ PGPASSFILE: '/nonexistent/pgpass' }, to)).toBeUndefined();
  });
});
