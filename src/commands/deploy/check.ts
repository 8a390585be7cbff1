/**
 * `deploy [<name>] --check`: what each target runs, against the record's history (current / stale / foreign /
 * unknown). Reads back only: nothing is uploaded and the store is not changed.
 */
import { AppError } from '../../errors.js';
import { certificateInService } from '../../core/index-model.js';
import type { Deps } from '../kit.js';
import { requireRecord } from '../shared/require-record.js';
import { checkedRecords, checkTargets } from '../shared/target-reading.js';
import type { TargetCheck } from '../shared/target-reading.js';
import { chooseTargets } from './deploying.js';

export interface CheckOptions {
  check: true;
  /** Absent: every record in service that has a target. */
  name: string | undefined;
  target: string[] | undefined;
}

/** The hint for a target that does not run the active certificate. */
function hintFor(c: TargetCheck): string | null {
  const redeploy = `apns-cert deploy ${c.name} --target ${c.label}`;
  if (c.state === 'stale' || (c.state === 'foreign' && c.sameTopic === true)) return redeploy;
  if (c.state === 'foreign')
    return `${redeploy} --dry-run   # it runs another topic: deploy refuses without --allow-new-topic`;
  if (c.state === 'unknown' && /refused the credential/.test(c.message))
    return `apns-cert target add ${c.name} --kind ${c.kind} --label ${c.label} --url <url> --credential-file <file> --force`;
  return null;
}

export async function checkDeployed(o: CheckOptions, deps: Deps): Promise<number> {
  const action = o.name === undefined ? 'deploy --check' : `deploy ${o.name} --check`;
  const index = await deps.store.readOrFail();
  const checks: TargetCheck[] = [];
  if (o.name !== undefined) {
    const record = requireRecord(index, o.name, action, deps.store.location);
    if (certificateInService(record) === undefined)
      throw new AppError('USAGE', `${action}: it has no active certificate`, { hint: `apns-cert show ${o.name}` });
    checks.push(...(await checkTargets(index, record, chooseTargets(record, o.target, action), deps)));
  } else {
    if (o.target !== undefined)
      throw new AppError('USAGE', `${action}: --target needs a record name`, {
        hint: `apns-cert deploy <name> --check --target ${o.target[0] ?? '<label>'}`,
      });
    const records = checkedRecords(index);
    if (records.length === 0)
      throw new AppError('USAGE', `${action}: no record in service has a target`, {
        hint: 'apns-cert target add <name> --kind nanomdm --url https://mdm.example.com --credential-file <file>',
      });
    for (const record of records) checks.push(...(await checkTargets(index, record, record.targets, deps)));
  }

  if (deps.out.json) {
    deps.out.document({
      targets: checks.map(({ sameTopic: _, ...c }) => c),
    });
  } else {
    for (const c of checks) deps.out.data(`${c.name}  ${c.label}  ${c.kind}  ${c.state}  ${c.message}`);
    for (const c of checks) {
      const hint = hintFor(c);
      if (hint !== null) deps.out.error(`hint: ${hint}`);
    }
  }
  return checks.every((c) => c.state === 'current') ? 0 : 1;
}
