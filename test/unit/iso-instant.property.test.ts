import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoInstant } from '../../src/commands/shared/options.js';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** The engine's own calendar as the oracle (years >= 100: Date.UTC maps 0-99 to 1900-1999). */
const engineDaysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
const refused = (value: string) => {
  try {
    isoInstant(value);
    return false;
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    return true;
  }
};

describe('--at: strict ISO-8601 (property)', () => {
  it('reads back every instant toISOString writes', () => {
    const instant = fc.date({
      min: new Date('1000-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instant, (date) => {
        expect(isoInstant(date.toISOString()).getTime()).toBe(date.getTime());
      }),
      { numRuns: 3000 },
    );
  });

  it('a calendar date is accepted exactly when the month has that day (no roll-over to the next month)', () => {
    const ymd = fc.tuple(
      fc.integer({ min: 100, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
    );
    fc.assert(
      fc.property(ymd, ([year, month, day]) => {
        const text = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
        const valid = month >= 1 && month <= 12 && day >= 1 && day <= engineDaysInMonth(year, month);
        if (valid) expect(isoInstant(text).getTime()).toBe(Date.UTC(year, month - 1, day));
        else expect(refused(text)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('a date and time with an offset is the instant the engine reads from it; out-of-range fields are refused', () => {
    const fields = fc.record({
      year: fc.integer({ min: 1970, max: 2100 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 61 }),
      second: fc.integer({ min: 0, max: 61 }),
      zone: fc.oneof(
        fc.constant('Z'),
        fc
          .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }))
          .map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`),
      ),
    });
    fc.assert(
      fc.property(fields, (f) => {
        const text = `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${f.zone}`;
        const zoneOk = f.zone === 'Z' || (Number(f.zone.slice(1, 3)) <= 23 && Number(f.zone.slice(4, 6)) <= 59);
        if (f.hour <= 23 && f.minute <= 59 && f.second <= 59 && zoneOk)
          expect(isoInstant(text).getTime()).toBe(Date.parse(text));
        else expect(refused(text)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('anything after a valid date that is not a time is refused (2027-06-01junk)', () => {
    const suffix = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith('T'));
    fc.assert(
      fc.property(suffix, (tail) => {
        expect(refused(`2027-06-01${tail}`)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('the cases of the report, and a time without a zone', () => {
    for (const bad of [
      '2027-02-30',
      '2027-06-01junk',
      '2026-02-29',
      '2027-06-01T12:00',
      '2027-6-1',
      ' 2027-06-01',
      '2027-06-01T24:00:00Z',
    ])
      expect(refused(bad), bad).toBe(true);
    expect(isoInstant('2028-02-29').toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(isoInstant('2027-01-31T12:00:00.5+02:00').toISOString()).toBe('2027-01-31T10:00:00.500Z');
  });
});
