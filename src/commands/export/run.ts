import { AppError } from '../../errors.js';
import { certificateInService } from '../../core/index-model.js';
import { keylessRefusal } from '../shared/keyless.js';
import { rejectReplacementCharacter } from '../../core/utf8.js';
import { LEGACY_P12_ITERATIONS, MAX_LEGACY_P12_ITERATIONS, P12_ITERATIONS } from '../../core/pkcs12-params.js';
import type { Runner, Deps } from '../kit.js';
import { p12PasswordSource } from '../shared/read-certificates.js';
import { requireRecord } from '../shared/require-record.js';
import { assertCanCreate, writeOutputFile } from '../../io/files.js';
import { decodeCertificateFile } from '../../core/input.js';

export interface ExportOptions {
  name: string;
  p12: string | undefined;
  pem: string | undefined;
  certOnly: boolean;
  passwordFile: string | undefined;
  legacy: boolean;
  /** PBKDF2 (and MAC) iterations of the .p12; undefined: the default of its format. */
  iterations: number | undefined;
  keyFormat: 'pkcs1' | 'pkcs8' | undefined;
  force: boolean;
}

async function exportPassword(options: ExportOptions, deps: Deps): Promise<string> {
  const password = await p12PasswordSource(options.passwordFile, deps).read({
    message: 'Password for the .p12:',
    repeat: {
      message: 'Repeat the password:',
      differ: () =>
        new AppError('USAGE', 'export: the two passwords differ', {
          hint: `apns-cert export ${options.name} --p12 ${options.p12}`,
        }),
    },
  });
  if (password === null || password === '') {
    throw new AppError(
      'USAGE',
      `export ${options.name}: a .p12 needs a password${password === '' ? ' (it is empty)' : ' and there is no terminal to ask'}`,
      {
        hint: `apns-cert export ${options.name} --p12 ${options.p12} --password-file <file>   # or set APNS_CERT_P12_PASSWORD`,
      },
    );
  }
  return rejectReplacementCharacter(password, 'the .p12 password');
}

export const exportCommand: Runner<ExportOptions> = {
  async run(options: ExportOptions, deps: Deps) {
    const name = options.name;
    if ((options.p12 === undefined) === (options.pem === undefined)) {
      throw new AppError('USAGE', 'export: give exactly one of --p12 <file> or --pem <file>', {
        hint: `apns-cert export ${name} --p12 ${name}.p12`,
      });
    }
    if (options.certOnly && options.pem === undefined)
      throw new AppError('USAGE', 'export: --cert-only goes with --pem', {
        hint: `apns-cert export ${name} --pem ${name}.crt --cert-only`,
      });
    if (options.legacy && options.p12 === undefined)
      throw new AppError('USAGE', 'export: --legacy goes with --p12', {
        hint: `apns-cert export ${name} --p12 ${name}.p12 --legacy`,
      });
    if (options.iterations !== undefined && options.p12 === undefined)
      throw new AppError('USAGE', 'export: --iterations goes with --p12', {
        hint: `apns-cert export ${name} --p12 ${name}.p12 --iterations ${options.iterations}`,
      });
    if (options.legacy && options.iterations !== undefined && options.iterations > MAX_LEGACY_P12_ITERATIONS) {
      throw new AppError(
        'USAGE',
        `export: --legacy takes at most ${MAX_LEGACY_P12_ITERATIONS} iterations (its 3DES key derivation costs four times as much)`,
        { hint: `apns-cert export ${name} --p12 ${name}.p12 --legacy --iterations ${MAX_LEGACY_P12_ITERATIONS}` },
      );
    }
    if (options.keyFormat !== undefined && (options.pem === undefined || options.certOnly)) {
      throw new AppError('USAGE', 'export: --key-format goes with --pem (and a key: not --cert-only)', {
        hint: `apns-cert export ${name} --pem ${name}.pem --key-format ${options.keyFormat}`,
      });
    }
    const path = (options.p12 ?? options.pem)!;
    const flag = options.p12 !== undefined ? '--p12' : '--pem';
    await assertCanCreate(path, { force: options.force, flag, store: deps.store });

    const index = await deps.store.readOrFail();
    const record = requireRecord(index, name, 'export', deps.store.location);
    const active = certificateInService(record);
    if (active === undefined) {
      throw new AppError('USAGE', `export ${name}: it has no active certificate`, { hint: `apns-cert show ${name}` });
    }
    const cert = decodeCertificateFile(Buffer.from(await deps.store.certificatePem(active)), active.file)
      .certificates[0]!;
    if (options.certOnly) {
      await writeOutputFile(path, cert.pem, { force: options.force, flag, store: deps.store, mode: 0o600 });
    } else {
      const password = options.p12 !== undefined ? await exportPassword(options, deps) : undefined;
      if (active.keyId === null) throw keylessRefusal(`export ${name}`, name);
      const key = await deps.store.privateKey(index, active.keyId);
      if (key.keyId !== cert.publicKeyId)
        throw new AppError('STORE_CORRUPT', `export ${name}: the stored key does not match the certificate`, {
          hint: `apns-cert show ${name}`,
        });
      let data: string | Buffer;
      if (password !== undefined) {
        const { encodePkcs12 } = await import('../../core/pkcs12.js');
        const iterations = options.iterations ?? (options.legacy ? LEGACY_P12_ITERATIONS : P12_ITERATIONS);
        data = encodePkcs12(key, [cert], password, {
          legacy: options.legacy,
          iterations,
          friendlyName: `${name} (${cert.topic})`,
        });
      } else {
        const keyFormat = options.keyFormat ?? 'pkcs8';
        if (keyFormat === 'pkcs1' && key.key.asymmetricKeyType !== 'rsa') {
          throw new AppError(
            'USAGE',
            `export ${name}: its key is ${key.key.asymmetricKeyType ?? 'not RSA'}, and PKCS#1 holds RSA keys only`,
            { hint: `apns-cert export ${name} --pem ${path} --key-format pkcs8` },
          );
        }
        data = cert.pem + key.key.export({ type: keyFormat, format: 'pem' }).toString();
      }
      await writeOutputFile(path, data, { force: options.force, flag, store: deps.store, mode: 0o600 });
    }
    if (deps.out.json)
      deps.out.document({
        name,
        path,
        format:
          options.p12 !== undefined
            ? options.legacy
              ? 'p12-legacy'
              : 'p12'
            : options.certOnly
              ? 'pem-certificate'
              : 'pem',
        topic: cert.topic,
      });
    else deps.out.data(path);
    return 0;
  },
};
