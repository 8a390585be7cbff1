/**
 * sameJson, which a PostgreSQL change uses to tell a record it changed from one whose stored text merely differs
 * (written by another build, or by hand): it must agree with what JSON.stringify makes of the two values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameJson } from '../../src/core/same-json.js';

/** JSON.stringify with object keys sorted: equal exactly when the two values are the same JSON. */
function canonical(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, 1, -1, '', 'a', 'active'),
    fc.string({ maxLength: 4 }),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'status', 'notAfter', ''), fc.oneof(tie('value'), fc.constant(undefined)), {
      maxKeys: 4,
    }),
  ),
})).value;

describe('sameJson', () => {
  it('agrees with JSON.stringify (keys in any order, undefined properties absent)', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameJson(a, b)).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('a value and its JSON round trip, and a copy with one leaf changed', () => {
    fc.assert(
      fc.property(json, (a) => {
        const copy: unknown = JSON.parse(JSON.stringify([a]))[0];
        expect(sameJson(a, copy)).toBe(true);
        expect(sameJson({ x: a }, { x: a, y: 1 })).toBe(false);
        expect(sameJson([a], [a, null])).toBe(false);
      }),
    );
  });

  it('what a change does to a record is seen', () => {
    const record = { name: 'acme', certificates: [{ status: 'active', notAfter: '2027-01-01T00:00:00.000Z' }] };
    const stored = JSON.parse(JSON.stringify(record)) as typeof record;
    expect(sameJson(record, stored)).toBe(true);
    record.certificates[0]!.status = 'superseded';
    expect(sameJson(record, stored)).toBe(false);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameJson([], {})).toBe(false);
  });
});
