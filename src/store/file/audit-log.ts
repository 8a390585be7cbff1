import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../errors.js';
import { MAX_AUDIT_LINE, auditLine, auditMatches, parseAuditLine } from '../../core/audit-log.js';
import type { AuditEntry } from '../../core/audit-log.js';
import { entryKind, fsyncDir } from '../../io/files.js';
import { writeError } from '../../io/write-error.js';

/*
 * The file store's audit log (layout.ts: audit.jsonl): one JSON object per line, only ever appended to. Each
 * entry is one write() to a descriptor opened with O_APPEND, so entries of writers running at once never
 * interleave (the kernel appends each write whole), then fsync'd. The file is opened with O_NOFOLLOW: a symbolic
 * link in its place is refused, nothing is written through it. No lock: an append never waits for a change.
 */

const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
// a FIFO in its place must not block the command
const NON_BLOCK = constants.O_NONBLOCK ?? 0;

function refusal(path: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'EMLINK')
    return new AppError(
      'STORE_UNSAFE',
      `append to the audit log ${path}: it is a symbolic link; nothing was written through it`,
      {
        hint: `ls -l ${path}   # the audit log must be a file of the store`,
      },
    );
  return writeError(`append to the audit log ${path}`, path, error);
}

/** Opens `path` (flags plus O_NOFOLLOW) and checks it is a regular file of this user. */
function openLog(path: string, flags: number, action: string): number {
  const fd = openSync(path, flags | NO_FOLLOW | NON_BLOCK, 0o600);
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid))
      throw new AppError(
        'STORE_UNSAFE',
        `${action} ${path}: it is ${st.isFile() ? `owned by uid ${st.uid}` : 'not a regular file'}`,
        { hint: `ls -l ${path}` },
      );
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Appends one entry to the log at `path` (created 0600 when missing) with one write(), then fsyncs it. */
export function appendAuditEntry(path: string, entry: AuditEntry): void {
  const line = auditLine(entry);
  if (line.length > MAX_AUDIT_LINE)
    throw new AppError(
      'INTERNAL',
      `append to the audit log ${path}: the entry is longer than ${MAX_AUDIT_LINE} characters`,
    );
  let created = false;
  let fd: number;
  try {
    created = entryKind(path) === 'none';
    fd = openLog(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 'append to the audit log');
  } catch (error) {
    throw error instanceof AppError ? error : refusal(path, error);
  }
  try {
    const size = fstatSync(fd).size;
    // A writer killed mid-write left a line without its newline: this entry starts a line of its own.
    const last = Buffer.alloc(1);
    const torn = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    const bytes = Buffer.from(`${torn ? '\n' : ''}${line}\n`);
    const written = writeSync(fd, bytes);
    if (written !== bytes.length)
      throw Object.assign(new Error(`short write (${written} of ${bytes.length} bytes)`), { code: 'EIO' });
    fsyncSync(fd);
  } catch (error) {
    throw refusal(path, error);
  } finally {
    closeSync(fd);
  }
  if (created)
    try {
      fsyncDir(dirname(path));
    } catch {
      // a directory that cannot be fsync'd (Windows): the entry itself is written
    }
}

/** The entries of the log at `path` that match `filter`; lines that are not an entry go to `onSkipped`. */
export function readAuditEntries(
  path: string,
  filter: { record?: string; since?: Date; onSkipped?: (problem: string) => void },
): AuditEntry[] {
  let text: string;
  try {
    const fd = openLog(path, constants.O_RDONLY, 'read the audit log');
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ELOOP' || code === 'EMLINK')
      throw new AppError('STORE_UNSAFE', `read the audit log ${path}: it is a symbolic link`, {
        hint: `ls -l ${path}   # the audit log must be a file of the store`,
      });
    throw new AppError('STORE_CORRUPT', `read the audit log ${path}: ${(error as Error).message}`, {
      hint: `ls -l ${path}`,
    });
  }
  const lines = text.split('\n');
  const entries: AuditEntry[] = [];
  lines.forEach((line, i) => {
    if (line === '' && i === lines.length - 1) return;
    const entry = parseAuditLine(line);
    if (entry === null) {
      const why =
        i === lines.length - 1
          ? 'an unfinished last line (a writer ended mid-write)'
          : line.length > MAX_AUDIT_LINE
            ? `not an entry (${line.length} characters)`
            : 'not an entry';
      filter.onSkipped?.(`line ${i + 1}: ${why}`);
    } else if (auditMatches(entry, filter)) entries.push(entry);
  });
  return entries;
}
