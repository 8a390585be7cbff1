import { accessSync, constants, lstatSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../errors.js';
import { isInsideDir, makeDirs, removeDirs, replaceFileAtomically, writeFailureHint } from './files.js';
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

  /**
   * The absolute path of a file of the store, refused (65) unless it is inside the store once every symbolic
   * link is resolved: a name from the index or a link in the store that leads out of it is damage, never followed.
   */
  path(relative: string): string {
    const path = join(this.dir, relative);
    if (relative.split(/[\\/]/).includes('..') || !isInsideDir(path, this.dir)) {
      throw new AppError('STORE_CORRUPT', `open ${path}: it leads out of the store ${this.dir}`, { hint: `ls -l ${dirname(path)}   # then restore the store from a backup` });
    }
    return path;
  }

  /**
   * Why this store must not be used, or null: a store directory (or its certs/ or keys/) that another user
   * owns or that group or others may write to, as ssh refuses such a ~/.ssh. Whoever can write there decides
   * what apns-cert reads, writes and deletes. The same rule for root: a store of another uid is refused.
   */
  safetyProblem(): { message: string; hint: string } | null {
    const uid = process.getuid?.();
    if (uid === undefined) return null; // Windows: access is ACLs, not these modes
    for (const sub of ['', 'certs', 'keys']) {
      const path = join(this.dir, sub);
      let st;
      try {
        st = sub === '' ? statSync(path) : lstatSync(path);
      } catch {
        continue; // missing (not created yet), or unreadable: the read itself reports it
      }
      if (st.isSymbolicLink()) return { message: `${path} is a symbolic link; the store's files must be inside the store`, hint: `ls -l ${this.dir}` };
      if (!st.isDirectory()) return { message: `${path} is not a directory`, hint: `ls -ld ${path}` };
      if (st.uid !== uid) {
        return {
          message: `${path} belongs to uid ${st.uid}, not to you (uid ${uid}); its owner could change what apns-cert reads, writes and deletes`,
          hint: `ls -ln ${this.dir}   # run apns-cert as uid ${st.uid}, or if you trust its contents: chown -R ${uid} ${this.dir}`,
        };
      }
      const writable = [st.mode & 0o020 ? 'group' : '', st.mode & 0o002 ? 'others' : ''].filter(Boolean);
      if (writable.length > 0) {
        return {
          message: `${path} is writable by ${writable.join(' and ')} (mode ${(st.mode & 0o7777).toString(8)}); whoever can write there could change what apns-cert reads, writes and deletes`,
          hint: `chmod go-w ${path}`,
        };
      }
    }
    return null;
  }

  /** Refuses (77) a store that `safetyProblem` finds unsafe. */
  private assertSafe(): void {
    const problem = this.safetyProblem();
    if (problem !== null) throw new AppError('STORE_UNSAFE', `open the store ${this.dir}: ${problem.message}`, { hint: problem.hint });
  }

  /** The index, or null when the store has not been created yet. Never repairs a damaged index. */
  async readIndex(): Promise<StoreIndex | null> {
    this.assertSafe();
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
    this.assertSafe();
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
    const path = this.path(relative);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new AppError('STORE_CORRUPT', `read ${path}: ${(error as Error).message}`, { hint: 'apns-cert list' });
    }
  }

  /**
   * Creates the store directory (0700, and any missing parent) when there is none, and refuses (77) an
   * existing one that is not safe to use; an existing directory is never changed (its mode neither).
   * certs/ and keys/ are made when a first file goes in. Returns the directories it created.
   */
  async ensureDir(): Promise<string[]> {
    let created: string[];
    try {
      created = makeDirs(this.dir);
    } catch (error) {
      throw new AppError('CANNOT_WRITE', `create the store ${this.dir}: ${(error as Error).message}`, {
        hint: writeFailureHint((error as NodeJS.ErrnoException).code, dirname(this.dir)),
      });
    }
    this.assertSafe();
    if (created.length === 0) {
      // A store on a read-only file system (or one this user may not write) fails here at once, not after the lock's wait.
      try {
        accessSync(this.dir, constants.W_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new AppError('CANNOT_WRITE', `update the store ${this.dir}: ${code === 'EROFS' ? 'its file system is mounted read-only' : (error as Error).message}`, {
          hint: writeFailureHint(code, this.dir),
        });
      }
    }
    return created;
  }

  /**
   * Runs `fn` holding the store's lock; a second writer waits `lockWaitMs`, then fails with exit 75.
   * When it fails on a store it was creating, the directories it created are removed as far as they are empty.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const created = await this.ensureDir();
    return this.lockAndRun(fn, created).catch((error: unknown) => {
      removeDirs(created);
      throw error;
    });
  }

  private async lockAndRun<T>(fn: () => Promise<T>, created: readonly string[]): Promise<T> {
    const { default: lockfile } = await import('proper-lockfile');
    // Ended by a signal (src/cli/interrupt.ts): the lock is released (unlockSync throws when it is not ours),
    // and a store directory this command made is taken back while nothing has been written into it.
    const unregister = this.options.onInterrupt?.(() => {
      lockfile.unlockSync(this.dir, { lockfilePath: join(this.dir, LOCK_FILE), realpath: false });
      if (created.length > 0) {
        try {
          removeEmptyTree(this.dir);
        } catch {
          return; // something was written into it: it stays
        }
        removeDirs(created.filter((dir) => dir !== this.dir));
      }
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
      throw new AppError('CANNOT_WRITE', `lock the store ${this.dir}: ${(error as Error).message}`, { hint: writeFailureHint((error as NodeJS.ErrnoException).code, this.dir) });
    }
    try {
      return await fn();
    } finally {
      unregister?.();
      await release().catch(() => undefined);
    }
  }

  /** Atomically replaces a file in the store (temp file, fsync, rename), mode 0600; makes its directory (0700) if it is the first. */
  async writeFile(relative: string, data: string | Uint8Array, { fsync = true } = {}): Promise<void> {
    const path = this.path(relative);
    let created: string[] = [];
    try {
      created = makeDirs(dirname(path));
      replaceFileAtomically(path, data, { mode: 0o600, fsync });
    } catch (error) {
      removeDirs(created);
      throw new AppError('CANNOT_WRITE', `write ${path}: ${(error as Error).message}`, { hint: writeFailureHint((error as NodeJS.ErrnoException).code, dirname(path)) });
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
