import { describe, expect, it } from 'vitest';
import { certificateInService, isRenewable, newRecord, recordStatus } from '../../src/core/index-model.js';
import type { CertificateEntry, PushRecord } from '../../src/core/index-model.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const entry = (notAfter: string, status: CertificateEntry['status'] = 'active'): CertificateEntry => ({
  serialNumber: '01',
  fingerprintSha256: 'f'.repeat(64),
  notBefore: '2025-11-29T12:00:00.000Z',
  notAfter,
  importedAt: '2025-11-29T12:00:00.000Z',
  keyId: 'a'.repeat(64),
  status,
  file: `certs/${'f'.repeat(64)}.pem`,
});
const record = (certificates: CertificateEntry[], retiredAt: string | null = null): PushRecord => ({
  ...newRecord('acme', '2025-11-29T12:00:00.000Z'),
  topic: 'com.apple.mgmt.External.x',
  certificates,
  retiredAt,
});

describe('recordStatus', () => {
  it('is pending without a certificate, active or expired by the active one at now, retired over all', () => {
    expect(recordStatus(record([]), NOW)).toBe('pending');
    expect(recordStatus(record([entry('2026-11-29T12:00:00.001Z')]), NOW)).toBe('active');
    expect(recordStatus(record([entry('2026-11-29T12:00:00.000Z')]), NOW)).toBe('expired'); // notAfter <= now
    expect(recordStatus(record([entry('2027-01-01T00:00:00.000Z', 'superseded')]), NOW)).toBe('pending');
    expect(recordStatus(record([entry('2027-01-01T00:00:00.000Z')], '2026-11-01T00:00:00.000Z'), NOW)).toBe('retired');
  });

  it('a certificate is in service when active and the record not retired; only then is it renewable', () => {
    const live = record([entry('2020-01-01T00:00:00.000Z')]);
    expect(certificateInService(live)?.notAfter).toBe('2020-01-01T00:00:00.000Z'); // expired is still in service
    expect(isRenewable(live)).toBe(true);
    const retired = record(live.certificates, '2026-11-01T00:00:00.000Z');
    expect(certificateInService(retired)).toBeUndefined();
    expect(isRenewable(retired)).toBe(false);
    expect(isRenewable({ ...live, topic: null })).toBe(false);
  });
});
