import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { AppError } from '../errors.js';
import { decodeUtf8Strictly } from '../core/utf8.js';
import { writeError } from './write-error.js';

/** Where the store is, for an output file that must not go into it (src/store/store.ts Store). */
export interface StorePlace {
  readonly location: string;
  holdsPath(path: string): boolean;
}

/**
 * The most an input may hold: 1 MiB. Real inputs are a few KB (a certificate ~2 KB, a .p12 with its chain ~6 KB,
 * a PushCertificateRequest ~9 KB, all of Apple's CA certificates in one PEM ~22 KB); even the system CA bundle
 * (~220 KB) fits. Anything larger is not one of them, and is refused before it is parsed.
 */
export const MAX_INPUT_BYTES = 1024 * 1024;

function tooLarge(path: string): AppError {
  const what = path === '-' ? 'the standard input' : path;
  return new AppError(
    'BAD_INPUT',
    `read ${what}: larger than 1 MiB; no certificate, key, .p12 or push certificate request is that large`,
    {
      hint: path === '-' ? 'apns-cert inspect <the certificate file>' : `ls -l ${path}`,
    },
  );
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    total += bytes.length;
    if (total > MAX_INPUT_BYTES) throw tooLarge('-'); // leaving the loop stops reading
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}

/** At most MAX_INPUT_BYTES + 1 bytes of `fd`, in reads sized by the file's size when it has one. */
function readCapped(fd: number, path: string): Buffer {
  const limit = MAX_INPUT_BYTES + 1;
  const stat = fstatSync(fd);
  if (stat.size > MAX_INPUT_BYTES) throw tooLarge(path);
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(stat.size > 0 ? stat.size + 1 : 64 * 1024, limit - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n > 0) chunks.push(chunk.subarray(0, n));
    total += n;
    if (n === 0 || (stat.isFile() && n < chunk.length)) break; // a short read of a regular file is its end
  }
  if (total > MAX_INPUT_BYTES) throw tooLarge(path);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** The first `bytes` bytes of the file at `path` (fewer when it is shorter), as UTF-8; null when it cannot be read. */
export function readHead(path: string, bytes: number): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(bytes);
    return head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads an input file (or stdin for "-"): missing → exit 66, unreadable → exit 66 with the cause, larger than
 * MAX_INPUT_BYTES → exit 65 (no more than that is ever read, so /dev/zero or a huge file cost nothing).
 * Synchronous on purpose: a CLI has nothing else to do meanwhile, and check-expiry over a thousand
 * files would otherwise spend most of its time waiting for four thread-pool round trips per file.
 */
export async function readInputFile(
  path: string,
  stdin: () => NodeJS.ReadableStream = () => process.stdin,
): Promise<Buffer> {
  if (path === '-') return readStdin(stdin());
  try {
    const fd = openSync(path, 'r');
    try {
      return readCapped(fd, path);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const cause =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String((error as Error).message);
    throw new AppError('FILE_MISSING', `read ${path}: ${cause}`, { hint: `ls -l ${path}` });
  }
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
}

/**
 * The temporary file beside `path` that a write goes through before it is renamed into place (`tag` tells two
 * writers of one process apart). Only an interrupted write leaves one behind.
 */
export function temporaryPath(path: string, tag: string = Math.random().toString(36).slice(2, 10)): string {
  return `${path}.${process.pid}.${tag}.tmp`;
}

/** A name `temporaryPath` makes. */
export const isTemporaryFile = (name: string): boolean => name.endsWith('.tmp');

/**
 * Writes `data` to a new temporary file beside `path` (same directory, so a rename stays on one file system):
 * created 0600 with O_EXCL (never through an existing file or symbolic link), then given `mode`, flushed to
 * disk when `fsync`. Returns its path; removes it and throws the system error on failure.
 */
function writeTemporary(path: string, data: string | Uint8Array, opts: { mode: number; fsync: boolean }): string {
  const temp = temporaryPath(path);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      writeAll(fd, data);
      fchmodSync(fd, opts.mode); // whatever the umask
      if (opts.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return temp;
}

/**
 * Replaces `path` atomically: a temporary file beside it is written and renamed over `path`. Readers see the
 * old file or the new one, never a part of either; one that holds the old file open keeps reading the old
 * file; a symbolic link at `path` is replaced, never written through; a crash leaves at most the temporary
 * file. Synchronous: a CLI has nothing else to do meanwhile. `beforeRename` may veto the change by throwing.
 * Throws the system error.
 */
export function replaceFileAtomically(
  path: string,
  data: string | Uint8Array,
  opts: { mode: number; fsync: boolean; beforeRename?: (() => void) | undefined },
): void {
  const temp = writeTemporary(path, data, opts);
  try {
    opts.beforeRename?.();
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** What `read` returns, or `fallback` when it throws. */
export function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** What is at `path` itself (a symbolic link is not followed). */
/** fsync of a directory, so that an entry made or renamed in it stays after a crash (throws what the system says). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function entryKind(path: string): 'none' | 'file' | 'directory' | 'symlink' | 'other' {
  const st = lstatOrNull(path);
  if (st === null) return 'none';
  return st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
}

/** True when `path` is a directory, or a symbolic link to one. */
export const isDirectory = (path: string): boolean => statOrNull(path)?.isDirectory() === true;

/** `path` with every symbolic link resolved; for a path that does not exist (yet), its missing tail is kept as written. */
function resolvedPath(path: string): string {
  const tail: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      return join(realpathSync.native(dir), ...tail);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' && errnoOf(error) !== 'ENOTDIR') throw error;
    }
    if (dirname(dir) === dir) return resolve(path);
    tail.unshift(basename(dir));
  }
}

/**
 * True when `path` is `dir` or lies under it, however it is spelled: `..`, a symbolic link to the directory
 * or to one inside it, a bind mount (the same device and inode), a case-insensitive file system.
 */
export function isInsideDir(path: string, dir: string): boolean {
  const top = statOrNull(dir);
  const real = resolvedPath(path);
  if (top === null) {
    const realDir = resolvedPath(dir);
    return real === realDir || real.startsWith(realDir.endsWith(sep) ? realDir : realDir + sep);
  }
  for (let d = real; ; d = dirname(d)) {
    const st = statOrNull(d);
    if (st !== null && st.dev === top.dev && st.ino === top.ino) return true;
    if (dirname(d) === d) return false;
  }
}

/** Removes the directories `makeDirs` created, innermost first, as far as they are still empty. */
export function removeDirs(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

/**
 * Creates `dir` and any missing parent, each 0700 whatever the umask. Returns the directories it created,
 * outermost first (for `removeDirs`); one that another process created meanwhile is not among them.
 */
export function makeDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); lstatOrNull(d) === null && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  const created: string[] = [];
  try {
    for (const d of missing) {
      try {
        mkdirSync(d, { mode: 0o700 });
      } catch (error) {
        if (errnoOf(error) === 'EEXIST') continue;
        throw error;
      }
      created.push(d);
      // mkdir's mode passes through the umask, which can only take bits away: 0700 unless it took the owner's.
      if ((lstatSync(d).mode & 0o777) !== 0o700) chmodSync(d, 0o700);
    }
  } catch (error) {
    removeDirs(created);
    throw error;
  }
  return created;
}

export interface OutputTarget {
  /** Replace an existing file (by rename: never written in place). */
  force: boolean;
  /** The option that names the file, for messages (--out, --p12, --output). */
  flag: string;
  /** The store: no output file may be written inside it. */
  store: StorePlace;
}

function exists(path: string, flag: string): AppError {
  return new AppError('CANNOT_WRITE', `write ${path}: the file already exists`, {
    hint: `rerun with ${flag} <other file>, or add --force to replace it`,
  });
}

function refuseInsideStore(path: string, target: OutputTarget): void {
  if (target.store.holdsPath(path)) {
    const where = target.store.location;
    throw new AppError(
      'CANNOT_WRITE',
      `write ${path}: that is inside the store ${where}, whose files only apns-cert itself writes`,
      {
        hint: `rerun with ${target.flag} <a file outside ${where}>`,
      },
    );
  }
}

/**
 * Fails early (exit 73), before any work is done, when `path` is inside the store, or exists (a dangling
 * symbolic link included) and may not be replaced, or is a directory.
 */
export async function assertCanCreate(path: string, target: OutputTarget): Promise<void> {
  refuseInsideStore(path, target);
  const st = lstatOrNull(path);
  if (st === null) return;
  if (!target.force) throw exists(path, target.flag);
  if (st.isDirectory())
    throw new AppError('CANNOT_WRITE', `write ${path}: it is a directory`, {
      hint: `rerun with ${target.flag} ${join(path, 'file')}`,
    });
}

/**
 * Writes an output file for the user (a CSR, a request, an export, a report) as a temporary file in the target
 * directory, created 0600, given `mode`, flushed, then put in place: with `force` renamed over the target
 * (a symbolic link there is replaced, not followed; a reader of the old file keeps the old file), without it
 * linked, which fails if anything exists there. Missing parent directories are created 0700 (unless
 * `parents` is false) and removed again when the write fails. Refuses a path inside the store. Failures are
 * exit 73.
 */
export async function writeOutputFile(
  path: string,
  data: string | Uint8Array,
  opts: OutputTarget & { mode?: number; parents?: boolean },
): Promise<void> {
  refuseInsideStore(path, opts);
  const abs = resolve(path);
  let created: string[] = [];
  let temp: string | undefined;
  try {
    if (opts.parents !== false) created = makeDirs(dirname(abs));
    temp = writeTemporary(abs, data, { mode: opts.mode ?? 0o644, fsync: true });
    if (opts.force) renameSync(temp, abs);
    else placeNew(temp, abs);
    temp = undefined;
  } catch (error) {
    if (temp !== undefined) rmSync(temp, { force: true });
    removeDirs(created);
    if (errnoOf(error) === 'EEXIST') throw exists(path, opts.flag);
    throw writeError(`write ${path}`, abs, error);
  }
}

/** Puts `temp` at `path` only if nothing is there: link(2) fails with EEXIST otherwise, with no window between check and write. */
function placeNew(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (error) {
    // A file system without hard links (FAT, some network and FUSE ones): check, then rename.
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errnoOf(error) ?? '')) throw error;
    if (lstatOrNull(path) !== null) throw Object.assign(new Error('file exists'), { code: 'EEXIST' });
    renameSync(temp, path);
    return;
  }
  rmSync(temp, { force: true });
}

/** A password or passphrase kept in a file (--password-file, --passphrase-file): UTF-8 only (64 otherwise); one trailing newline is dropped. */
export function readSecretFile(path: string, flag: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new AppError('FILE_MISSING', `read ${flag} ${path}: ${(error as Error).message}`, { hint: `ls -l ${path}` });
  }
  return decodeUtf8Strictly(bytes, `${flag} ${path}`).replace(/\r?\n$/, '');
}
