import { daysText, shortDate } from '../../output/output.js';
import type { Runner, Deps } from '../kit.js';
import { requireRecord } from '../shared/require-record.js';
import { isKeyless, recordSummary } from '../shared/record-summary.js';
import { targetSecretId } from '../../core/index-model.js';
import type { PushRecord, Signing, VendorEntry } from '../../core/index-model.js';
import { rememberedAppleId } from '../shared/custody.js';

export interface ShowOptions {
  name: string;
  /** Print the remembered Apple ID (opens the master key). */
  revealAppleId?: boolean | undefined;
}

function signingText(signing: Signing, vendors: Record<string, VendorEntry>): string {
  if (signing.via === 'none') return 'none (the CSR is what you hand over)';
  if (signing.via === 'mdmcert') return `mdmcert.download, mailed to ${signing.email}`;
  const vendor = vendors[signing.vendor];
  return `vendor ${signing.vendor.slice(0, 16)} ${vendor === undefined ? '(no longer in the store)' : `"${vendor.subject}", expires ${shortDate(vendor.notAfter)}`}`;
}

function appleIdText(record: PushRecord, revealed: string | null | undefined): string {
  if (revealed != null) return revealed;
  const hash = record.appleIdHash === null ? 'not recorded' : 'recorded (salted hash)';
  if (record.appleIdSecretId === null) return revealed === null ? `${hash}; not remembered` : hash;
  return `${hash}; remembered (sealed: show ${record.name} --reveal-apple-id)`;
}

export const show: Runner<ShowOptions> = {
  async run(options, deps: Deps) {
    const index = await deps.store.readOrFail();
    const record = requireRecord(index, options.name, 'show', deps.store.location);
    // undefined: not asked; null: asked, none remembered
    let revealed: string | null | undefined;
    if (options.revealAppleId === true) {
      revealed = await rememberedAppleId(deps.store, index, record);
      if (revealed !== null) deps.out.info(`Unlocked the store ${deps.store.location} to reveal the Apple ID.`);
      else deps.out.warn(`no Apple ID is remembered for "${record.name}" (csr, import or renew --remember-apple-id)`);
    }
    const summary = recordSummary(record, deps.now());
    const history = [...record.certificates].reverse();
    if (deps.out.json) {
      deps.out.document({
        ...summary,
        appleIdRecorded: record.appleIdHash !== null,
        appleIdRemembered: record.appleIdSecretId !== null,
        ...(revealed === undefined ? {} : { appleId: revealed }),
        keyless: isKeyless(record),
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        pendingKey: record.pendingKey,
        history,
        targets: record.targets.map((t) => ({
          label: t.label,
          kind: t.kind,
          url: t.kind === 'file' ? null : t.url,
          ...(t.kind === 'file' ? { path: t.path } : {}),
          credential: targetSecretId(t) !== undefined,
          addedAt: t.addedAt,
        })),
        deployments: record.deployments,
      });
      return 0;
    }
    const rows: Array<[string, string]> = [
      ['name', record.name],
      ['status', summary.status],
      ['topic', record.topic ?? '-'],
      ['topic hash', record.topicHash ?? '-'],
      ['not after', summary.notAfter === null ? '-' : `${summary.notAfter} (${daysText(summary.daysRemaining!)})`],
      [
        'key',
        isKeyless(record)
          ? 'kept by the server (imported with --no-key: no export of the key, no probe)'
          : 'in the store',
      ],
      ['signing', signingText(record.signing, index.vendors)],
      ['apple id', appleIdText(record, revealed)],
      ['owner', record.owner ?? '-'],
      ['note', record.note ?? '-'],
      [
        'pending key',
        record.pendingKey === null
          ? 'none'
          : `created ${record.pendingKey.createdAt}${record.pendingKey.csrPath ? `, CSR ${record.pendingKey.csrPath}` : ''}${record.pendingKey.keyless ? ` (Fleet's CSR, from the target ${record.pendingKey.keyless.target}: Fleet keeps the key)` : ''}`,
      ],
    ];
    for (const [label, value] of rows) deps.out.data(`${label.padEnd(12)} ${value}`);
    deps.out.data('history:');
    for (const c of history) {
      deps.out.data(
        `  ${c.status.padEnd(10)} serial ${c.serialNumber}  ${shortDate(c.notBefore)} .. ${shortDate(c.notAfter)}  imported ${c.importedAt}${c.keyless ? '  (no key)' : ''}`,
      );
    }
    deps.out.data(record.targets.length === 0 ? 'targets:     none' : 'targets:');
    for (const t of record.targets) {
      const sealed = t.kind === 'file' ? ', .p12 password sealed' : ', credential sealed';
      const credential = targetSecretId(t) !== undefined ? sealed : '';
      deps.out.data(`  ${t.label.padEnd(12)} ${t.kind.padEnd(8)} ${t.kind === 'file' ? t.path : t.url}${credential}`);
    }
    if (record.deployments.length > 0) {
      deps.out.data('deployments:');
      for (const d of [...record.deployments].reverse())
        deps.out.data(`  ${d.at}  ${d.target.padEnd(12)} serial ${d.serialNumber}  ${d.result}`);
    }
    return 0;
  },
};
