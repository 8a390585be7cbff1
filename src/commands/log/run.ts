import { auditText } from '../../core/audit-log.js';
import type { Deps, Runner } from '../kit.js';

export interface LogOptions {
  name: string | undefined;
  since: Date | undefined;
}

export const log: Runner<LogOptions> = {
  async run(options: LogOptions, deps: Deps) {
    const entries = await deps.store.readLog({
      ...(options.name === undefined ? {} : { record: options.name }),
      ...(options.since === undefined ? {} : { since: options.since }),
      onSkipped: (problem) => deps.out.warn(`the audit log of ${deps.store.location}: skipped ${problem}`),
    });
    if (deps.out.json) deps.out.document({ entries });
    else for (const entry of entries) deps.out.data(auditText(entry));
    return 0;
  },
};
