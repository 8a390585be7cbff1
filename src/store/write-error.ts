import { dirname } from 'node:path';
import { AppError } from '../errors.js';

/** A command the user can run to see why writing `path` failed with `code`, when there is one. */
function hintFor(code: string | undefined, path: string): string | undefined {
  const dir = dirname(path);
  if (code === 'ENOSPC' || code === 'EDQUOT') return `df -h ${dir}   # free some space on that file system, then run the command again`;
  if (code === 'EROFS') return `${process.platform === 'linux' ? `findmnt -T ${dir}` : `mount`}   # the file system is mounted read-only: remount it read-write or use another directory`;
  if (code === 'EACCES' || code === 'EPERM') return `ls -ld ${dir}`;
  return undefined;
}

/** A failed write (exit 73): "<action>: <cause>" and, for a full or read-only file system, a hint. */
export function writeError(action: string, path: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  const cause = code === 'ENOSPC' ? 'no space left on the device' : code === 'EDQUOT' ? 'disk quota exceeded' : code === 'EROFS' ? 'read-only file system' : (error as Error).message;
  const hint = hintFor(code, path);
  return new AppError('CANNOT_WRITE', `${action}: ${cause}`, hint === undefined ? { cause: error } : { hint, cause: error });
}
