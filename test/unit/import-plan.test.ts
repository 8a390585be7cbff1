import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emptyIndex, newRecord } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { planImport as plainPlanImport } from '../../src/core/import-plan.js';
import type { ImportRequest } from '../../src/core/import-plan.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { hashAppleId } from '../../src/core/topic.js';
import type { AppError } from '../../src/errors.js';
import { userError } from '../../src/commands/shared/errors.js';
import { AlreadyImported, Expired, KeyMismatch, NoTopic, Retired, TopicChanged } from '../../src/core/errors.js';
import { codeOf } from '../helpers/errors.js';
import { asWritten, readLazily } from '../helpers/lazy-index.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const ca = createFakeCa();
const TOPIC = mdmTopic();

function mint(topic: string | null, days = 365, notBeforeDays = -1) {
  const key = newKeyPem();
  const pem = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic,
    notBefore: daysFrom(NOW, notBeforeDays),
    notAfter: daysFrom(NOW, days),
  });
  const info = describePrivateKey(createPrivateKey(key.privatePem));
  return { pem, key, keyId: info.keyId };
}

function request(pem: string, extra: Partial<ImportRequest> = {}): ImportRequest {
  return {
    decoded: decodeCertificateFile(Buffer.from(pem), 'apple.pem'),
    source: 'apple.pem',
    allowNewTopic: false,
    allowExpired: false,
    now: NOW,
    certificateFile: (fingerprint) => `certs/${fingerprint}.pem`,
    ...extra,
  };
}

function withPending(
  name: string,
  keyId: string,
  base: StoreIndex = emptyIndex('store-1', 'passphrase', NOW),
): StoreIndex {
  const index = structuredClone(base);
  const existing = index.records[name];
  index.records[name] = existing
    ? { ...existing, pendingKey: { keyId, createdAt: NOW.toISOString(), csrPath: null } }
    : { ...newRecord(name, NOW.toISOString()), pendingKey: { keyId, createdAt: NOW.toISOString(), csrPath: null } };
  return index;
}

/**
 * Every case on a plain index, and on the same index as a change of the file store reads it (its records parsed as
 * they are read, the scans looking only at records whose text names what they look for): the plan's index as
 * written must be the same.
 */
const MODES: Array<[string, typeof plainPlanImport]> = [
  ['a plain index', plainPlanImport],
  [
    'an index read a record at a time',
    (index, req) => {
      const plan = plainPlanImport(readLazily(index), req);
      return { ...plan, index: asWritten(plan.index) };
    },
  ],
];

describe.each(MODES)('planImport (%s)', (_, planImport) => {
  const first = mint(TOPIC, 365);
  const start = withPending('acme', first.keyId);
  const firstPlan = planImport(
    start,
    request(first.pem, { appleId: { plain: 'admin@acme.example', hash: hashAppleId('admin@acme.example') } }),
  );

  it('records topic, topic hash and Apple ID hash on the first import, and clears the pending key', () => {
    const record = firstPlan.index.records.acme!;
    expect(firstPlan.keySource).toBe('pending');
    expect(record.topic).toBe(TOPIC);
    expect(record.topicHash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.appleIdHash).toMatch(/^scrypt\$/);
    expect(record.pendingKey).toBeNull();
    expect(record.certificates).toHaveLength(1);
    expect(record.certificates[0]!.status).toBe('active');
    expect(start.records.acme!.pendingKey).not.toBeNull(); // the input index is not mutated
  });

  it('leaves the index it is given as it was, also where it changes other records (copy on write)', () => {
    const renewal = mint(TOPIC, 730);
    const given = withPending('other', renewal.keyId, withPending('acme', renewal.keyId, firstPlan.index));
    const before = structuredClone(given);
    const plan = planImport(given, request(renewal.pem, { name: 'acme' }));
    expect(given).toEqual(before);
    expect(plan.index.records.acme!.pendingKey).toBeNull();
    expect(plan.index.records.other!.pendingKey).toBeNull(); // the same key was pending there too
    expect(plan.index.records.acme!.certificates.map((c) => c.status)).toEqual(['superseded', 'active']);
  });

  it('finds the record by its pending key when no name is given', () => {
    expect(planImport(start, request(first.pem)).name).toBe('acme');
  });

  it('treats a later certificate with the same topic as a renewal: old one superseded', () => {
    const renewal = mint(TOPIC, 730);
    const plan = planImport(
      withPending('acme', renewal.keyId, firstPlan.index),
      request(renewal.pem, { name: 'acme' }),
    );
    expect(plan.previous?.serialNumber).toBe(firstPlan.entry.serialNumber);
    expect(plan.index.records.acme!.certificates.map((c) => c.status)).toEqual(['superseded', 'active']);
    expect(plan.warnings).toEqual([]);
    expect(plan.replacedTopic).toBeNull();
  });

  it('refuses a renewal with another topic (exit 1) unless --allow-new-topic', () => {
    const otherTopic = mdmTopic();
    const other = mint(otherTopic, 730);
    const index = withPending('acme', other.keyId, firstPlan.index);
    let thrown: unknown;
    try {
      planImport(index, request(other.pem, { name: 'acme' }));
    } catch (e) {
      thrown = e;
    }
    // core says what differs, as data; the command's mapper says it to the user
    expect(thrown).toBeInstanceOf(TopicChanged);
    expect(thrown).toMatchObject({ source: 'apple.pem', record: 'acme', recorded: TOPIC, found: otherTopic });
    const error = userError(thrown, 'import') as AppError;
    expect(error.code).toBe('TOPIC_CHANGED');
    expect(error.exitCode).toBe(1);
    expect(error.details.join('\n')).toContain(TOPIC);
    expect(error.details.join('\n')).toContain(otherTopic);
    expect(error.hint).toBe(
      'apns-cert import apple.pem --name acme --allow-new-topic   # only if every device will re-enroll',
    );
    const allowed = planImport(index, request(other.pem, { name: 'acme', allowNewTopic: true }));
    expect(allowed.index.records.acme!.topic).not.toBe(TOPIC);
    expect(allowed.replacedTopic).toBe(TOPIC);
    expect(allowed.warnings.join()).toMatch(/re-enroll/);
    expect(firstPlan.replacedTopic).toBeNull();
  });

  it('warns when the new certificate does not expire later than the active one', () => {
    const shorter = mint(TOPIC, 100);
    const plan = planImport(
      withPending('acme', shorter.keyId, firstPlan.index),
      request(shorter.pem, { name: 'acme' }),
    );
    expect(plan.warnings.join()).toMatch(/no later than/);
  });

  it('warns when the Apple ID differs from the recorded one', () => {
    const renewal = mint(TOPIC, 730);
    const plan = planImport(
      withPending('acme', renewal.keyId, firstPlan.index),
      request(renewal.pem, {
        name: 'acme',
        appleId: { plain: 'intern@acme.example', hash: hashAppleId('intern@acme.example') },
      }),
    );
    expect(plan.warnings.join()).toMatch(/Apple ID/);
  });

  it('refuses: no topic, a key that does not match, no key, already imported, expired', () => {
    const noTopic = mint(null);
    expect(codeOf(() => planImport(withPending('x', noTopic.keyId), request(noTopic.pem)))).toBe('NO_TOPIC');
    const stranger = mint(TOPIC);
    expect(codeOf(() => planImport(start, request(stranger.pem, { name: 'acme' })))).toBe('KEY_MISMATCH');
    expect(codeOf(() => planImport(emptyIndex('s', 'passphrase', NOW), request(stranger.pem)))).toBe('NO_KEY');
    expect(codeOf(() => planImport(firstPlan.index, request(first.pem)))).toBe('ALREADY_IMPORTED');
    const expired = mint(TOPIC, -1, -400);
    expect(codeOf(() => planImport(withPending('old', expired.keyId), request(expired.pem)))).toBe('EXPIRED');
    expect(planImport(withPending('old', expired.keyId), request(expired.pem, { allowExpired: true })).name).toBe(
      'old',
    );
  });

  it('refusals carry their data: the record, the dates, the pending key', () => {
    const thrown = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('expected a refusal');
    };
    const noTopic = mint(null);
    const e1 = thrown(() => planImport(withPending('x', noTopic.keyId), request(noTopic.pem)));
    expect(e1).toBeInstanceOf(NoTopic);
    expect((e1 as NoTopic).subject).toMatch(/CN=/);
    const e2 = thrown(() => planImport(firstPlan.index, request(first.pem)));
    expect(e2).toBeInstanceOf(AlreadyImported);
    expect(e2).toMatchObject({ source: 'apple.pem', record: 'acme' });
    const stranger = mint(TOPIC);
    const e3 = thrown(() => planImport(start, request(stranger.pem, { name: 'acme' })));
    expect(e3).toBeInstanceOf(KeyMismatch);
    expect((e3 as KeyMismatch).pending).toEqual({ record: 'acme', createdAt: NOW.toISOString() });
    const expired = mint(TOPIC, -1, -400);
    const e4 = thrown(() => planImport(withPending('old', expired.keyId), request(expired.pem)));
    expect(e4).toBeInstanceOf(Expired);
    expect((e4 as Expired).notAfter).toEqual(daysFrom(NOW, -1));
    const retired = structuredClone(firstPlan.index);
    retired.records.acme!.retiredAt = NOW.toISOString();
    const renewal = mint(TOPIC, 730);
    const e5 = thrown(() => planImport(withPending('acme', renewal.keyId, retired), request(renewal.pem)));
    expect(e5).toBeInstanceOf(Retired);
    expect(e5).toMatchObject({ record: 'acme', retiredAt: NOW.toISOString() });
    expect((userError(e5, 'import') as AppError).hint).toMatch(/^apns-cert retire acme --purge --yes/);
  });

  it("takes the key from the file when the PEM holds it, and refuses a key that is not the certificate's", () => {
    const withKey = mint(mdmTopic());
    const plan = planImport(
      emptyIndex('s', 'passphrase', NOW),
      request(withKey.pem + withKey.key.privatePem, { name: 'legacy' }),
    );
    expect(plan.keySource).toBe('file');
    expect(plan.fileKey?.keyId).toBe(withKey.keyId);
    expect(plan.isNewRecord).toBe(true);
    const wrongKey = newKeyPem().privatePem;
    expect(
      codeOf(() => planImport(emptyIndex('s', 'passphrase', NOW), request(withKey.pem + wrongKey, { name: 'legacy' }))),
    ).toBe('KEY_MISMATCH');
    expect(
      codeOf(() => planImport(emptyIndex('s', 'passphrase', NOW), request(withKey.pem + withKey.key.privatePem))),
    ).toBe('USAGE');
  });
});
