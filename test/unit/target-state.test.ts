/**
 * The classifier of what a target runs (src/core/target-state.ts), on certificates minted with a fixed clock:
 * the server's answer (serial and/or notAfter, topic or APSP common name) against the record's history.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifyRunning, matchHistory, serialKey, topicOfCommonName } from '../../src/core/target-state.js';
import type { HistoryEntry } from '../../src/core/target-state.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const ca = createFakeCa();
const key = newKeyPem();

function mint(topic: string, fromDays: number, toDays: number, active: boolean, serial?: string) {
  const pem = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic,
    notBefore: daysFrom(NOW, fromDays),
    notAfter: daysFrom(NOW, toDays),
    ...(serial !== undefined ? { serial } : {}),
  });
  const x = new X509Certificate(pem);
  const entry: HistoryEntry = {
    serialNumber: x.serialNumber,
    notAfter: new Date(x.validTo).toISOString(),
    topic,
    active,
  };
  const cn = /CN=([^\n]+)/.exec(x.subject)![1]!;
  return { entry, cn };
}

const topic = mdmTopic();
const formerTopic = mdmTopic();
const former = mint(formerTopic, -800, -400, false);
const old = mint(topic, -400, 30, false);
const active = mint(topic, -10, 355, true);
const history = [former.entry, old.entry, active.entry];
const stranger = mint(topic, -5, 360, false);
const otherTopic = mdmTopic();
const alien = mint(otherTopic, -5, 360, false);

describe('classifyRunning', () => {
  it('the active certificate by serial (Fleet, MicroMDM, a file) is current; leading zeros and case do not matter', () => {
    const r = classifyRunning(history, topic, { serialNumber: `00${active.entry.serialNumber.toLowerCase()}` });
    expect(r).toMatchObject({ state: 'current', topic, sameTopic: true, entry: active.entry });
  });

  it('by serial and notAfter together: a notAfter that disagrees is not the history entry (foreign)', () => {
    expect(
      classifyRunning(history, topic, { serialNumber: active.entry.serialNumber, notAfter: active.entry.notAfter })
        .state,
    ).toBe('current');
    expect(
      classifyRunning(history, topic, {
        serialNumber: active.entry.serialNumber,
        notAfter: daysFrom(NOW, 1).toISOString(),
      }).state,
    ).toBe('foreign');
  });

  it('NanoMDM (topic and not_after, no serial, RFC 3339 without milliseconds): current, then stale', () => {
    const seconds = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');
    expect(classifyRunning(history, topic, { topic, notAfter: seconds(active.entry.notAfter) }).state).toBe('current');
    const r = classifyRunning(history, topic, { topic, notAfter: seconds(old.entry.notAfter) });
    expect(r).toMatchObject({ state: 'stale', sameTopic: true, entry: old.entry });
  });

  it("a superseded certificate of the record's former topic is stale, with sameTopic false", () => {
    const r = classifyRunning(history, topic, { serialNumber: former.entry.serialNumber });
    expect(r).toMatchObject({ state: 'stale', topic: formerTopic, sameTopic: false });
  });

  it("a certificate outside the history is foreign: of the record's topic, of another, or of an unknown one", () => {
    expect(classifyRunning(history, topic, { serialNumber: stranger.entry.serialNumber, topic })).toMatchObject({
      state: 'foreign',
      sameTopic: true,
      entry: null,
    });
    // Fleet gives the common name only: APSP:<uuid> names the topic
    expect(
      classifyRunning(history, topic, { serialNumber: alien.entry.serialNumber, commonName: alien.cn }),
    ).toMatchObject({ state: 'foreign', topic: otherTopic, sameTopic: false });
    expect(
      classifyRunning(history, topic, { serialNumber: alien.entry.serialNumber, commonName: 'Some Other CA' }),
    ).toMatchObject({ state: 'foreign', topic: null, sameTopic: null });
  });

  it('NanoMDM answering an expiry of no history entry of that topic: foreign; of the other topic: not matched', () => {
    expect(classifyRunning(history, topic, { topic, notAfter: stranger.entry.notAfter }).state).toBe('foreign');
    // the same expiry as the active certificate, but another topic: not ours
    expect(classifyRunning(history, topic, { topic: otherTopic, notAfter: active.entry.notAfter })).toMatchObject({
      state: 'foreign',
      sameTopic: false,
    });
  });

  it('an answer with neither serial nor expiry matches nothing (never a false current)', () => {
    expect(classifyRunning(history, topic, { topic }).state).toBe('foreign');
  });

  it('two certificates of one topic with the same expiry: the superseded one is named, never current', () => {
    const twin = { ...active.entry, serialNumber: 'ABCDEF', active: false };
    expect(matchHistory([twin, active.entry], { topic, notAfter: active.entry.notAfter })).toBe(twin);
  });
});

describe('helpers', () => {
  it('serialKey and topicOfCommonName', () => {
    expect(serialKey('000a1B')).toBe('A1B');
    expect(topicOfCommonName('APSP:01234567-89ab-cdef-0123-456789abcdef')).toBe(
      'com.apple.mgmt.External.01234567-89ab-cdef-0123-456789abcdef',
    );
    expect(topicOfCommonName('APSP:nope')).toBeNull();
    expect(topicOfCommonName(undefined)).toBeNull();
  });
});
