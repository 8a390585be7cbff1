import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  futimesSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { readOr, temporaryPath } from '../../io/files.js';

/**
 * The store's lock: a file linked into place (so created at most once, whole), mode 0600, naming its holder (host, pid, the process's start time
 * and boot, a random token). A holder is there as long as its process is: a writer that is paused (Ctrl-Z,
 * SIGSTOP, a VM pause, a slow disk) keeps the lock, and the others wait and give up (exit 75) instead of taking it
 * over and racing it; a writer killed with -9 leaves a lock that the next writer sees is nobody's and takes over
 * at once. A lock whose holder cannot be asked (made on another host sharing the store, unreadable, or an older
 * apns-cert's lock directory) is taken over when its holder has not touched it for SILENT_STALE_MS: a live holder
 * touches it every HEARTBEAT_MS, and one paused meanwhile finds out at its commit (file-store.ts, writeIndex).
 */
const HEARTBEAT_MS = 1_000;
const SILENT_STALE_MS = 5_000;

interface Holder {
  host: string;
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), telling a reused pid from the holder. */
  start: string | null;
  /** The kernel's boot id (Linux): a lock from before a reboot is nobody's. */
  boot: string | null;
  token: string;
}

const bootId = (): string | null => readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), null);

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
function startTime(pid: number): string | null {
  return readOr(() => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  }, null);
}

function parseHolder(text: string): Holder | null {
  const h = readOr(() => JSON.parse(text) as Partial<Holder> | null, null);
  if (
    typeof h !== 'object' ||
    h === null ||
    typeof h.host !== 'string' ||
    !Number.isSafeInteger(h.pid) ||
    typeof h.token !== 'string'
  )
    return null;
  return {
    host: h.host,
    pid: h.pid!,
    start: typeof h.start === 'string' ? h.start : null,
    boot: typeof h.boot === 'string' ? h.boot : null,
    token: h.token,
  };
}

/** Tokens of the locks this process holds (two stores, or in-process tests). */
const heldHere = new Set<string>();

function holderIsGone(holder: Holder, mtimeMs: number): boolean {
  if (holder.host !== hostname()) return Date.now() - mtimeMs > SILENT_STALE_MS;
  const boot = bootId();
  if (holder.boot !== null && boot !== null && holder.boot !== boot) return true;
  if (holder.pid === process.pid) return !heldHere.has(holder.token);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const start = startTime(holder.pid);
  return holder.start !== null && start !== null && start !== holder.start;
}

/** The lock at `path` as found: its inode and whether its holder is gone; null when there is none. */
function inspect(path: string): { ino: number; stale: boolean } | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const st = fstatSync(fd);
    const holder = st.isFile() ? parseHolder(readFileSync(fd, 'utf8')) : null;
    return {
      ino: st.ino,
      stale: holder === null ? Date.now() - st.mtimeMs > SILENT_STALE_MS : holderIsGone(holder, st.mtimeMs),
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the stale lock with inode `ino`. It is first renamed aside, so that a lock another writer created
 * meanwhile is never deleted: if the one moved is not the stale one, it is linked back.
 */
function removeStale(path: string, ino: number): void {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readOr(() => fstatIno(aside), ino) !== ino) {
    // Someone else's fresh lock: put it back (unless yet another writer has made one since: then that holder
    // and the one whose lock was moved both think they hold it, and the latter finds out at its commit).
    readOr(() => linkSync(aside, path), undefined);
  }
  rmSync(aside, { recursive: true, force: true });
}

function fstatIno(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return fstatSync(fd).ino;
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class StoreLockBusy extends Error {}

export class StoreLock {
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;
  private readonly releaseAtExit = () => this.release();

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly token: string,
  ) {
    heldHere.add(token);
    this.heartbeat = setInterval(() => readOr(() => futimesSync(fd, new Date(), new Date()), undefined), HEARTBEAT_MS);
    this.heartbeat.unref();
    process.once('exit', this.releaseAtExit);
  }

  /** Takes the lock at `path`, waiting up to `waitMs` for a live holder; throws StoreLockBusy after that. */
  static async acquire(path: string, waitMs: number): Promise<StoreLock> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = StoreLock.tryCreate(path);
      if (lock !== null) return lock;
      const found = inspect(path);
      if (found?.stale === true) removeStale(path, found.ino);
      else if (found !== null) {
        if (Date.now() >= deadline) throw new StoreLockBusy(path);
        await sleep(50 + Math.random() * 100);
      }
    }
  }

  /**
   * The lock file is written in full beside its place and linked into it (link fails if a lock is there):
   * the lock never exists without its holder in it.
   */
  private static tryCreate(path: string): StoreLock | null {
    const token = randomBytes(16).toString('hex');
    const holder: Holder = { host: hostname(), pid: process.pid, start: startTime(process.pid), boot: bootId(), token };
    const temp = temporaryPath(path, token.slice(0, 8));
    const fd = openSync(temp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      fchmodSync(fd, 0o600); // whatever the umask
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      linkSync(temp, path);
    } catch (error) {
      closeSync(fd);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw error;
    } finally {
      rmSync(temp, { force: true });
    }
    return new StoreLock(path, fd, token);
  }

  /** True while the lock file at `path` is still this one (not taken over by another writer, nor removed). */
  isHeld(): boolean {
    return !this.released && readOr(() => parseHolder(readFileSync(this.path, 'utf8'))?.token === this.token, false);
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    if (this.isHeld()) rmSync(this.path, { force: true });
    this.released = true;
    heldHere.delete(this.token);
    clearInterval(this.heartbeat);
    process.removeListener('exit', this.releaseAtExit);
    closeSync(this.fd);
  }
}
