/**
 * A private PostgreSQL cluster for the tests, from Debian's `postgresql` package (.ci/run installs it): initdb in
 * a temporary directory, a server on 127.0.0.1 at a free port and on a socket in that directory, stopped at the end.
 * The binaries come from `pg_config --bindir` or /usr/lib/postgresql/<version>/bin, never from PATH. initdb refuses
 * to run as root: then the cluster belongs to the unprivileged `postgres` user (runuser).
 *
 * pg_hba: scram-sha-256 passwords over TCP (what the CLI under test uses), trust on the socket (only this harness
 * uses it, to create roles and databases); TLS is on (a CA of its own, caFile), and required of members of tls_only. Missing binaries fail loudly: the PostgreSQL tests never skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a test file needs of one database of the cluster. */
export interface TestDatabase {
  name: string;
  host: string;
  port: number;
  /** The store URL of the admin role (no password: it comes from PGPASSWORD / the passfile). */
  adminUrl: string;
  /** The store URL of the monitor role. */
  monitorUrl: string;
  adminRole: string;
  monitorRole: string;
  /** The password of both roles (given to the CLI in PGPASSWORD). */
  password: string;
  /** A superuser connection over the socket, for node-postgres in the tests (`new pg.Client(...)`). */
  superuser: { host: string; port: number; user: string; database: string };
}

/** A running cluster, as plain data (vitest's globalSetup provides it to the test files). */
export interface ClusterInfo {
  host: string;
  port: number;
  /** The socket directory, for the superuser (trust). */
  socketDir: string;
  superuser: string;
  dataDir: string;
  bin: string;
  /** The cluster belongs to the `postgres` user (this process is root). */
  asRoot: boolean;
  /** The CA of the server's TLS certificate (for 127.0.0.1 and localhost): the server takes TLS and plain connections. */
  caFile: string;
}

export interface TestCluster extends ClusterInfo {
  createDatabase(name: string): TestDatabase;
  /** Stops the server (fast shutdown) but keeps the data: startServer() brings it back. */
  stopServer(): void;
  startServer(): void;
  /** Stops the server and removes the cluster. */
  stop(): void;
}

/** The directory of the PostgreSQL server binaries (initdb, pg_ctl, postgres, psql). */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  const lib = '/usr/lib/postgresql';
  if (existsSync(lib)) {
    const versions = readdirSync(lib)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(lib, v, 'bin')));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (found === undefined)
    throw new Error(
      `no PostgreSQL server binaries (initdb, pg_ctl) in ${candidates.join(', ') || 'pg_config --bindir or /usr/lib/postgresql/*/bin'}: install Debian's postgresql package (apt-get install postgresql; .ci/run does)`,
    );
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Runs a server binary of the cluster (as `postgres` when the cluster is root's). */
function runBinary(info: Pick<ClusterInfo, 'bin' | 'asRoot'>, command: string, args: string[], cwd: string): string {
  const [file, argv] = info.asRoot
    ? ['runuser', ['-u', 'postgres', '--', join(info.bin, command), ...args]]
    : [join(info.bin, command), args];
  const result = spawnSync(file, argv, { encoding: 'utf8', cwd, timeout: 60_000 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

const serverOptions = (info: ClusterInfo) =>
  `-p ${info.port} -c listen_addresses=127.0.0.1 -k ${info.socketDir} -c fsync=on -c max_connections=200 -c hba_file=${join(info.socketDir, 'hba.conf')} -c ssl=on -c ssl_cert_file=${join(info.socketDir, 'server.crt')} -c ssl_key_file=${join(info.socketDir, 'server.key')}`;

/** A CA (ca.crt) and the server's certificate it signed (server.crt, server.key 0600) for 127.0.0.1 and localhost. */
function makeServerCertificate(dir: string): void {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=apns-cert test CA',
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  ]);
  chmodSync(join(dir, 'server.key'), 0o600);
}

/** Starts the cluster's server and waits until it accepts connections. */
export function startServer(info: ClusterInfo): void {
  const log = join(info.socketDir, 'server.log');
  runBinary(
    info,
    'pg_ctl',
    ['start', '-w', '-t', '60', '-D', info.dataDir, '-l', log, '-o', serverOptions(info)],
    info.socketDir,
  );
}

/** Stops the cluster's server (fast: open sessions are ended), keeping its data. */
export function stopServer(info: ClusterInfo): void {
  runBinary(info, 'pg_ctl', ['stop', '-w', '-m', 'fast', '-D', info.dataDir], info.socketDir);
}

/** True while the server of the cluster runs (pg_ctl status). */
export function serverRunning(info: ClusterInfo): boolean {
  try {
    runBinary(info, 'pg_ctl', ['status', '-D', info.dataDir], info.socketDir);
    return true;
  } catch {
    return false;
  }
}

/** Stops the server if it runs and removes the cluster's directory. */
export function removeCluster(info: ClusterInfo): void {
  try {
    if (serverRunning(info)) stopServer(info);
  } finally {
    rmSync(info.socketDir, { recursive: true, force: true });
  }
}

/** psql as the superuser over the socket (trust); throws with psql's message on an error. */
export function psql(info: ClusterInfo, database: string, sql: string, user = info.superuser): string {
  const result = spawnSync(
    join(info.bin, 'psql'),
    [
      '-X',
      '-q',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      info.socketDir,
      '-p',
      String(info.port),
      '-U',
      user,
      '-d',
      database,
    ],
    { input: sql, encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status !== 0) throw new Error(`psql: ${result.stderr}`);
  return result.stdout;
}

/**
 * A new database `name` owned by a new admin role `<name>_admin`, and a monitor role `<name>_monitor` with no
 * rights yet (the tests grant what `store init --print-grants` prints), both with the same password.
 */
export function createDatabase(info: ClusterInfo, name: string): TestDatabase {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) throw new Error(`createDatabase: ${name} is not a plain lowercase name`);
  const adminRole = `${name}_admin`;
  const monitorRole = `${name}_monitor`;
  const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
  psql(
    info,
    'postgres',
    `CREATE ROLE ${quoteIdent(adminRole)} LOGIN PASSWORD ${quoteLiteral(password)};
     CREATE ROLE ${quoteIdent(monitorRole)} LOGIN PASSWORD ${quoteLiteral(password)};
     CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(adminRole)};
     REVOKE ALL ON DATABASE ${quoteIdent(name)} FROM PUBLIC;
     GRANT CONNECT ON DATABASE ${quoteIdent(name)} TO ${quoteIdent(monitorRole)};`,
  );
  const url = (role: string) => `postgres://${role}@${info.host}:${info.port}/${name}`;
  return {
    name,
    host: info.host,
    port: info.port,
    adminUrl: url(adminRole),
    monitorUrl: url(monitorRole),
    adminRole,
    monitorRole,
    password,
    superuser: { host: info.socketDir, port: info.port, user: info.superuser, database: name },
  };
}

/** initdb into a new temporary directory and start the server on a free loopback port. */
export async function startCluster(): Promise<TestCluster> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const root = mkdtempSync(join(tmpdir(), 'apns-cert-pg-'));
  chmodSync(root, 0o755); // the socket in it must be reachable by this process too
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  const superuser = asRoot ? 'postgres' : (process.env.USER ?? 'postgres');
  const info: ClusterInfo = {
    host: '127.0.0.1',
    port: await freePort(),
    socketDir: root,
    superuser,
    dataDir: join(root, 'data'),
    bin,
    asRoot,
    caFile: join(root, 'ca.crt'),
  };
  try {
    runBinary(
      info,
      'initdb',
      ['-D', info.dataDir, '-U', superuser, '-A', 'trust', '-E', 'UTF8', '--no-instructions'],
      root,
    );
    // read by the server as its pg_hba.conf: passwords over TCP, trust on the socket (this harness only)
    const hba = join(root, 'hba.conf');
    // members of tls_only may connect over TLS only (a test proves that sslmode= is TLS)
    writeFileSync(
      hba,
      'local all all trust\nhostnossl all +tls_only 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 scram-sha-256\n',
    );
    makeServerCertificate(root);
    if (asRoot) execFileSync('chown', ['postgres', hba, join(root, 'server.crt'), join(root, 'server.key')]);
    startServer(info);
    psql(info, 'postgres', 'CREATE ROLE tls_only NOLOGIN');
  } catch (error) {
    removeCluster(info);
    throw error;
  }
  return {
    ...info,
    createDatabase: (name) => createDatabase(info, name),
    stopServer: () => stopServer(info),
    startServer: () => startServer(info),
    stop: () => removeCluster(info),
  };
}
