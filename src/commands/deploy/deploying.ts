/** What deploy works with (the record's active certificate and key) and what it reports per target. */
import type { CertificateInfo } from '../../core/certificate.js';
import { AppError } from '../../errors.js';
import type { DeploymentResult, PushRecord, Target } from '../../core/index-model.js';
import type { PrivateKeyInfo } from '../../core/keys.js';

/** What became of a target: kept in the record's history when it is a DeploymentResult. */
export type Outcome = DeploymentResult | 'would deploy' | 'unauthorized' | 'unreachable' | 'cannot write';

export interface TargetReport {
  label: string;
  kind: string;
  result: Outcome;
  serialNumber: string | null;
  notAfter: string | null;
  message: string | null;
  exitCode: number;
  /** A command for the admin, shown after the message (not in --json). */
  hint?: string;
}

export interface Deploying {
  certPem: string;
  certificate: CertificateInfo;
  /** Undefined for a keyless record (deployed to Fleet only). */
  key: PrivateKeyInfo | undefined;
  /** Undefined for a keyless record (deployed to Fleet only). */
  keyPem: string | undefined;
  topic: string;
  serialNumber: string;
  notAfter: string;
  /** The other topics of the record's history, for servers that keep a certificate per topic. */
  otherTopics: string[];
  /** The topic of every certificate of the record's history, by serial (uppercase hex, no leading zeros). */
  history: Map<string, string | null>;
}

/** The report of target `t` on deploying `d`: result, exit code, message and (for the text output) a hint. */
export const reporter =
  (t: { label: string; kind: string }, d: Deploying) =>
  (result: Outcome, exitCode: number, message: string | null, hint?: string): TargetReport => ({
    label: t.label,
    kind: t.kind,
    result,
    serialNumber: d.serialNumber,
    notAfter: d.notAfter,
    message,
    exitCode,
    ...(hint !== undefined ? { hint } : {}),
  });

/** The targets of `record` to deploy to or check: all of them, or those `labels` name (each must exist). */
export function chooseTargets(record: PushRecord, labels: string[] | undefined, action: string): Target[] {
  if (labels === undefined) {
    if (record.targets.length === 0)
      throw new AppError('USAGE', `${action}: the record has no target`, {
        hint: `apns-cert target add ${record.name} --kind nanomdm --url https://mdm.example.com --credential-file <file>`,
      });
    return record.targets;
  }
  return [...new Set(labels)].map((label) => {
    const t = record.targets.find((x) => x.label === label);
    if (t === undefined)
      throw new AppError('NOT_FOUND', `${action}: the record has no target "${label}"`, {
        hint: `apns-cert target list ${record.name}`,
      });
    return t;
  });
}
