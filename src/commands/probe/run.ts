import type { Runner, Deps } from '../kit.js';
import { probeIdentity, probeUrl, readCaFile } from '../shared/probe.js';
import { loadIdentity } from '../shared/identity.js';

export interface ProbeOptions {
  target: string;
  sandbox: boolean;
  apnsUrl: string | undefined;
  caFile: string | undefined;
  passwordFile: string | undefined;
}

const EXIT = { accepted: 0, rejected: 1, unreachable: 69 } as const;

export const probe: Runner<ProbeOptions> = {
  async run(options: ProbeOptions, deps: Deps) {
    const url = probeUrl(options.apnsUrl, options.sandbox);
    const caPem = await readCaFile(options.caFile);
    const identity = await loadIdentity(options.target, deps, { passwordFile: options.passwordFile });
    const result = await probeIdentity(identity, url, caPem, deps);
    if (deps.out.json) {
      deps.out.document({
        target: url.origin,
        source: identity.source,
        topic: identity.certificate.topic,
        accepted: result.verdict === 'accepted',
        ...result,
      });
    } else {
      const s = deps.out.style;
      const word =
        result.verdict === 'accepted'
          ? s.green('ACCEPTED')
          : result.verdict === 'rejected'
            ? s.red('REJECTED')
            : s.yellow('UNREACHABLE');
      deps.out.data(`${word} ${identity.source} (${identity.certificate.topic}) at ${url.host}: ${result.detail}`);
    }
    return EXIT[result.verdict];
  },
};
