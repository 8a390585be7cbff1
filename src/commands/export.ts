import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { certificateInService, recordNamed } from '../core/index-model.js';
import { rejectReplacementCharacter } from '../core/utf8.js';
import { readSecretFile } from '../io/files.js';
import {
  LEGACY_P12_ITERATIONS,
  MAX_LEGACY_P12_ITERATIONS,
  MAX_P12_ITERATIONS,
  MIN_P12_ITERATIONS,
  P12_ITERATIONS,
} from '../core/pkcs12-params.js';
import { COMMON_ERRORS, recordName, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

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

/** commander argParser for --iterations: what importers accept and what our own import opens. */
function iterationCount(value: string): number {
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= MIN_P12_ITERATIONS && n <= MAX_P12_ITERATIONS)) {
    throw new InvalidArgumentError(
      `expected a whole number from ${MIN_P12_ITERATIONS} to ${MAX_P12_ITERATIONS}, got "${value}"`,
    );
  }
  return n;
}

async function exportPassword(options: ExportOptions, deps: Deps): Promise<string> {
  let password: string | undefined;
  if (options.passwordFile !== undefined) {
    password = readSecretFile(options.passwordFile, '--password-file');
  } else if (deps.env.APNS_CERT_P12_PASSWORD !== undefined) {
    password = deps.env.APNS_CERT_P12_PASSWORD;
  } else if (deps.interactive) {
    password = await deps.prompter.password('Password for the .p12:');
    if ((await deps.prompter.password('Repeat the password:')) !== password) {
      throw new AppError('USAGE', 'export: the two passwords differ', {
        hint: `apns-cert export ${options.name} --p12 ${options.p12}`,
      });
    }
  }
  if (password === undefined || password === '') {
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

export const exportCommand: CommandModule<ExportOptions> = {
  name: 'export',
  define(program) {
    const command = program
      .command('export')
      .summary('export the active certificate and key for an MDM server (.p12 or PEM)')
      .description(
        'Write the active certificate of <name> with its private key, as a .p12 (AES-256, PBKDF2-SHA256; --legacy: 3DES for old servers) or as PEM. Files are created with mode 0600.',
      )
      .argument('<name>', 'record to export', recordName)
      .option(
        '--p12 <file>',
        'write a PKCS#12 file (password from --password-file, $APNS_CERT_P12_PASSWORD or a prompt)',
      )
      .option('--pem <file>', 'write certificate and private key as PEM')
      .option('--cert-only', 'with --pem: the certificate alone, no key', false)
      .option('--password-file <file>', 'password for the .p12')
      .option('--legacy', 'with --p12: 3DES and SHA-1 MAC, for servers that cannot read AES', false)
      .option(
        '--iterations <n>',
        `with --p12: key-derivation iterations (default ${P12_ITERATIONS} (PBKDF2-HMAC-SHA256), ${LEGACY_P12_ITERATIONS} with --legacy); lower only for an importer that cannot cope`,
        iterationCount,
      )
      .addOption(
        new Option(
          '--key-format <format>',
          'with --pem: the private key as PKCS#8 (PEM label PRIVATE KEY) or PKCS#1 (PEM label RSA PRIVATE KEY, for MicroMDM and other Go servers)',
        ).choices(['pkcs8', 'pkcs1']),
      )
      .option(
        '--force',
        'replace an existing file (by rename: a symbolic link there is replaced, not followed)',
        false,
      );
    return withHelp(command, {
      exitCodes: [
        [0, 'written'],
        ...COMMON_ERRORS,
        [69, 'the secret backend (keychain) is unavailable'],
        [73, 'cannot write the file (it exists: use --force)'],
        [77, 'wrong store passphrase'],
      ],
      examples: [
        'apns-cert export acme-prod --p12 acme-prod.p12 --password-file p12.pass',
        'apns-cert export acme-prod --p12 old-server.p12 --legacy',
        'apns-cert export acme-prod --p12 old-importer.p12 --iterations 10000',
        'apns-cert export acme-prod --pem /etc/mdm/push.pem',
        'apns-cert export acme-prod --pem /etc/micromdm/push.pem --key-format pkcs1',
        'apns-cert export acme-prod --pem push.crt --cert-only',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{
      p12?: string;
      pem?: string;
      certOnly: boolean;
      passwordFile?: string;
      legacy: boolean;
      iterations?: number;
      keyFormat?: 'pkcs1' | 'pkcs8';
      force: boolean;
    }>();
    return {
      name: command.processedArgs[0] as string,
      p12: o.p12,
      pem: o.pem,
      certOnly: o.certOnly,
      passwordFile: o.passwordFile,
      legacy: o.legacy,
      iterations: o.iterations,
      keyFormat: o.keyFormat,
      force: o.force,
    };
  },
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
    const { assertCanCreate, writeOutputFile } = await import('../io/files.js');
    const { decodeCertificateFile } = await import('../core/input.js');
    const path = (options.p12 ?? options.pem)!;
    const flag = options.p12 !== undefined ? '--p12' : '--pem';
    await assertCanCreate(path, { force: options.force, flag, store: deps.store });

    const index = await deps.store.readOrFail();
    const record = recordNamed(index, name);
    if (record === undefined)
      throw new AppError('NOT_FOUND', `export: no record "${name}" in the store ${deps.store.location}`, {
        hint: 'apns-cert list',
      });
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
      const key = await deps.store.privateKey(index, active.keyId);
      if (key.keyId !== cert.publicKeyId)
        throw new AppError('STORE_CORRUPT', `export ${name}: the stored key does not match the certificate`, {
          hint: `apns-cert show ${name}`,
        });
      let data: string | Buffer;
      if (password !== undefined) {
        const { encodePkcs12 } = await import('../core/pkcs12.js');
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
