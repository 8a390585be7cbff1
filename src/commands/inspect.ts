import type { Command } from 'commander';
import { formatName } from '../core/certificate.js';
import type { CertificateInfo } from '../core/certificate.js';
import { daysRemaining } from '../core/expiry.js';
import { decodeCertificateFile } from '../core/input.js';
import { daysText } from '../output/output.js';
import { COMMON_ERRORS, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export interface InspectOptions {
  file: string;
}

export function describeCertificate(cert: CertificateInfo, now: Date) {
  return {
    kind: cert.kind,
    topic: cert.topic,
    topicHash: cert.topicHash,
    environment: cert.environment ?? (cert.kind === 'mdm' ? 'production' : null),
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    daysRemaining: daysRemaining(cert.notAfter, now),
    expired: cert.notAfter.getTime() <= now.getTime(),
    fingerprints: { sha1: cert.fingerprintSha1, sha256: cert.fingerprintSha256 },
    key: { type: cert.keyType, size: cert.keySize },
  };
}

export const inspect: CommandModule<InspectOptions> = {
  define(program) {
    const command = program
      .command('inspect')
      .summary('show what a certificate is: topic, kind, dates, fingerprints')
      .description('Show a certificate (PEM or DER; need not be in the store): topic, topic hash, kind (mdm | app | unknown), subject, issuer, serial, validity, fingerprints and key.')
      .argument('<file>', 'certificate file, or "-" for stdin');
    return withHelp(command, {
      exitCodes: [[0, 'certificate shown (even when expired or not a push certificate)'], ...COMMON_ERRORS],
      examples: ['apns-cert inspect MDM_Certificate.pem', 'apns-cert inspect --json push.der | jq -r .notAfter', 'security find-certificate -p -c APSP | apns-cert inspect -'],
    });
  },
  options(command: Command) {
    return { file: command.args[0]! };
  },
  async run(options: InspectOptions, deps: Deps) {
    const decoded = decodeCertificateFile(await deps.readInput(options.file), options.file);
    const cert = decoded.certificates.find((c) => c.topic !== null) ?? decoded.certificates[0]!;
    const info = describeCertificate(cert, deps.now());
    const others = decoded.certificates.length - 1;
    if (deps.out.json) {
      deps.out.document({ file: options.file, ...info, otherCertificates: others });
      return 0;
    }
    const s = deps.out.style;
    const rows: Array<[string, string]> = [
      ['kind', info.kind],
      ['topic', info.topic ?? s.yellow('none (no UID in the subject: not a push certificate)')],
      ['topic hash', info.topicHash ?? '-'],
      ['environment', info.environment ?? '-'],
      ['subject', info.subject],
      ['issuer', info.issuer],
      ['serial', info.serialNumber],
      ['not before', info.notBefore],
      ['not after', `${info.notAfter} (${info.expired ? s.red(daysText(info.daysRemaining)) : daysText(info.daysRemaining)})`],
      ['sha1', info.fingerprints.sha1],
      ['sha256', info.fingerprints.sha256],
      ['key', `${info.key.type}${info.key.size === null ? '' : ` ${info.key.size}`}`],
    ];
    for (const [label, value] of rows) deps.out.data(`${label.padEnd(12)} ${value}`);
    if (others > 0) deps.out.info(`(${others} more certificate${others === 1 ? '' : 's'} in ${options.file}; showing the push certificate)`);
    return 0;
  },
};
