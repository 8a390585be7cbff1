/** Exit codes: sysexits(3) for errors, 1 for "a check came out negative". */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 64,
  dataErr: 65,
  noInput: 66,
  unavailable: 69,
  software: 70,
  cantCreate: 73,
  tempFail: 75,
  noPerm: 77,
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'USAGE'
  | 'BAD_INPUT'
  | 'FILE_MISSING'
  | 'NO_TOPIC'
  | 'KEY_MISMATCH'
  | 'NO_KEY'
  | 'ALREADY_IMPORTED'
  | 'EXPIRED'
  | 'TOPIC_CHANGED'
  | 'APPLE_ID_MISMATCH'
  | 'IN_USE'
  | 'STORE_CORRUPT'
  | 'STORE_BUSY'
  | 'STORE_UNSAFE'
  | 'NO_STORE'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'SECRETS_UNAVAILABLE'
  | 'SERVICE_UNAVAILABLE'
  | 'CREDENTIAL_REFUSED'
  | 'WRONG_PASSPHRASE'
  | 'WRONG_PASSWORD'
  | 'CANNOT_WRITE'
  | 'CANCELLED'
  | 'INTERNAL';

const exitCodeFor: Record<ErrorCode, ExitCodeValue> = {
  USAGE: ExitCode.usage,
  BAD_INPUT: ExitCode.dataErr,
  FILE_MISSING: ExitCode.noInput,
  NO_TOPIC: ExitCode.dataErr,
  KEY_MISMATCH: ExitCode.dataErr,
  NO_KEY: ExitCode.dataErr,
  ALREADY_IMPORTED: ExitCode.dataErr,
  EXPIRED: ExitCode.dataErr,
  TOPIC_CHANGED: ExitCode.checkFailed,
  APPLE_ID_MISMATCH: ExitCode.checkFailed,
  IN_USE: ExitCode.checkFailed,
  STORE_CORRUPT: ExitCode.dataErr,
  STORE_BUSY: ExitCode.tempFail,
  STORE_UNSAFE: ExitCode.noPerm,
  NO_STORE: ExitCode.dataErr,
  PERMISSION_DENIED: ExitCode.noPerm,
  NOT_FOUND: ExitCode.usage,
  SECRETS_UNAVAILABLE: ExitCode.unavailable,
  SERVICE_UNAVAILABLE: ExitCode.unavailable,
  CREDENTIAL_REFUSED: ExitCode.noPerm,
  WRONG_PASSPHRASE: ExitCode.noPerm,
  WRONG_PASSWORD: ExitCode.noPerm,
  CANNOT_WRITE: ExitCode.cantCreate,
  CANCELLED: ExitCode.cancelled,
  INTERNAL: ExitCode.software,
};

/**
 * The one error type of apns-cert. `message` reads "<action>: <cause>";
 * `hint` is a command the user can run; `details` are extra lines shown after the message.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    extra: { hint?: string | undefined; details?: readonly string[] | undefined; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'AppError';
    this.code = code;
    this.exitCode = exitCodeFor[code];
    this.hint = extra.hint;
    this.details = extra.details ?? [];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
