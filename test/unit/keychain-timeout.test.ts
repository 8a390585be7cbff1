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
    let abandoned = false;
    await expect(withTimeout(Promise.resolve(42), 1000, () => (abandoned = true))).resolves.toBe(42);
    expect(abandoned).toBe(false);
  });
  it('abandons the work when the time is up (the keychain process is killed)', async () => {
    let abandoned = false;
    await withTimeout(new Promise<never>(() => undefined), 20, () => (abandoned = true)).catch(() => undefined);
    expect(abandoned).toBe(true);
  });
});
