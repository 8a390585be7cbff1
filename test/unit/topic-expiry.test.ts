import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { classifyExpiry, daysRemaining, evaluateExpiry, worst, worstOfIsoDates } from '../../src/core/expiry.js';
import { addThresholdOptions, thresholds } from '../../src/commands/shared/options.js';
import { appleIdMatches, hashAppleId, topicHash } from '../../src/core/topic.js';
import { AppError } from '../../src/errors.js';

describe('topicHash', () => {
  it('is the SHA-256 of the UTF-8 topic, as sha256sum prints it', () => {
    const topic = 'com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc';
    const expected = execFileSync('sha256sum', { input: topic }).toString().split(' ')[0];
    expect(topicHash(topic)).toBe(expected);
    expect(topicHash('com.exämple.app')).toBe(
      execFileSync('sha256sum', { input: Buffer.from('com.exämple.app', 'utf8') })
        .toString()
        .split(' ')[0],
    );
  });
});

describe('Apple ID hash', () => {
  it('matches the same ID after trimming and lower-casing, and never contains it', () => {
    const stored = hashAppleId('  Admin@Example.com ');
    expect(stored).not.toContain('admin');
    expect(stored.startsWith('scrypt$')).toBe(true);
    expect(appleIdMatches('admin@example.com', stored)).toBe(true);
    expect(appleIdMatches('other@example.com', stored)).toBe(false);
  });
  it('is salted: two hashes of one ID differ', () => {
    expect(hashAppleId('a@b.c')).not.toBe(hashAppleId('a@b.c'));
  });
  it('rejects a malformed stored hash instead of throwing', () => {
    expect(appleIdMatches('a@b.c', 'plain-text')).toBe(false);
    expect(appleIdMatches('a@b.c', 'scrypt$99999999$8$1$AA==$AA==')).toBe(false);
  });
});

describe('expiry', () => {
  const now = new Date('2026-11-29T12:00:00Z');
  const t = { warnDays: 30, criticalDays: 7 };
  const at = (days: number) => new Date(now.getTime() + days * 86_400_000);

  it('classifies against the thresholds like openssl -checkend', () => {
    expect(classifyExpiry(at(31), now, t)).toBe('ok');
    expect(classifyExpiry(at(30), now, t)).toBe('ok');
    expect(classifyExpiry(at(29.99), now, t)).toBe('warning');
    expect(classifyExpiry(at(7), now, t)).toBe('warning');
    expect(classifyExpiry(at(6.5), now, t)).toBe('critical');
    expect(classifyExpiry(at(-1), now, t)).toBe('critical');
    expect(classifyExpiry(now, now, { warnDays: 0, criticalDays: 0 })).toBe('critical');
  });
  it('counts whole days left, negative once expired', () => {
    expect(daysRemaining(at(6.5), now)).toBe(6);
    expect(daysRemaining(at(-0.5), now)).toBe(-1);
  });
  it('sorts worst first, then soonest', () => {
    const results = evaluateExpiry(
      [
        { name: 'a', source: 'a', topic: null, notAfter: at(100), owner: null, note: null },
        { name: 'b', source: 'b', topic: null, notAfter: at(20), owner: null, note: null },
        { name: 'c', source: 'c', topic: null, notAfter: at(-3), owner: null, note: null },
        { name: 'd', source: 'd', topic: null, notAfter: at(2), owner: null, note: null },
      ],
      now,
      t,
    );
    expect(results.map((r) => r.name)).toEqual(['c', 'd', 'b', 'a']);
    expect(worst(results.map((r) => r.status))).toBe('critical');
    expect(worst([])).toBe('ok');
    expect(worst(['ok', 'unknown', 'critical'])).toBe('unknown');
  });
  it('refuses thresholds that make no sense (the one parser of every command with thresholds)', () => {
    const parsed = (...args: string[]) => {
      const command = addThresholdOptions(new Command('doctor'), { warn: 'warn', critical: 'fail' })
        .exitOverride()
        .configureOutput({ writeErr: () => {} });
      return thresholds(command.parse(args, { from: 'user' }));
    };
    expect(() => parsed('--warn-days', '5', '--critical-days', '10')).toThrow(AppError);
    expect(() => parsed('--warn-days', '5', '--critical-days', '10')).toThrow(
      expect.objectContaining({ hint: 'apns-cert doctor --warn-days 30 --critical-days 7' }),
    );
    expect(() => parsed('--warn-days', '-1', '--critical-days', '0')).toThrow(/whole number/);
    expect(() => parsed('--warn-days', 'abc')).toThrow(/whole number/);
    expect(parsed()).toEqual({ warnDays: 30, criticalDays: 7 });
    expect(parsed('--warn-days', '7', '--critical-days', '7')).toEqual({ warnDays: 7, criticalDays: 7 });
  });
});

describe('worstOfIsoDates (check-expiry -q over a whole store)', () => {
  const now = new Date('2026-06-01T12:00:00.000Z');
  const t = { warnDays: 30, criticalDays: 7 };
  const iso = (days: number, ms = 0) => new Date(now.getTime() + days * 86_400_000 + ms).toISOString();

  it('is the worst of classifying each, for any dates toISOString writes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -400 * 86_400_000, max: 400 * 86_400_000 }), { minLength: 1 }),
        (offsets) => {
          const dates = offsets.map((ms) => new Date(now.getTime() + ms).toISOString());
          expect(worstOfIsoDates(dates, now, t)).toBe(worst(dates.map((d) => classifyExpiry(new Date(d), now, t))));
        },
      ),
    );
    expect(worstOfIsoDates([iso(100), iso(20), iso(300)], now, t)).toBe('warning');
    expect(worstOfIsoDates([iso(100), iso(6, 999), iso(300)], now, t)).toBe('critical');
  });

  it('null for no dates, or one in another form (without milliseconds, a year past 9999, not a date): classify each', () => {
    expect(worstOfIsoDates([], now, t)).toBeNull();
    expect(worstOfIsoDates([iso(100), '2026-06-02T00:00:00Z'], now, t)).toBeNull();
    expect(worstOfIsoDates([iso(100), '+010000-01-01T00:00:00.000Z'], now, t)).toBeNull();
    expect(worstOfIsoDates(['2026-06-02T00:00:69.000Z'], now, t)).toBeNull();
  });
});
