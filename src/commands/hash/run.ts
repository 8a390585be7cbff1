import { AppError } from '../../errors.js';
import type { Runner, Deps } from '../kit.js';
import { readCertificates } from '../shared/read-certificates.js';
import { topicHash } from '../../core/topic.js';

export interface HashOptions {
  file: string | undefined;
  topic: string | undefined;
  passwordFile: string | undefined;
}

export const hash: Runner<HashOptions> = {
  async run(options: HashOptions, deps: Deps) {
    if ((options.file === undefined) === (options.topic === undefined)) {
      throw new AppError('USAGE', 'hash: give either a certificate file or --topic <topic>', {
        hint: 'apns-cert hash push.pem',
      });
    }
    let topic: string;
    if (options.topic !== undefined) {
      topic = options.topic;
    } else {
      const file = options.file!;
      const decoded = await readCertificates(file, deps, { passwordFile: options.passwordFile });
      const cert = decoded.certificates.find((c) => c.topic !== null);
      if (cert?.topic == null) {
        throw new AppError('NO_TOPIC', `hash ${file}: the certificate has no APNs topic (no UID in its subject)`, {
          hint: `apns-cert inspect ${file}`,
        });
      }
      topic = cert.topic;
    }
    const value = topicHash(topic);
    if (deps.out.json) deps.out.document({ topic, topicHash: value });
    else deps.out.data(value);
    return 0;
  },
};
