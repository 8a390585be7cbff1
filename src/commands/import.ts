import type { Command } from 'commander';
import { daysRemaining } from '../core/expiry.js';
import { daysText, shortDate } from '../output/output.js';
import { COMMON_ERRORS, recordName, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export interface ImportOptions {
  file: string;
  name: string | undefined;
  appleId: string | undefined;
  allowNewTopic: boolean;
  allowExpired: boolean;
  passwordFile: string | undefined;
}

export const importCommand: CommandModule<ImportOptions> = {
  name: 'import',
  define(program) {
    const command = program
      .command('import')
      .summary('import the certificate Apple returned, checking its key and topic')
      .description(
        'Import a signed push certificate (PEM or DER, detected by content; a PEM file may also hold its private key). ' +
          'The key is the pending key of --name, any pending key in the store that matches, or the key in the file. ' +
          'A renewal must keep the recorded topic: a new topic is refused (exit 1) and the store is left unchanged.',
      )
      .argument('<file>', 'certificate file from Apple, or "-" for stdin')
      .option('--name <name>', 'record to import into (default: the record whose key or topic matches)', recordName)
      .option('--apple-id <id>', 'Apple ID that created the certificate (only a salted hash is kept)')
      .option(
        '--allow-new-topic',
        'accept a certificate whose topic differs from the recorded one (devices must re-enroll)',
        false,
      )
      .option('--allow-expired', 'accept an expired certificate', false)
      .option(
        '--password-file <file>',
        'password of a .p12 (else $APNS_CERT_P12_PASSWORD, else a prompt on a terminal)',
      );
    return withHelp(command, {
      exitCodes: [
        [0, 'imported'],
        [1, 'refused: the topic differs from the one on record (store unchanged)'],
        ...COMMON_ERRORS.map(([c, m]): [number, string] =>
          c === 65
            ? [65, 'refused: no topic, key does not match, no key, already imported, expired; or bad data']
            : [c, m],
        ),
        [69, 'the secret backend (keychain) is unavailable'],
        [73, 'cannot write to the store'],
        [75, 'another apns-cert process is changing the store'],
        [77, 'wrong store passphrase or wrong .p12 password'],
      ],
      examples: [
        'apns-cert import ~/Downloads/MDM_Certificate.pem --name acme-prod',
        'apns-cert import cert-and-key.pem --name legacy-prod --apple-id mdm@acme.example',
        'APNS_CERT_P12_PASSWORD=... apns-cert import exported.p12 --name legacy-prod',
        'apns-cert import new.pem --name acme-prod --allow-new-topic   # deliberate new topic: re-enroll every device',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{
      name?: string;
      appleId?: string;
      allowNewTopic: boolean;
      allowExpired: boolean;
      passwordFile?: string;
    }>();
    return {
      file: command.args[0]!,
      name: o.name,
      appleId: o.appleId,
      allowNewTopic: o.allowNewTopic,
      allowExpired: o.allowExpired,
      passwordFile: o.passwordFile,
    };
  },
  async run(options: ImportOptions, deps: Deps) {
    const { readCertificates } = await import('./shared/read-certificates.js');
    const { importCertificate } = await import('./shared/import-certificate.js');
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
      },
      deps,
    );

    if (decoded.certificates.length > 1) {
      deps.out.info(
        `${options.file} holds ${decoded.certificates.length} certificates; imported the one for topic ${plan.certificate.topic} (${plan.keySource === 'file' ? 'its key is in the file' : 'its key is in the store'}).`,
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
