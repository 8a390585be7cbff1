import { closeSync, constants, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';
import { decodeUtf8Strictly } from '../core/utf8.js';

async function readStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * Reads an input file (or stdin for "-"): missing → exit 66, unreadable → exit 66 with the cause.
 * Synchronous on purpose: a CLI has nothing else to do meanwhile, and check-expiry over a thousand
 * files would otherwise spend most of its time waiting for four thread-pool round trips per file.
 */
export async function readInputFile(path: string, stdin: () => NodeJS.ReadableStream = () => process.stdin): Promise<Buffer> {
  if (path === '-') return readStdin(stdin());
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new AppError('FILE_MISSING', `read ${path}: ${cause}`, { hint: `ls -l ${path}` });
  }
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}

/**
 * Replaces `path` atomically: a temporary file beside it (same directory, so the rename stays on one file
 * system) is written, flushed to disk when `fsync`, and renamed over `path`. Readers see the old file or the
 * new one, never a part of either; a crash leaves at most the temporary file. Synchronous: a CLI has nothing
 * else to do meanwhile. Throws the system error.
 */
export function replaceFileAtomically(path: string, data: string | Uint8Array, opts: { mode: number; fsync: boolean }): void {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode);
  try {
    try {
      writeAll(fd, data);
      fchmodSync(fd, opts.mode); // whatever the umask
      if (opts.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Writes an output file for the user (a CSR, an export). Refuses to overwrite unless `force`;
 * creates it with `mode`. Failures are exit 73.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array, opts: { force: boolean; mode?: number; flag: string }): Promise<void> {
  const mode = opts.mode ?? 0o644;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const flags = opts.force ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    const fd = openSync(path, flags, mode);
    try {
      writeAll(fd, data);
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new AppError('CANNOT_WRITE', `write ${path}: the file already exists`, { hint: `rerun with ${opts.flag} <other file>, or add --force to overwrite it` });
    }
    throw new AppError('CANNOT_WRITE', `write ${path}: ${(error as Error).message}`);
  }
}

/** Fails early (exit 73) when `path` exists and may not be overwritten, before any work is done. */
export async function assertCanCreate(path: string, opts: { force: boolean; flag: string }): Promise<void> {
  if (opts.force) return;
  if (existsSync(path)) {
    throw new AppError('CANNOT_WRITE', `write ${path}: the file already exists`, { hint: `rerun with ${opts.flag} <other file>, or add --force to overwrite it` });
  }
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
