/**
 * The PostgreSQL store's tables, in one schema (apns_cert unless `?schema=`), made by versioned migrations that
 * `store init` applies. The record model is the file store's (src/store/file/layout.ts), row by row:
 *   schema_version  the one row: the version of these tables (a newer one than the tool knows: 65, upgrade apns-cert)
 *   meta            the one row (id 1): store id, secret backend, creation date, vendor identities, the index's
 *                   schema version; a change locks it (SELECT ... FOR UPDATE): the store's lock
 *   records         a record per row: its PushRecord as the file store's index.json holds it (jsonb)
 *   certificates    the PEM of each certificate an index entry names (by the entry's `file`)
 *   vendor_chains   a vendor identity's certificate and chain (by the vendor entry's `file`)
 *   secrets         private keys and other secrets (a target's credential), each the JSON of its AES-256-GCM box
 *                   sealed under the master key, byte for byte what the file store keeps in keys/ and secrets/
 *   vault           the one row: the master key wrapped by the team passphrase (the file store's master-key.json)
 *   audit_log       append only: one row per change and per refused one (src/core/audit-log.ts)
 */
export const SCHEMA_VERSION = 1;

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** The tables of each schema version, in order; migration n takes the schema from version n-1 to n. */
export function migrations(schema: string): string[] {
  const s = q(schema);
  return [
    `CREATE TABLE ${s}.schema_version (version integer NOT NULL);
     INSERT INTO ${s}.schema_version (version) VALUES (0);
     CREATE TABLE ${s}.meta (
       id integer PRIMARY KEY CHECK (id = 1),
       store_id uuid NOT NULL,
       secret_backend text NOT NULL CHECK (secret_backend = 'passphrase'),
       created_at text NOT NULL,
       index_schema_version integer NOT NULL,
       vendors jsonb NOT NULL DEFAULT '{}',
       changed_at timestamptz NOT NULL DEFAULT now()
     );
     CREATE TABLE ${s}.records (name text PRIMARY KEY, doc jsonb NOT NULL);
     CREATE TABLE ${s}.certificates (file text PRIMARY KEY, pem text NOT NULL);
     CREATE TABLE ${s}.vendor_chains (file text PRIMARY KEY, pem text NOT NULL);
     CREATE TABLE ${s}.secrets (
       id text PRIMARY KEY,
       kind text NOT NULL CHECK (kind IN ('private-key', 'target-credential')),
       box text NOT NULL
     );
     CREATE TABLE ${s}.vault (id integer PRIMARY KEY CHECK (id = 1), document text NOT NULL);
     CREATE TABLE ${s}.audit_log (
       id bigserial PRIMARY KEY,
       at timestamptz NOT NULL,
       os_user text NOT NULL,
       host text NOT NULL,
       command text NOT NULL,
       record text,
       result text NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),
       exit_code integer NOT NULL,
       serial_number text,
       topic text,
       message text
     );
     CREATE INDEX ON ${s}.audit_log (record, at);`,
  ];
}

/** Every table, and those a monitor role may read. */
const TABLES = ['schema_version', 'meta', 'records', 'certificates', 'vendor_chains', 'secrets', 'vault'] as const;
const MONITOR_READS = ['schema_version', 'meta', 'records', 'certificates', 'vendor_chains'] as const;

/**
 * The GRANTs of the two roles (README, PostgreSQL roles): the admin role runs every command; the monitor role
 * (check-expiry, list, show) reads what they read, never the sealed secrets nor the vault, and
 * changes nothing but the audit log (so that its refusals are logged). The audit log: INSERT and SELECT only.
 */
export function grantsSql(schema: string, admin: string, monitor: string): string {
  const s = q(schema);
  const list = (tables: readonly string[]) => tables.map((t) => `${s}.${t}`).join(', ');
  return `-- apns-cert: the roles of the store in schema ${schema} (run as the owner of its tables or a superuser;
-- again after a store init that applied a migration, for the tables it added)
REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM PUBLIC;
GRANT USAGE ON SCHEMA ${s} TO ${q(admin)}, ${q(monitor)};
-- ${admin}: every command
GRANT SELECT, INSERT, UPDATE, DELETE ON ${list(TABLES)} TO ${q(admin)};
GRANT SELECT, INSERT ON ${s}.audit_log TO ${q(admin)};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${q(admin)};
-- ${monitor}: check-expiry, list, show; no secret, no vault, no change but the audit log
GRANT SELECT ON ${list(MONITOR_READS)} TO ${q(monitor)};
GRANT SELECT, INSERT ON ${s}.audit_log TO ${q(monitor)};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${q(monitor)};
`;
}
