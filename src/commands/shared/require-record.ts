import { AppError } from '../../errors.js';
import { recordNamed } from '../../core/index-model.js';
import type { PushRecord, StoreIndex } from '../../core/index-model.js';
import { nameProblem } from '../../core/names.js';

/**
 * The record of that name, for a command that needs it: a name that breaks the naming rule is a usage error
 * (whoever called), and a name the store does not have is "no record" with the way to see the names.
 * `action` begins the message: "show", "retire acme-prod".
 */
export function requireRecord(index: StoreIndex, name: string, action: string, storeDir: string): PushRecord {
  const problem = nameProblem(name);
  if (problem !== null) throw new AppError('USAGE', `${action}: ${problem}`, { hint: 'apns-cert list' });
  const record = recordNamed(index, name);
  if (record === undefined)
    throw new AppError('NOT_FOUND', `${action}: no record "${name}" in the store ${storeDir}`, {
      hint: 'apns-cert list',
    });
  return record;
}
