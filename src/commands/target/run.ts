import { X509Certificate, randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { AppError } from '../../errors.js';
import { targetSecretId, targetUrlProblem } from '../../core/index-model.js';
import type { PushRecord, Target, TargetKind } from '../../core/index-model.js';
import { decodeUtf8Strictly } from '../../core/utf8.js';
import { readSecretFile } from '../../io/files.js';
import type { Deps, Runner } from '../kit.js';
import { requireRecord } from '../shared/require-record.js';
import { UNSAFE_TEXT } from '../../core/unsafe-text.js';

export interface TargetAddOptions {
  name: string;
  kind: TargetKind;
  url: string | undefined;
  credentialFile: string | undefined;
  caFile: string | undefined;
  label: string | undefined;
  path: string | undefined;
  format: 'pem' | 'p12' | undefined;
  keyFormat: 'pkcs8' | 'pkcs1' | undefined;
  after: string | undefined;
  passwordFile: string | undefined;
  force: boolean;
}

export interface TargetListOptions {
  name: string | undefined;
}

export interface TargetRemoveOptions {
  name: string;
  label: string;
}

/** Where a target puts the certificate: its URL, or the path of a file target. */
export const targetPlace = (t: Target): string => (t.kind === 'file' ? t.path : t.url);

const usage = (message: string, hint: string) => new AppError('USAGE', message, { hint });

/** The options that do not go with the kind, refused before anything is read. */
function checkKindOptions(o: TargetAddOptions, action: string): void {
  const example = `apns-cert target add ${o.name} --kind ${o.kind}`;
  if (o.kind === 'file') {
    const given = [
      ...(o.url !== undefined ? ['--url'] : []),
      ...(o.credentialFile !== undefined ? ['--credential-file'] : []),
      ...(o.caFile !== undefined ? ['--ca-file'] : []),
    ];
    if (given.length > 0)
      throw usage(`${action}: ${given.join(', ')} is not for --kind file`, `${example} --path /etc/mdm/push.pem`);
    if (o.path === undefined) throw usage(`${action}: --kind file needs --path`, `${example} --path /etc/mdm/push.pem`);
    if (!isAbsolute(o.path) || o.path.includes('\0'))
      throw usage(`${action}: --path must be an absolute path`, `${example} --path /etc/mdm/push.pem`);
    const p12Example = `${example} --path /etc/mdm/push.p12 --format p12 --password-file <file>`;
    if (o.format === 'p12' && o.passwordFile === undefined)
      throw usage(`${action}: --format p12 needs --password-file (a .p12 is written with a password)`, p12Example);
    if (o.format !== 'p12' && o.passwordFile !== undefined)
      throw usage(`${action}: --password-file goes with --format p12`, p12Example);
    return;
  }
  const fileOnly = [
    ...(o.path !== undefined ? ['--path'] : []),
    ...(o.format !== undefined ? ['--format'] : []),
    ...(o.keyFormat !== undefined ? ['--key-format'] : []),
    ...(o.after !== undefined ? ['--after'] : []),
    ...(o.passwordFile !== undefined ? ['--password-file'] : []),
  ];
  if (fileOnly.length > 0)
    throw usage(
      `${action}: ${fileOnly.join(', ')} is only for --kind file`,
      `${example} --url https://mdm.example.com`,
    );
  if (o.url === undefined)
    throw usage(`${action}: --kind ${o.kind} needs --url`, `${example} --url https://mdm.example.com`);
  const problem = targetUrlProblem(o.url);
  if (problem !== null)
    throw usage(
      `${action}: --url ${JSON.stringify(o.url.slice(0, 200))}: ${problem}`,
      `${example} --url https://mdm.example.com --credential-file <file>`,
    );
}

/**
 * The credential from --credential-file: UTF-8, not empty, its trailing line breaks dropped (the text is never put in
 * a message). It goes into an HTTP header, where node refuses control characters, and Fleet's raw (a Bearer token,
 * not Basic's base64), where it refuses all but Latin-1: refused here (64) rather than at deploy time.
 */
function readCredential(path: string, kind: TargetKind, action: string): Buffer {
  const text = readSecretFile(path, '--credential-file').replace(/[\r\n]+$/, '');
  if (text.trim() === '')
    throw usage(`${action}: --credential-file ${path} is empty`, `ls -l ${path}   # it holds the API key or token`);
  const control = UNSAFE_TEXT.exec(text);
  const nonAscii = control === null && kind === 'fleet' ? /[^\x20-\x7e]/.exec(text) : null;
  const bad = control ?? nonAscii;
  if (bad !== null)
    throw usage(
      `${action}: --credential-file ${path} holds ${control !== null ? 'a control or invisible character' : 'a character a Fleet API token does not have'} (U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}); an API key or token is one line${kind === 'fleet' ? ' of printable ASCII' : ''}`,
      `cat -A ${path}   # the file holds the key or token alone, perhaps with a newline at the end`,
    );
  return Buffer.from(text, 'utf8');
}

/** The .p12 password from --password-file: UTF-8, not empty (one trailing newline dropped, as export reads it). */
function readP12Password(path: string, action: string): Buffer {
  const text = readSecretFile(path, '--password-file');
  if (text === '')
    throw usage(`${action}: --password-file ${path} is empty`, `ls -l ${path}   # it holds the .p12 password`);
  return Buffer.from(text, 'utf8');
}

/** The --ca-file content: one or more PEM certificates (public), kept in the index as they are. */
async function readCa(path: string, deps: Deps, action: string): Promise<string> {
  const text = decodeUtf8Strictly(await deps.readInput(path), `--ca-file ${path}`);
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const bad = () =>
    new AppError('BAD_INPUT', `${action}: --ca-file ${path} holds no PEM certificate`, {
      hint: `openssl x509 -in ${path} -noout -subject`,
    });
  if (blocks.length === 0) throw bad();
  // each written again from its DER: the index holds canonical PEM (LF line ends, 64 columns), nothing else
  return blocks
    .map((block) => {
      try {
        return new X509Certificate(block).toString();
      } catch {
        throw bad();
      }
    })
    .join('');
}

function newTarget(o: TargetAddOptions, label: string, addedAt: string, caPem?: string, secretId?: string): Target {
  if (o.kind === 'file') {
    return {
      label,
      kind: 'file',
      path: o.path!,
      format: o.format ?? 'pem',
      keyFormat: o.keyFormat ?? 'pkcs8',
      ...(secretId !== undefined ? { passwordId: secretId } : {}),
      ...(o.after !== undefined ? { after: o.after } : {}),
      addedAt,
    };
  }
  return {
    label,
    kind: o.kind,
    url: o.url!,
    ...(caPem !== undefined ? { caPem } : {}),
    ...(secretId !== undefined ? { credentialId: secretId } : {}),
    addedAt,
  };
}

export const targetAdd: Runner<TargetAddOptions> = {
  async run(o, deps: Deps) {
    const action = `target add ${o.name}`;
    const label = o.label ?? o.kind;
    checkKindOptions(o, action);
    if (o.after !== undefined && o.after.trim() === '')
      throw usage(`${action}: --after is empty`, `apns-cert target add ${o.name} --kind file --path <file>`);
    const credential =
      o.credentialFile !== undefined
        ? readCredential(o.credentialFile, o.kind, action)
        : o.passwordFile !== undefined
          ? readP12Password(o.passwordFile, action)
          : undefined;
    const caPem = o.caFile === undefined ? undefined : await readCa(o.caFile, deps, action);
    if (credential !== undefined) deps.store.unlockEarly();
    const nowIso = deps.now().toISOString();
    const { target, replaced } = await deps.store.change(async (tx) => {
      const record: PushRecord = requireRecord(tx.index, o.name, action, deps.store.location);
      const existing = record.targets.find((t) => t.label === label);
      if (existing !== undefined && !o.force)
        throw usage(
          `${action}: the record already has a target "${label}" (${existing.kind} ${targetPlace(existing)}); nothing was changed`,
          `apns-cert target add ${o.name} --kind ${o.kind} --label <another label> ...   # or --force to replace it`,
        );
      let secretId: string | undefined;
      if (credential !== undefined) {
        secretId = randomBytes(32).toString('hex');
        await tx.putSecret(secretId, credential, 'target-credential');
        credential.fill(0);
      }
      const target = newTarget(o, label, nowIso, caPem, secretId);
      record.targets = [...record.targets.filter((t) => t.label !== label), target];
      record.updatedAt = nowIso;
      // The index first: a crash after it leaves an orphan secret, never a target naming a deleted one.
      await tx.commit(tx.index);
      const old = existing === undefined ? undefined : targetSecretId(existing);
      if (old !== undefined) await tx.removeSecret(old);
      return { target, replaced: existing !== undefined };
    });
    if (deps.out.json) {
      deps.out.document({
        name: o.name,
        label: target.label,
        kind: target.kind,
        url: target.kind === 'file' ? null : target.url,
        path: target.kind === 'file' ? target.path : null,
        // as show --json says it: a secret sealed for the target (a server's credential, a .p12 file's password)
        credential: targetSecretId(target) !== undefined,
        replaced,
      });
      return 0;
    }
    deps.out.data(target.label);
    const sealed =
      targetSecretId(target) === undefined
        ? ''
        : target.kind === 'file'
          ? '; its .p12 password is sealed in the store'
          : '; its credential is sealed in the store';
    deps.out.info(
      `${replaced ? 'Replaced' : 'Added'} the target "${target.label}" (${target.kind} ${targetPlace(target)}) of ${o.name}${sealed}.`,
    );
    if (target.kind !== 'file' && credential === undefined)
      deps.out.warn(`the target "${target.label}" has no credential: the server will be called without one`);
    return 0;
  },
};

export const targetList: Runner<TargetListOptions> = {
  async run(o, deps: Deps) {
    const index = await deps.store.read();
    if (o.name !== undefined && index === null)
      throw new AppError('NOT_FOUND', `target list: no record "${o.name}" in the store ${deps.store.location}`, {
        hint: 'apns-cert list',
      });
    const records =
      o.name !== undefined
        ? [requireRecord(index!, o.name, 'target list', deps.store.location)]
        : Object.values(index?.records ?? {}).sort((a, b) => a.name.localeCompare(b.name));
    const targets = records.flatMap((r) =>
      r.targets.map((t) => ({
        name: r.name,
        label: t.label,
        kind: t.kind,
        url: t.kind === 'file' ? null : t.url,
        ...(t.kind === 'file' ? { path: t.path } : {}),
      })),
    );
    if (deps.out.json) {
      deps.out.document({ targets });
      return 0;
    }
    if (targets.length === 0) {
      deps.out.info(
        `No deploy targets${o.name !== undefined ? ` for ${o.name}` : ''}. Add one: apns-cert target add <name> --kind <kind> --url <base-url> --credential-file <file>`,
      );
      return 0;
    }
    const s = deps.out.style;
    const nameWidth = Math.max(4, ...targets.map((t) => t.name.length));
    const labelWidth = Math.max(5, ...targets.map((t) => t.label.length));
    deps.out.data(s.bold(`${'NAME'.padEnd(nameWidth)}  ${'LABEL'.padEnd(labelWidth)}  ${'KIND'.padEnd(8)}  WHERE`));
    for (const t of targets)
      deps.out.data(
        `${t.name.padEnd(nameWidth)}  ${t.label.padEnd(labelWidth)}  ${t.kind.padEnd(8)}  ${t.url ?? t.path ?? ''}`,
      );
    return 0;
  },
};

export const targetRemove: Runner<TargetRemoveOptions> = {
  async run(o, deps: Deps) {
    const action = `target remove ${o.name}`;
    const target = await deps.store.change(async (tx) => {
      const record = requireRecord(tx.index, o.name, action, deps.store.location);
      const found = record.targets.find((t) => t.label === o.label);
      if (found === undefined) {
        const labels = record.targets.map((t) => t.label);
        throw new AppError(
          'NOT_FOUND',
          `${action}: the record has no target "${o.label}"${labels.length > 0 ? ` (its targets: ${labels.join(', ')})` : ''}`,
          { hint: `apns-cert target list ${o.name}` },
        );
      }
      record.targets = record.targets.filter((t) => t !== found);
      record.updatedAt = deps.now().toISOString();
      await tx.commit(tx.index);
      const secretId = targetSecretId(found);
      if (secretId !== undefined) await tx.removeSecret(secretId);
      return found;
    });
    if (deps.out.json) {
      deps.out.document({ name: o.name, removed: target.label, kind: target.kind });
      return 0;
    }
    deps.out.info(`Removed the target "${target.label}" (${target.kind} ${targetPlace(target)}) of ${o.name}.`);
    return 0;
  },
};
