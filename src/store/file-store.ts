import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { replaceFileAtomically } from './files.js';
import { readSummary, summarizeIndex } from '../core/expiry-summary.js';
import type { IndexStamp, SummaryRecord } from '../core/expiry-summary.js';
import { parseIndex, serializeIndex } from '../core/index-model.js';
import type { StoreIndex } from '../core/index-model.js';

export const INDEX_FILE = 'index.json';
/** Derived from index.json after each change (src/core/expiry-summary.ts). */
export const SUMMARY_FILE = 'expiry.json';
export const LOCK_FILE = 'store.lock';

export interface StoreOptions {
  /** How long a writer waits for another one to release the lock. */
  lockWaitMs: number;
  /** Registers what a signal must undo while the store is locked (src/cli/interrupt.ts); returns the unregister. */
  onInterrupt?: (undo: () => void) => () => void;
}

/** Removes `dir` if it holds nothing but empty directories. */
function removeEmptyTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeEmptyTree(join(dir, entry.name));
  rmdirSync(dir);
}

/**
 * The store on disk: index.json (non-secret records), certs/*.pem, keys/*.key (encrypted),
 * master-key.json (passphrase backend only). Directory 0700, files 0600.
 * Every change happens under `withLock` and every file is written atomically (temp + rename).
 */
export class FileStore {
  readonly dir: string;
  readonly indexPath: string;
  private readonly options: StoreOptions;

  constructor(dir: string, options: StoreOptions) {
    this.dir = dir;
    this.indexPath = join(dir, INDEX_FILE);
    this.options = options;
  }

  path(relative: string): string {
    return join(this.dir, relative);
  }

  /** The index, or null when the store has not been created yet. Never repairs a damaged index. */
  async readIndex(): Promise<StoreIndex | null> {
    let text: string;
    try {
      text = readFileSync(this.indexPath, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw new AppError('STORE_CORRUPT', `read the store index ${this.indexPath}: ${(error as Error).message}`, { hint: `ls -ld ${this.dir} ${this.indexPath}` });
    }
    return parseIndex(text, this.indexPath);
  }

  /** The index file's stamp (inode, size, mtime in ns), or null when there is none. */
  private indexStamp(): IndexStamp | null {
    try {
      const st = statSync(this.indexPath, { bigint: true });
      return { ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs) };
    } catch {
      return null;
    }
  }

  /**
   * What check-expiry needs, from expiry.json when it was made from the current index.json; null when it
   * was not (or is missing or damaged): then read the index. The stamp is taken before the summary is read,
   * so a change in between shows as a mismatch, never as a stale answer.
   */
  readSummary(): SummaryRecord[] | null {
    const stamp = this.indexStamp();
    if (stamp === null) return null;
    try {
      return readSummary(readFileSync(this.path(SUMMARY_FILE), 'utf8'), stamp);
    } catch {
      return null;
    }
  }

  async readIndexOrFail(): Promise<StoreIndex> {
    const index = await this.readIndex();
    if (index === null) {
      throw new AppError('NOT_FOUND', `open the store ${this.dir}: it has no certificates yet`, {
        hint: 'apns-cert csr --name <name>   # or pass --store <dir> / set APNS_CERT_STORE',
      });
    }
    return index;
  }

  async readText(relative: string): Promise<string> {
    try {
      return readFileSync(this.path(relative), 'utf8');
    } catch (error) {
      throw new AppError('STORE_CORRUPT', `read ${this.path(relative)}: ${(error as Error).message}`, { hint: 'apns-cert list' });
    }
  }

  async ensureDir(): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      chmodSync(this.dir, 0o700);
      for (const sub of ['certs', 'keys']) mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new AppError('CANNOT_WRITE', `create the store ${this.dir}: ${(error as Error).message}`);
    }
  }

  /** Runs `fn` holding the store's lock; a second writer waits `lockWaitMs`, then fails with exit 75. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const existed = existsSync(this.dir);
    await this.ensureDir();
    const { default: lockfile } = await import('proper-lockfile');
    // Ended by a signal (src/cli/interrupt.ts): the lock is released (unlockSync throws when it is not ours),
    // and a store directory this command made is taken back while nothing has been written into it.
    const unregister = this.options.onInterrupt?.(() => {
      lockfile.unlockSync(this.dir, { lockfilePath: join(this.dir, LOCK_FILE), realpath: false });
      if (!existed) removeEmptyTree(this.dir);
    });
    const intervalMs = 100;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.dir, {
        lockfilePath: join(this.dir, LOCK_FILE),
        realpath: false,
        // A live writer refreshes the lock every second; one killed with -9 leaves a lock that the next
        // writer takes over 2 s later (proper-lockfile's minimum), instead of failing with 75.
        stale: 2_000,
        update: 1_000,
        retries: { retries: Math.max(0, Math.ceil(this.options.lockWaitMs / intervalMs)), factor: 1, minTimeout: intervalMs, maxTimeout: intervalMs, randomize: true },
      });
    } catch (error) {
      unregister?.();
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
        throw new AppError('STORE_BUSY', `update the store ${this.dir}: another apns-cert process is changing it (waited ${Math.round(this.options.lockWaitMs / 1000)} s)`, {
          hint: `apns-cert list   # retry when the other process is done; if none is running, remove ${join(this.dir, LOCK_FILE)}`,
        });
      }
      throw new AppError('CANNOT_WRITE', `lock the store ${this.dir}: ${(error as Error).message}`);
    }
    try {
      return await fn();
    } finally {
      unregister?.();
      await release().catch(() => undefined);
    }
  }

  /** Atomically replaces a file in the store (temp file, fsync, rename), mode 0600. */
  async writeFile(relative: string, data: string | Uint8Array, { fsync = true } = {}): Promise<void> {
    try {
      replaceFileAtomically(this.path(relative), data, { mode: 0o600, fsync });
    } catch (error) {
      throw new AppError('CANNOT_WRITE', `write ${this.path(relative)}: ${(error as Error).message}`);
    }
  }

  /**
   * Writes index.json, then expiry.json with the stamp of the index just written. The summary is an
   * optimisation: one that cannot be written stays as it was, its stamp no longer the index's, and
   * check-expiry reads the index.
   */
  async writeIndex(index: StoreIndex): Promise<void> {
    await this.writeFile(INDEX_FILE, serializeIndex(index));
    const stamp = this.indexStamp();
    if (stamp === null) return;
    await this.writeFile(SUMMARY_FILE, summarizeIndex(index, stamp), { fsync: false }).catch(() => undefined);
  }

  async removeFile(relative: string): Promise<void> {
    rmSync(this.path(relative), { force: true });
  }
}
