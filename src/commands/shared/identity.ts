import { existsSync } from 'node:fs';
import { AppError } from '../../errors.js';
import type { CertificateInfo } from '../../core/certificate.js';
import { certificateInService, recordNamed } from '../../core/index-model.js';
import { validateName } from '../../core/names.js';
import { decodeCertificateFile } from '../../core/input.js';
import type { PrivateKeyInfo } from '../../core/keys.js';
import type { Deps } from '../kit.js';
import { keylessRefusal } from './keyless.js';
import { readCertificates } from './read-certificates.js';

export interface Identity {
  certificate: CertificateInfo;
  key: PrivateKeyInfo;
  /** The record name or the file it came from. */
  source: string;
}

/** The active certificate and key of a store record. */
export async function identityFromStore(name: string, deps: Deps): Promise<Identity> {
  const index = await deps.store.readOrFail();
  const record = recordNamed(index, name);
  const active = record === undefined ? undefined : certificateInService(record);
  if (active === undefined) {
    throw new AppError(
      'NOT_FOUND',
      `load "${name}": no active certificate by that name in the store ${deps.store.location}`,
      { hint: 'apns-cert list' },
    );
  }
  const certificate = decodeCertificateFile(Buffer.from(await deps.store.certificatePem(active)), active.file)
    .certificates[0]!;
  if (active.keyId === null) throw keylessRefusal(`load "${name}"`, name);
  const key = await deps.store.privateKey(index, active.keyId);
  return { certificate, key, source: name };
}

/** A store record by name, or a file (PEM with its key, or .p12) when a file of that name exists. */
export async function loadIdentity(
  nameOrFile: string,
  deps: Deps,
  opts: { passwordFile?: string | undefined } = {},
): Promise<Identity> {
  const isFile = nameOrFile === '-' || existsSync(nameOrFile);
  if (!isFile) return identityFromStore(validateName(nameOrFile), deps);
  const decoded = await readCertificates(nameOrFile, deps, opts);
  for (const key of decoded.privateKeys) {
    const certificate = decoded.certificates.find((c) => c.publicKeyId === key.keyId && c.topic !== null);
    if (certificate) return { certificate, key, source: nameOrFile };
  }
  throw new AppError('NO_KEY', `load ${nameOrFile}: the file holds no push certificate together with its private key`, {
    hint: `apns-cert export <name> --pem ${nameOrFile}   # or probe a store record by name`,
  });
}
