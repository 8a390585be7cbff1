import { daysRemaining } from '../../core/expiry.js';
import { daysText, shortDate } from '../../output/output.js';
import type { Runner, Deps } from '../kit.js';
import { readCertificates } from '../shared/read-certificates.js';
import { importCertificate } from '../shared/import-certificate.js';
import { custodyChange } from '../shared/custody.js';
import type { CustodyOptions } from '../shared/custody.js';

export interface ImportOptions extends CustodyOptions {
  file: string;
  name: string | undefined;
  appleId: string | undefined;
  allowNewTopic: boolean;
  allowExpired: boolean;
  /** Commander's `--no-key`: false when given. */
  key?: boolean | undefined;
  passwordFile: string | undefined;
}

export const importCommand: Runner<ImportOptions> = {
  async run(options: ImportOptions, deps: Deps) {
    const custody = custodyChange(
      options,
      options.appleId,
      'import',
      `apns-cert import ${options.file} --name ${options.name ?? '<name>'} --apple-id <id> --remember-apple-id`,
    );
    const decoded = await readCertificates(options.file, deps, { passwordFile: options.passwordFile });
    const now = deps.now();
    const plan = await importCertificate(
      {
        decoded,
        source: options.file,
        name: options.name,
        appleId: options.appleId,
        allowNewTopic: options.allowNewTopic,
        allowExpired: options.allowExpired,
        noKey: options.key === false,
        custody,
      },
      deps,
    );

    if (decoded.certificates.length > 1) {
      deps.out.info(
        `${options.file} holds ${decoded.certificates.length} certificates; imported the one for topic ${plan.certificate.topic} (${plan.keySource === 'file' ? 'its key is in the file' : plan.keySource === 'none' ? 'its key is kept by the server' : 'its key is in the store'}).`,
      );
    }
    for (const warning of plan.warnings) deps.out.warn(warning);
    const cert = plan.certificate;
    const days = daysRemaining(cert.notAfter, now);
    if (deps.out.json) {
      deps.out.document({
        name: plan.name,
        topic: cert.topic,
        topicHash: cert.topicHash,
        kind: cert.kind,
        serialNumber: cert.serialNumber,
        notAfter: cert.notAfter.toISOString(),
        daysRemaining: days,
        renewal: plan.previous !== undefined,
        previousNotAfter: plan.previous?.notAfter ?? null,
        keySource: plan.keySource,
        warnings: plan.warnings,
      });
      return 0;
    }
    const s = deps.out.style;
    if (plan.previous !== undefined) {
      deps.out.data(`${s.green('Renewed')} ${plan.name}: same topic ${cert.topic}`);
      deps.out.data(
        `  not after: ${shortDate(plan.previous.notAfter)} -> ${shortDate(cert.notAfter)} (${daysText(days)})`,
      );
    } else {
      deps.out.data(`${s.green('Imported')} ${plan.name}: topic ${cert.topic}`);
      deps.out.data(`  not after: ${shortDate(cert.notAfter)} (${daysText(days)})`);
    }
    return 0;
  },
};
