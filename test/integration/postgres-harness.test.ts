import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { psql, startCluster } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';

/** A process that runs (a zombie, ended but not yet reaped by whoever adopted it, does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the PostgreSQL test harness', () => {
  it('gives each test file a database its admin role reaches over TCP with a password, not without one', async () => {
    const db = testDatabase('harness');
    const client = new pg.Client({
      host: db.host,
      port: db.port,
      user: db.adminRole,
      password: db.password,
      database: db.name,
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ user: string; version: string }>('SELECT current_user AS user, version()');
      expect(rows[0]!.user).toBe(db.adminRole);
      expect(rows[0]!.version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await client.end();
    }
    const wrong = new pg.Client({
      host: db.host,
      port: db.port,
      user: db.adminRole,
      password: 'wrong',
      database: db.name,
    });
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
    expect(psql(testCluster(), db.name, 'SELECT current_database()').trim()).toBe(db.name);
  });

  it('stops and starts a private cluster, and leaves no server and no directory behind', async () => {
    const cluster = await startCluster();
    const serverPid = () => Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let pid = serverPid();
    try {
      expect(alive(pid)).toBe(true);
      cluster.stopServer();
      expect(alive(pid)).toBe(false);
      cluster.startServer();
      pid = serverPid();
      expect(psql(cluster, 'postgres', 'SELECT 1').trim()).toBe('1');
    } finally {
      cluster.stop();
    }
    expect(alive(pid)).toBe(false);
    expect(existsSync(cluster.socketDir)).toBe(false);
  });
});
