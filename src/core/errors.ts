/**
 * What core refuses, as data. Each error's message states the fact ("<action>: <cause>"); the command that
 * runs chooses the exit code and the hint (src/commands/shared/errors.ts), so core never names a command.
 */
export abstract class CoreError extends Error {
  abstract readonly kind: string;
}

/** Input that is not what it should be (empty, damaged, malformed); `source` is the file, when there is one. */
export class BadInput extends CoreError {
  readonly kind = 'bad-input';
  constructor(
    message: string,
    readonly source?: string,
  ) {
    super(message);
  }
}

/** A file that is something else than a certificate (a CSR, a .p12 where it is not read) or nothing known. */
export class NotACertificate extends CoreError {
  readonly kind = 'not-a-certificate';
  constructor(
    readonly source: string,
    readonly what: 'csr' | 'pkcs12' | 'unknown',
  ) {
    super(
      what === 'csr'
        ? `read ${source}: it is a certificate signing request (CSR), not a certificate`
        : what === 'pkcs12'
          ? `read ${source}: it is a PKCS#12 (.p12) file, which this command does not read`
          : `read ${source}: not a certificate (neither PEM nor DER)`,
    );
  }
}

/** An encrypted private key, in a certificate file or in a key file. */
export class EncryptedKey extends CoreError {
  readonly kind = 'encrypted-key';
  constructor(
    readonly source: string,
    readonly inCertificateFile: boolean,
  ) {
    super(`read ${source}: ${inCertificateFile ? 'its' : 'the'} private key is encrypted`);
  }
}

export class WrongPassword extends CoreError {
  readonly kind = 'wrong-password';
  constructor(readonly source: string) {
    super(`open ${source}: wrong .p12 password`);
  }
}

/** A .p12 whose key derivation asks for more than `limit` hash rounds. */
export class TooMuchWork extends CoreError {
  readonly kind = 'too-much-work';
  constructor(
    readonly source: string,
    readonly limit: number,
  ) {
    super(
      `open ${source}: its key derivation asks for too many iterations (over ${limit.toLocaleString('en-US')} hash rounds); refusing rather than spending minutes on it`,
    );
  }
}

export class WrongPassphrase extends CoreError {
  readonly kind = 'wrong-passphrase';
  constructor(
    readonly path: string,
    /** Older wraps cannot tell a wrong passphrase from a damaged file. */
    readonly orDamaged: boolean,
  ) {
    super(`unlock the store: wrong passphrase${orDamaged ? ` (or ${path} is damaged)` : ''}`);
  }
}

/** The store's index does not parse or validate. */
export class DamagedIndex extends CoreError {
  readonly kind = 'damaged-index';
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`read the store index ${path}: ${why}`);
  }
}

/** A sealed file of the store (a key file, the wrapped master key) that is damaged; `file` is its path. */
export class DamagedStoreFile extends CoreError {
  readonly kind = 'damaged-store-file';
  constructor(
    message: string,
    readonly file: string | undefined,
  ) {
    super(message);
  }
}

/** Text that is not valid UTF-8: `decoded` when it arrived decoded (U+FFFD in it), else raw bytes. */
export class NotUtf8 extends CoreError {
  readonly kind = 'not-utf8';
  constructor(
    readonly what: string,
    readonly decoded: boolean,
  ) {
    super(`read ${what}: it is not valid UTF-8`);
  }
}

export class BadName extends CoreError {
  readonly kind = 'bad-name';
  constructor(
    readonly value: string,
    readonly problem: string,
  ) {
    super(`use name "${value}": ${problem}`);
  }
}

/** A bad option value that core validates (thresholds, CSR subject); `option` is the flag, e.g. --country. */
export class BadOption extends CoreError {
  readonly kind = 'bad-option';
  constructor(
    message: string,
    readonly option: string,
  ) {
    super(message);
  }
}

export class NoTopic extends CoreError {
  readonly kind = 'no-topic';
  constructor(
    readonly source: string,
    readonly subject: string,
  ) {
    super(
      `import ${source}: the certificate has no APNs topic (no UID attribute in its subject "${subject}"); it is not a push certificate`,
    );
  }
}

export class AlreadyImported extends CoreError {
  readonly kind = 'already-imported';
  constructor(
    readonly source: string,
    /** The record that holds it. */
    readonly record: string,
  ) {
    super(`import ${source}: this certificate is already in the store as "${record}"`);
  }
}

/** The key does not match the certificate: the file's own key, or the pending key of record `pending.record`. */
export class KeyMismatch extends CoreError {
  readonly kind = 'key-mismatch';
  constructor(
    readonly source: string,
    /** `fleetTarget`: the pending CSR was Fleet's (a keyless renewal), made by that target. */
    readonly pending?: { record: string; createdAt: string; fleetTarget?: string },
  ) {
    super(
      pending === undefined
        ? `import ${source}: the private key in the file does not match its certificate`
        : pending.fleetTarget !== undefined
          ? `import ${source}: the certificate's public key is not the one in the CSR that the fleet target "${pending.fleetTarget}" of "${pending.record}" made (${pending.createdAt}); Fleet could not use it`
          : `import ${source}: the certificate's public key does not match the pending key of "${pending.record}" (created ${pending.createdAt})`,
    );
  }
}

export class NoMatchingRecord extends CoreError {
  readonly kind = 'no-matching-record';
  constructor(readonly source: string) {
    super(`import ${source}: no record in the store matches this certificate; name the new record`);
  }
}

export class Retired extends CoreError {
  readonly kind = 'retired';
  constructor(
    readonly source: string,
    readonly record: string,
    readonly retiredAt: string,
  ) {
    super(`import ${source}: "${record}" was retired on ${retiredAt}`);
  }
}

export class NoKey extends CoreError {
  readonly kind = 'no-key';
  constructor(readonly source: string) {
    super(
      `import ${source}: no private key for this certificate (no pending key in the store matches it and the file holds none)`,
    );
  }
}

export class KeyWithNoKey extends CoreError {
  readonly kind = 'key-with-no-key';
  /** `record`: the record whose key (pending or stored) is the certificate's; absent: the key is in the file. */
  constructor(
    readonly source: string,
    readonly record?: string,
  ) {
    super(
      `import ${source}: --no-key is for a certificate whose key is kept elsewhere, and ${record === undefined ? 'the file holds its key' : `the store holds its key (record "${record}")`}`,
    );
  }
}

export class Expired extends CoreError {
  readonly kind = 'expired';
  constructor(
    readonly source: string,
    readonly notAfter: Date,
  ) {
    super(`import ${source}: the certificate expired on ${notAfter.toISOString()}`);
  }
}

export class TopicChanged extends CoreError {
  readonly kind = 'topic-changed';
  constructor(
    readonly source: string,
    readonly record: string,
    readonly recorded: string,
    readonly found: string,
  ) {
    super(`import ${source}: the certificate's topic differs from the one on record for "${record}"`);
  }
}

export type DomainError =
  | BadInput
  | NotACertificate
  | EncryptedKey
  | WrongPassword
  | TooMuchWork
  | WrongPassphrase
  | DamagedIndex
  | DamagedStoreFile
  | NotUtf8
  | BadName
  | BadOption
  | NoTopic
  | AlreadyImported
  | KeyMismatch
  | NoMatchingRecord
  | Retired
  | NoKey
  | KeyWithNoKey
  | Expired
  | TopicChanged;

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof CoreError;
}
