import { constants, readFileSync } from 'node:fs';
import { access, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';

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
export async function readInputFile(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (path === '-') return readStdin(stdin);
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new AppError('FILE_MISSING', `read ${path}: ${cause}`, { hint: `ls -l ${path}` });
  }
}

/**
 * Writes an output file for the user (a CSR, an export). Refuses to overwrite unless `force`;
 * creates it with `mode`. Failures are exit 73.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array, opts: { force: boolean; mode?: number; flag: string }): Promise<void> {
  const mode = opts.mode ?? 0o644;
  try {
    await mkdir(dirname(path), { recursive: true });
    const flags = opts.force ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    const handle = await open(path, flags, mode);
    try {
      await handle.writeFile(data);
      await handle.chmod(mode);
    } finally {
      await handle.close();
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
  const exists = await access(path).then(() => true, () => false);
  if (exists) {
    throw new AppError('CANNOT_WRITE', `write ${path}: the file already exists`, { hint: `rerun with ${opts.flag} <other file>, or add --force to overwrite it` });
  }
}
