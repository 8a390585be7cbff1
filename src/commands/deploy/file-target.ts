import { dirname } from 'node:path';
import { AppError } from '../../errors.js';
import { formatName } from '../../core/certificate.js';
import type { FileTarget } from '../../core/index-model.js';
import { sameSerial } from '../../core/target-state.js';
import { P12_ITERATIONS } from '../../core/pkcs12-params.js';
import { entryKind, isDirectory, writeOutputFile } from '../../io/files.js';
import { commandEndText, runShellCommand } from '../../io/run-command.js';
import type { Deps } from '../kit.js';
import { certificateIn } from '../shared/file-certificate.js';
import { reporter } from './deploying.js';
import type { Deploying, TargetReport } from './deploying.js';

/** What of deploy's options a file target follows. */
interface FileDeployOptions {
  name: string;
  allowNewTopic: boolean;
  dryRun: boolean;
}

/** The `target add` command that points the target elsewhere (its other options as they are). */
function reAddCommand(name: string, t: FileTarget, path: string): string {
  const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  return [
    `apns-cert target add ${name} --kind file --label ${t.label} --path ${path}`,
    ...(t.format === 'p12' ? ['--format p12 --password-file <file>'] : []),
    ...(t.keyFormat === 'pkcs1' ? ['--key-format pkcs1'] : []),
    ...(t.after !== undefined ? [`--after ${quoted(t.after)}`] : []),
    '--force',
  ].join(' ');
}

/** Why the file cannot be written where the target says, or null: inside the store, no directory, a link. */
function placeProblem(name: string, t: FileTarget, deps: Deps): { message: string; hint: string } | null {
  const where = deps.store.location;
  if (deps.store.holdsPath(t.path))
    return {
      message: `${t.path} is inside the store ${where}, whose files only apns-cert itself writes`,
      hint: reAddCommand(name, t, `<a file outside ${where}>`),
    };
  const parent = dirname(t.path);
  if (!isDirectory(parent)) return { message: `the directory ${parent} does not exist`, hint: `mkdir -p ${parent}` };
  switch (entryKind(t.path)) {
    case 'symlink':
      return {
        message: `${t.path} is a symbolic link; apns-cert writes no file through one, nor replaces it`,
        hint: reAddCommand(name, t, `"$(readlink -f ${t.path})"`),
      };
    case 'directory':
    case 'other':
      return { message: `${t.path} is not a regular file`, hint: `ls -ld ${t.path}` };
    default:
      return null;
  }
}

/**
 * Writes the record's certificate and key to a file target (after the topic guard on the file that is there),
 * reads it back, then runs the target's --after command. Never throws for the target's own failures: they are
 * its report (73 cannot write, 1 refused, mismatch or a failed --after).
 */
export async function deployToFile(
  t: FileTarget,
  password: string | undefined,
  d: Deploying,
  o: FileDeployOptions,
  deps: Deps,
): Promise<TargetReport> {
  const report = reporter(t, d);
  const place = placeProblem(o.name, t, deps);
  if (place !== null) return report('cannot write', 73, `${place.message}; nothing was written`, place.hint);
  if (t.format === 'p12' && password === undefined)
    return report(
      'refused',
      1,
      'the target writes a .p12 but has no password (it was added before deploy wrote files); nothing was written',
      reAddCommand(o.name, t, t.path),
    );
  const key = d.key;
  if (key === undefined) throw new Error('deploy: a file target needs the key'); // the keyless refusal comes first
  if (t.format === 'pem' && t.keyFormat === 'pkcs1' && key.key.asymmetricKeyType !== 'rsa')
    return report('refused', 1, `its key is ${key.key.asymmetricKeyType ?? 'not RSA'}; PKCS#1 holds RSA keys only`);

  if (entryKind(t.path) === 'file') {
    const found = await certificateIn(t.path, password, deps);
    if ('cause' in found)
      return report(
        'refused',
        1,
        `the file there holds no certificate apns-cert can read (${found.cause}); nothing was written`,
        `mv ${t.path} ${t.path}.old   # move it away, then deploy again`,
      );
    const topic = found.cert.topic ?? `none: a certificate of ${formatName(found.cert.subject)}`;
    if (topic !== d.topic && !o.allowNewTopic)
      return report(
        'refused',
        1,
        `the file holds a certificate of another topic (${topic}, deploying ${d.topic}); nothing was written`,
      );
  }
  const keyWords = t.format === 'p12' ? 'its private key' : `its private key (${t.keyFormat.toUpperCase()})`;
  const format = t.format === 'p12' ? 'a .p12' : 'PEM';
  if (o.dryRun)
    return report(
      'would deploy',
      0,
      `would write the certificate ${d.serialNumber} (${d.topic}) and ${keyWords} as ${format} to ${t.path} (mode 0600)` +
        (t.after !== undefined ? `, then run --after: ${t.after}` : ''),
    );

  const data =
    t.format === 'p12'
      ? (await import('../../core/pkcs12.js')).encodePkcs12(key, [d.certificate], password!, {
          legacy: false,
          iterations: P12_ITERATIONS,
          friendlyName: `${o.name} (${d.topic})`,
        })
      : d.certificate.pem + key.key.export({ type: t.keyFormat, format: 'pem' }).toString();
  try {
    await writeOutputFile(t.path, data, {
      force: true,
      flag: '--path',
      store: deps.store,
      mode: 0o600,
      parents: false,
    });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return report('cannot write', 73, error.message, error.hint);
  }

  const back = await certificateIn(t.path, password, deps);
  if ('cause' in back) return report('mismatch', 1, `written, but reading it back failed: ${back.cause}`);
  if (!sameSerial(back.cert.serialNumber, d.serialNumber) || back.cert.notAfter.getTime() !== Date.parse(d.notAfter))
    return report(
      'mismatch',
      1,
      `written, but the file now holds serial ${back.cert.serialNumber} expiring ${back.cert.notAfter.toISOString()}`,
    );
  if (back.keyId !== d.certificate.publicKeyId)
    return report('mismatch', 1, 'written, but the key read back from the file does not pair with the certificate');
  if (t.after === undefined) return report('deployed', 0, null);

  deps.out.info(`${t.label}: written; running --after: ${t.after}`);
  const end = await runShellCommand(t.after, {
    env: { ...deps.settings.childEnvironment, APNS_CERT_DEPLOYED_FILE: t.path },
    timeoutMs: deps.settings.afterTimeoutMs,
    output: (text) => deps.out.relayed(text),
  });
  if (end.kind === 'exited' && end.code === 0) return report('deployed', 0, null);
  return report('after failed', 1, `the file is written; --after ${commandEndText(end)}`);
}
