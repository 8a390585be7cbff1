import { describe, expect, it } from 'vitest';
import { DAY_MS, daysRemaining } from '../../src/core/expiry.js';
import { daysText } from '../../src/output/output.js';

const now = new Date('2027-03-10T12:00:00Z');
const notAfter = (daysFromNow: number) => new Date(now.getTime() + daysFromNow * DAY_MS);
const wording = (daysFromNow: number) => daysText(daysRemaining(notAfter(daysFromNow), now));

describe('days left / days ago: whole days, rounded down both ways', () => {
  it.each([
    [15.8, '15 days left'],
    [1.2, '1 day left'],
    [0.4, '0 days left'],
    [0, 'expired less than a day ago'],
    [-0.4, 'expired less than a day ago'],
    [-1, 'expired 1 day ago'],
    [-1.5, 'expired 1 day ago'],
    [-15, 'expired 15 days ago'],
    [-15.2, 'expired 15 days ago'],
    [-15.99, 'expired 15 days ago'],
  ])('notAfter %s days from now reads "%s"', (days, text) => {
    expect(wording(days)).toBe(text);
  });

  it('daysRemaining is negative exactly when notAfter has passed (notAfter <= now)', () => {
    expect(daysRemaining(notAfter(0.4), now)).toBe(0);
    expect(daysRemaining(notAfter(0), now)).toBe(-1);
    expect(daysRemaining(notAfter(-15.2), now)).toBe(-16);
  });
});
