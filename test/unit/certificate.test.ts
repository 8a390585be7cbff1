import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import forge from 'node-forge';
import { describeCertificate } from '../../src/commands/inspect/run.js';
import { OID, parseCertificate } from '../../src/core/certificate.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { topicHash } from '../../src/core/topic.js';
import { REAL } from '../helpers/cli.js';
import { createFakeCa, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const read = (name: string) => readFileSync(join(REAL, name));
const leaf = (name: string) => decodeCertificateFile(read(name), name).certificates[0]!;

describe('parseCertificate on a certificate minted by the fake Apple CA', () => {
  const ca = createFakeCa();
  const { publicPem } = newKeyPem();
  const topic = mdmTopic('0c6b8e1a-1111-4222-8333-944455556666');
  const pem = issuePushCert(ca, {
    publicKeyPem: publicPem,
    topic,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    serial: '0a1b2c',
    country: 'CH',
  });
  const cert = decodeCertificateFile(Buffer.from(pem), 'minted.pem').certificates[0]!;

  it('reads the topic from the UID attribute and classifies it as MDM', () => {
    expect(cert.topic).toBe(topic);
    expect(cert.kind).toBe('mdm');
    expect(cert.topicHash).toBe(topicHash(topic));
  });
  it('reads serial, validity, subject and issuer', () => {
    expect(cert.serialNumber).toBe('0A1B2C');
    expect(cert.notBefore.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(cert.notAfter.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(cert.subject.map((a) => a.type)).toEqual(['UID', 'CN', 'C']);
    expect(cert.subject[1]!.value).toBe('APSP:0c6b8e1a-1111-4222-8333-944455556666');
    expect(cert.issuer[0]!.value).toBe('Apple Application Integration 2 Certification Authority');
    expect(cert.keyType).toBe('rsa');
    expect(cert.keySize).toBe(2048);
  });
  it('gives the same answer for PEM and DER', () => {
    const der = parseCertificate(cert.der, 'der');
    expect(der.fingerprintSha256).toBe(cert.fingerprintSha256);
    expect(decodeCertificateFile(cert.der, 'x.cer').certificates[0]!.topic).toBe(topic);
  });
  it('has no topic when the subject has no UID', () => {
    const noUid = issuePushCert(ca, {
      publicKeyPem: publicPem,
      topic: null,
      notBefore: new Date(0),
      notAfter: new Date('2030-01-01'),
    });
    const parsed = decodeCertificateFile(Buffer.from(noUid), 'n.pem').certificates[0]!;
    expect(parsed.topic).toBeNull();
    expect(parsed.kind).toBe('unknown');
  });
});

describe('every real certificate in the fixtures', () => {
  const cases: Array<[string, string | null, string, string]> = [
    [
      'mdm-push_abacus_APSP-51423b26_2018.pem',
      'com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
      'mdm',
      'Apple Application Integration 2 Certification Authority',
    ],
    [
      'mdm-push_abacus_APSP-51423b26_2020.pem',
      'com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
      'mdm',
      'Apple Application Integration 2 Certification Authority',
    ],
    [
      'mdm-push_nanomdm-e2e_APSP-e0bd1eac_2021.pem',
      'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9',
      'mdm',
      'Apple Application Integration 2 Certification Authority',
    ],
    [
      'app-push_com.td.demo_2015_development-ios.pem',
      'com.td.demo',
      'app',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'app-push_com.zuehlke.zwarm_2012_development-ios.pem',
      'com.zuehlke.zwarm',
      'app',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'app-push_ru.firstbit.bitmobile_2015_production-ios.pem',
      'ru.firstbit.bitmobile',
      'app',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'mdm-vendor_abacus_REVH4Q2Z39_2018.pem',
      null,
      'mdm-vendor',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    [
      'mdm-vendor_abacus_REVH4Q2Z39_2020.pem',
      null,
      'mdm-vendor',
      'Apple Worldwide Developer Relations Certification Authority',
    ],
    ['ca_apple-root-ca.pem', null, 'unknown', 'Apple Root CA'],
    ['ca_apple-application-integration-2-ca.pem', null, 'unknown', 'Apple Root CA'],
    ['ca_apple-wwdr-ca-g1.pem', null, 'unknown', 'Apple Root CA'],
    ['fake_pushy_single-topic-client.pem', 'com.eatthepath.pushy', 'app', 'PushyTestRoot'],
    ['fake_pushy_multi-topic-client.pem', 'com.eatthepath.pushy', 'app', 'PushyTestRoot'],
    ['fake_pushy_ca.pem', null, 'unknown', 'PushyTestRoot'],
    [
      'fake_micromdm_mock_push_cert.pem',
      'com.apple.mgmt.External.18a16429-886b-41f1-9c30-2bd04ae4fc37',
      'mdm',
      'APSP:17a16429-886b-41f1-8c90-3bd02ae9fc57',
    ],
    ['fake_micromdm_mock_push_cert_no_uid.pem', null, 'unknown', 'no.uid'],
    [
      'fake_micromdm_mock_push_cert_wrong_uid_prefix.pem',
      'wrong.prefix.18a16429-886b-41f1-9c30-2bd04ae4fc37',
      'unknown',
      'APSP:17a16429-886b-41f1-8c90-3bd02ae9fc57',
    ],
    [
      'fake_apns2_certificate-valid_cert.pem',
      null,
      'unknown',
      'APNS/2 Worldwide Developer Relations Certification Authority',
    ],
  ];
  it.each(cases)('%s: topic %s, kind %s', (file, topic, kind, issuerCn) => {
    const cert = leaf(file);
    expect(cert.topic).toBe(topic);
    expect(cert.kind).toBe(kind);
    expect(cert.issuer.find((a) => a.type === 'CN')?.value).toBe(issuerCn);
    expect(cert.notAfter.getTime()).toBeGreaterThan(cert.notBefore.getTime());
  });

  it('matches the dates, serial and fingerprint openssl reports for the 2020 MDM renewal', () => {
    const cert = leaf('mdm-push_abacus_APSP-51423b26_2020.pem');
    expect(cert.serialNumber).toBe('44D89E3DD8B013F2');
    expect(cert.notBefore.toISOString()).toBe('2020-02-05T07:52:48.000Z');
    expect(cert.notAfter.toISOString()).toBe('2021-02-04T07:52:48.000Z');
    expect(cert.topicHash).toBe('9b875e31fbdd0d01e4c7ceb9b41c284d0a143c83d14f8dded226a7fd10bf9c9d');
  });

  it('the real renewal pair keeps its topic and changes its key', () => {
    const a = leaf('mdm-push_abacus_APSP-51423b26_2018.pem');
    const b = leaf('mdm-push_abacus_APSP-51423b26_2020.pem');
    expect(a.topic).toBe(b.topic);
    expect(a.publicKeyId).not.toBe(b.publicKeyId);
    expect(a.serialNumber).not.toBe(b.serialNumber);
  });

  it('reads the Apple root with its published SHA-256 fingerprint', () => {
    expect(leaf('ca_apple-root-ca.pem').fingerprintSha256).toBe(
      'b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024',
    );
  });
});

describe('inspect says only what the certificate says', () => {
  it('a v1 MDM certificate (no extensions, so no 1.2.840.113635.100.6.3.2) has no environment, not "production"', async () => {
    const ca = createFakeCa();
    const cert = forge.pki.createCertificate();
    cert.version = 0; // X.509 v1: no extensions at all
    cert.publicKey = forge.pki.publicKeyFromPem(newKeyPem().publicPem);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
    cert.validity.notAfter = new Date('2027-01-01T00:00:00Z');
    cert.setSubject([
      { type: OID.uid, value: mdmTopic() },
      { name: 'commonName', value: 'APSP:v1' },
    ]);
    cert.setIssuer(ca.cert.subject.attributes);
    cert.sign(ca.key, forge.md.sha256.create());
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
    expect(der[4]).not.toBe(0xa0); // no explicit version field: v1
    const parsed = parseCertificate(der, 'v1.der');
    expect(parsed.kind).toBe('mdm');
    expect(parsed.extensionOids).toEqual([]);
    expect(parsed.environment).toBeNull();
    const now = new Date('2026-06-01T00:00:00Z');
    expect((await describeCertificate(parsed, now)).environment).toBeNull();
  });

  it('a real MDM push certificate states production in its extension', async () => {
    const cert = leaf('mdm-push_abacus_APSP-51423b26_2020.pem');
    expect(cert.extensionOids).toContain(OID.apnsProduction);
    expect((await describeCertificate(cert, new Date('2020-06-01'))).environment).toBe('production');
  });

  it.each(['mdm-vendor_abacus_REVH4Q2Z39_2018.pem', 'mdm-vendor_abacus_REVH4Q2Z39_2020.pem'])(
    'the real MDM vendor certificate %s is an mdm-vendor whose UID (its team ID) is no topic',
    async (file) => {
      const cert = leaf(file);
      expect(cert.extensionOids).toContain(OID.mdmVendor);
      expect(cert.uid).toBe('REVH4Q2Z39');
      expect(cert.topic).toBeNull();
      expect(cert.kind).toBe('mdm-vendor');
      const report = await describeCertificate(cert, new Date('2019-06-01'));
      expect(report).toMatchObject({ kind: 'mdm-vendor', uid: 'REVH4Q2Z39', topic: null, environment: null });
    },
  );

  it('no other real certificate carries the MDM vendor extension', () => {
    const others = readdirSync(REAL).filter(
      (f) => f.endsWith('.pem') && !f.startsWith('csr_') && !f.startsWith('mdm-vendor_'),
    );
    for (const file of others) expect(leaf(file).extensionOids, file).not.toContain(OID.mdmVendor);
  });
});
