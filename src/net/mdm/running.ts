import { parseCertificate } from '../../core/certificate.js';
import type { RunningCertificate } from './http.js';

/** Serial, expiry, topic and common name of a leaf certificate given as DER; null when it is not one. */
export function runningOfLeaf(der: Uint8Array): RunningCertificate | null {
  try {
    const info = parseCertificate(der, 'the server');
    const running: RunningCertificate = {
      serialNumber: info.serialNumber,
      notAfter: info.notAfter.toISOString(),
      leafDer: info.der,
    };
    if (info.topic !== null) running.topic = info.topic;
    const cn = info.subject.find((a) => a.type === 'CN')?.value;
    if (cn !== undefined) running.commonName = cn;
    return running;
  } catch {
    return null;
  }
}
