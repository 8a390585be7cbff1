import { AppError } from '../../errors.js';
import { DEPLOYMENT_RESULTS, certificateInService } from '../../core/index-model.js';
import type { Deployment, DeploymentResult, ServerTarget } from '../../core/index-model.js';
import { decodeCertificateFile } from '../../core/input.js';
import { mdmClient } from '../../net/mdm/index.js';
import type { MdmEndpoint } from '../../net/mdm/index.js';
import { sameSerial, sameTime, serialKey, topicOfCommonName } from '../../core/target-state.js';
import type { Deps, Runner } from '../kit.js';
import { keylessRefusal } from '../shared/keyless.js';
import { requireRecord } from '../shared/require-record.js';
import { causeOf, credentialOf } from '../shared/mdm-target.js';
import type { MdmFailure } from '../shared/mdm-target.js';
import { readServer } from '../shared/target-reading.js';
import type { CheckOptions } from './check.js';
import { chooseTargets, reporter } from './deploying.js';
import type { Deploying, Outcome, TargetReport } from './deploying.js';

export interface DeployingOptions {
  check: false;
  name: string;
  target: string[] | undefined;
  allowNewTopic: boolean;
  dryRun: boolean;
}

/** `deploy --check` reads back only (./check.ts). */
export type DeployOptions = DeployingOptions | CheckOptions;

/**
 * The topic guard: what the server runs now, and whether it is of another topic. A server that keeps a
 * certificate per topic (nanomdm, nanohub) is asked for ours, then for the record's older topics.
 */
async function guard(
  t: ServerTarget,
  credential: string,
  d: Deploying,
  timeoutMs: number,
): Promise<{ foreignTopic?: string; failure?: MdmFailure; noReadBack?: boolean }> {
  const reading = await readServer(t, credential, [d.topic, ...d.otherTopics], timeoutMs);
  if (reading.kind === 'failed') return { failure: reading.failure };
  if (reading.kind === 'no-read-back') return { noReadBack: true };
  if (reading.kind === 'none') return {}; // nothing set yet (or a key MicroMDM cannot parse): nothing to compare
  const running = reading.running;
  if (t.kind === 'fleet' && running.serialNumber === undefined) return {};
  const known = running.serialNumber === undefined ? undefined : d.history.get(serialKey(running.serialNumber));
  const topic = running.topic ?? (known !== undefined ? known : topicOfCommonName(running.commonName));
  if (topic === d.topic) return {};
  if (topic !== null) return { foreignTopic: topic };
  // Fleet gives no topic: a serial outside the history without an APSP name is not ours to replace.
  return t.kind === 'fleet'
    ? {
        foreignTopic: `unknown: serial ${running.serialNumber}, CN ${running.commonName ?? '?'}, not in the record's history`,
      }
    : {};
}

async function deployTo(
  t: ServerTarget,
  credential: string,
  d: Deploying,
  o: DeployingOptions,
  deps: Deps,
): Promise<TargetReport> {
  const timeoutMs = deps.settings.deployTimeoutMs;
  const endpoint: MdmEndpoint = { url: t.url, caPem: t.caPem };
  const client = mdmClient(t.kind);
  const report = reporter(t, d);
  const failed = (r: MdmFailure, when: string): TargetReport => {
    const message = `${when}: ${causeOf(r)}`;
    if (r.kind === 'unauthorized') return report('unauthorized', 77, message);
    if (r.kind === 'unreachable') return report('unreachable', 69, message);
    return report('refused', 1, message);
  };

  const checked = await guard(t, credential, d, timeoutMs);
  if (checked.failure !== undefined) return failed(checked.failure, 'reading what the server runs');
  if (checked.foreignTopic !== undefined && !o.allowNewTopic)
    return report(
      'refused',
      1,
      `the server runs a certificate of another topic (${checked.foreignTopic}, deploying ${d.topic}); nothing was sent`,
    );
  const noCheck = checked.noReadBack === true ? 'the server has no read-back, so its topic could not be checked' : null;
  if (o.dryRun) {
    const key =
      t.kind === 'fleet'
        ? 'no key (Fleet keeps its own)'
        : t.kind === 'micromdm'
          ? 'its private key (as PKCS#1)'
          : 'its private key';
    return report(
      'would deploy',
      0,
      `would send the certificate ${d.serialNumber} (${d.topic}) and ${key} to ${t.url}${noCheck !== null ? `; ${noCheck}` : ''}`,
    );
  }
  const material =
    t.kind === 'fleet' || d.keyPem === undefined ? { certPem: d.certPem } : { certPem: d.certPem, keyPem: d.keyPem };
  const uploaded = await client.upload(endpoint, material, credential, timeoutMs);
  if (uploaded.kind !== 'ok') return failed(uploaded, 'uploading');
  const back = await client.readBack(endpoint, credential, timeoutMs, d.topic);
  if (back.kind === 'not-supported') return report('not confirmed', 0, `uploaded; ${causeOf(back)}`);
  if (back.kind === 'unauthorized' || back.kind === 'unreachable') {
    const r = failed(back, 'uploaded; reading it back');
    return { ...r, result: 'not confirmed' };
  }
  if (back.kind !== 'ok') return report('mismatch', 1, `uploaded, but the read-back answered ${causeOf(back)}`);
  const running = back.running;
  const serialOk = running?.serialNumber === undefined || sameSerial(running.serialNumber, d.serialNumber);
  const timeOk = running?.notAfter === undefined || sameTime(running.notAfter, d.notAfter);
  const topicOk = running?.topic === undefined || running.topic === d.topic;
  const said = running === undefined ? false : running.serialNumber !== undefined || running.notAfter !== undefined;
  if (said && serialOk && timeOk && topicOk) return report('deployed', 0, null);
  const answer =
    running === undefined
      ? 'no certificate'
      : [
          running.topic !== undefined ? `topic ${running.topic}` : '',
          running.serialNumber !== undefined ? `serial ${running.serialNumber}` : '',
          running.notAfter !== undefined ? `expiring ${running.notAfter}` : '',
        ]
          .filter((s) => s !== '')
          .join(', ') || 'no certificate';
  return report('mismatch', 1, `uploaded, but the server still runs ${answer}`);
}

/** The exit code of the whole run: the first of 77, 69, 73, 1 that a target ended with, else 0. */
const exitOf = (reports: TargetReport[]) => [77, 69, 73, 1].find((c) => reports.some((r) => r.exitCode === c)) ?? 0;
const isDeploymentResult = (r: Outcome): r is DeploymentResult => (DEPLOYMENT_RESULTS as readonly string[]).includes(r);

export const deploy: Runner<DeployOptions> = {
  async run(o, deps: Deps) {
    if (o.check) return (await import('./check.js')).checkDeployed(o, deps);
    const action = `deploy ${o.name}`;
    const index = await deps.store.readOrFail();
    const record = requireRecord(index, o.name, action, deps.store.location);
    const active = certificateInService(record);
    if (active === undefined || record.topic === null)
      throw new AppError('USAGE', `${action}: it has no active certificate`, { hint: `apns-cert show ${o.name}` });
    deps.audit.note({ serialNumber: active.serialNumber, topic: record.topic });
    const targets = chooseTargets(record, o.target, action);
    const certOf = async (entry: typeof active) =>
      decodeCertificateFile(Buffer.from(await deps.store.certificatePem(entry)), entry.file).certificates[0]!;
    const cert = await certOf(active);
    // A keyless record (imported with --no-key) deploys only where the server keeps the key itself (Fleet).
    if (active.keyId === null && targets.some((t) => t.kind !== 'fleet')) throw keylessRefusal(action, o.name);
    const key = active.keyId === null ? undefined : await deps.store.privateKey(index, active.keyId);
    if (key !== undefined && key.keyId !== cert.publicKeyId)
      throw new AppError('STORE_CORRUPT', `${action}: the stored key does not match the certificate`, {
        hint: `apns-cert show ${o.name}`,
      });
    const otherTopics = new Set<string>();
    const history = new Map<string, string | null>([[serialKey(active.serialNumber), record.topic]]);
    if (targets.some((t) => t.kind !== 'micromdm'))
      for (const entry of record.certificates.filter((c) => c !== active)) {
        const topic = (await certOf(entry)).topic;
        history.set(serialKey(entry.serialNumber), topic);
        if (topic !== null && topic !== record.topic) otherTopics.add(topic);
      }
    const deploying: Deploying = {
      certPem: cert.pem,
      certificate: cert,
      key,
      keyPem: key?.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      topic: record.topic,
      serialNumber: active.serialNumber,
      notAfter: new Date(active.notAfter).toISOString(),
      otherTopics: [...otherTopics],
      history,
    };

    const reports: TargetReport[] = [];
    const deployments: Deployment[] = [];
    for (const t of targets) {
      const credential = await credentialOf(deps, index, t);
      const r =
        t.kind === 'file'
          ? await (
              await import('./file-target.js')
            ).deployToFile(t, t.passwordId !== undefined ? credential : undefined, deploying, o, deps)
          : await deployTo(t, credential, deploying, o, deps);
      reports.push(r);
      if (isDeploymentResult(r.result))
        deployments.push({
          target: t.label,
          serialNumber: deploying.serialNumber,
          at: deps.now().toISOString(),
          result: r.result,
        });
    }
    if (!o.dryRun && deployments.length > 0)
      await deps.store.change(async (tx) => {
        const rec = requireRecord(tx.index, o.name, action, deps.store.location);
        rec.deployments = [...rec.deployments, ...deployments];
        rec.updatedAt = deps.now().toISOString();
        await tx.commit(tx.index);
      });

    if (deps.out.json) {
      deps.out.document({
        name: o.name,
        targets: reports.map(({ exitCode: _, hint: __, ...r }) => r),
      });
    } else {
      for (const r of reports) {
        deps.out.data(`${r.label}  ${r.kind}  ${r.result}  serial ${r.serialNumber}`);
        if (r.message === null) continue;
        if (r.result === 'not confirmed' || r.result === 'would deploy')
          (r.exitCode === 0 && r.result === 'would deploy'
            ? deps.out.info.bind(deps.out)
            : deps.out.warn.bind(deps.out))(`${r.label}: ${r.message}`);
        else deps.out.error(`apns-cert: ${action}: target "${r.label}": ${r.message}`);
        if (r.hint !== undefined) deps.out.error(`hint: ${r.hint}`);
      }
    }
    const refusedTopic = reports.find((r) => r.result === 'refused' && r.message?.includes('another topic'));
    if (refusedTopic !== undefined) topicRefusal(deps, o, refusedTopic);
    for (const r of reports.filter((x) => x.result === 'unauthorized'))
      deps.out.error(
        `hint: apns-cert target add ${o.name} --kind ${r.kind} --label ${r.label} --url <url> --credential-file <file> --force`,
      );
    return exitOf(reports);
  },
};

/** The same words as import's refusal of a new topic (src/commands/shared/errors.ts, topic-changed). */
function topicRefusal(deps: Deps, o: DeployingOptions, r: TargetReport): void {
  for (const line of [
    'A new topic means the certificate was created under another Apple ID, or with "Create" instead of',
    '"Renew" in Apple\'s portal. Every enrolled device would stop answering until it is re-enrolled.',
    r.kind === 'file'
      ? `Nothing was written to "${r.label}"; the file keeps the certificate it holds.`
      : `Nothing was sent to "${r.label}"; it keeps the certificate it runs.`,
    `hint: apns-cert deploy ${o.name} --target ${r.label} --allow-new-topic   # only if every device will re-enroll`,
  ])
    deps.out.error(line);
}
