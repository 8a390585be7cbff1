import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/secrets/keychain.js';
import { AppError } from '../../src/errors.js';

describe('keychain timeout', () => {
  it('turns a call that never answers into exit 69', async () => {
    const never = new Promise<never>(() => undefined);
    const error = await withTimeout(never, 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).exitCode).toBe(69);
    expect((error as AppError).message).toMatch(/did not answer within/);
  });
  it('passes an answer through', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000)).resolves.toBe(42);
  });
});
