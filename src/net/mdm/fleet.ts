/**
 * Fleet's APNs certificate API (fleetdm/fleet server/service/handler.go, server/service/apple_mdm.go):
 * - GET /api/v1/fleet/mdm/apple/request_csr (getMDMAppleCSREndpoint): Fleet makes the key and CSR itself, keeps
 *   the key in its database and answers {"csr": []byte} (base64 in JSON) of the request signed via fleetdm.com.
 * - POST /api/v1/fleet/mdm/apple/apns_certificate (uploadMDMAppleAPNSCertEndpoint): multipart form, file field
 *   "certificate" (a part with a filename: Go's ParseMultipartForm files only those under File; else 400
 *   "certificate multipart field is required"); the PEM must pair with Fleet's own key (tls.X509KeyPair), else
 *   fleet.NewInvalidArgumentError("certificate", "Invalid certificate. Please provide a valid certificate from
 *   Apple Push Certificate Portal.") = 422 {"message":"Validation Failed","errors":[{"name","reason"}]};
 *   success is 202 Accepted (uploadMDMAppleAPNSCertResponse.Status) with {}.
 * - GET /api/v1/fleet/apns (getAppleMDMEndpoint, = the deprecated GET /mdm/apple): {common_name, serial_number
 *   (big.Int.String(): decimal), issuer, renew_date (the leaf's NotAfter)}; 404 when none is set.
 * Auth: an API token as `Authorization: Bearer <token>`; a bad one is 401.
 */
import {
  checkBaseUrl,
  exchange,
  failureOf,
  isSuccess,
  joinUrl,
  jsonOf,
  MDM_TIMEOUT_MS,
  multipartFile,
} from './http.js';
import type { CertificateMaterial, MdmEndpoint, MdmResult, RunningCertificate } from './http.js';

const UPLOAD = '/api/v1/fleet/mdm/apple/apns_certificate';
const READ_BACK = '/api/v1/fleet/apns';
const REQUEST_CSR = '/api/v1/fleet/mdm/apple/request_csr';

export type CsrResult =
  /** The decoded bytes of "csr": the signed request Fleet made for its own key. */
  { kind: 'csr'; csr: Buffer } | Exclude<MdmResult, { kind: 'ok' }>;

function bearer(credential: string): { header: string; secrets: string[] } {
  const header = `Bearer ${credential}`;
  return { header, secrets: [credential, header] };
}

/** Fleet's decimal serial as uppercase hex (as openssl and src/core print it); null when not a decimal number. */
export function decimalSerialToHex(decimal: string): string | null {
  if (!/^\d{1,200}$/.test(decimal)) return null;
  const hex = BigInt(decimal).toString(16).toUpperCase();
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

async function get(target: MdmEndpoint, path: string, credential: string, timeoutMs: number) {
  const base = checkBaseUrl(target.url);
  if (!(base instanceof URL)) return { result: base };
  const { header, secrets } = bearer(credential);
  const answer = await exchange({
    method: 'GET',
    url: joinUrl(base, path),
    caPem: target.caPem,
    headers: { authorization: header, accept: 'application/json' },
    timeoutMs,
    secrets,
  });
  if (answer.kind !== 'answer') return { result: answer };
  if (!isSuccess(answer.status)) return { result: failureOf(answer, secrets) };
  const json = jsonOf(answer.body);
  if (json === null)
    return { result: { kind: 'bad-answer', cause: `HTTP ${answer.status} with a body that is not JSON` } as const };
  return { json };
}

export const fleet = {
  /** POST the certificate (no key: Fleet holds it). */
  async upload(
    target: MdmEndpoint,
    material: CertificateMaterial,
    credential: string,
    timeoutMs = MDM_TIMEOUT_MS,
  ): Promise<MdmResult> {
    const base = checkBaseUrl(target.url);
    if (!(base instanceof URL)) return base;
    const { header, secrets } = bearer(credential);
    const form = multipartFile('certificate', 'apns-cert.pem', 'application/x-pem-file', material.certPem);
    const answer = await exchange({
      method: 'POST',
      url: joinUrl(base, UPLOAD),
      caPem: target.caPem,
      headers: { authorization: header, 'content-type': form.contentType, accept: 'application/json' },
      body: form.body,
      timeoutMs,
      secrets,
    });
    if (answer.kind !== 'answer') return answer;
    return isSuccess(answer.status) ? { kind: 'ok' } : failureOf(answer, secrets);
  },

  async readBack(target: MdmEndpoint, credential: string, timeoutMs = MDM_TIMEOUT_MS): Promise<MdmResult> {
    const got = await get(target, READ_BACK, credential, timeoutMs);
    if (got.result !== undefined) return got.result;
    const json = got.json;
    const running: RunningCertificate = {};
    if (typeof json.common_name === 'string' && json.common_name !== '') running.commonName = json.common_name;
    if (typeof json.serial_number === 'string' && json.serial_number !== '') {
      const hex = decimalSerialToHex(json.serial_number);
      if (hex === null) return { kind: 'bad-answer', cause: 'serial_number is not a decimal number' };
      running.serialNumber = hex;
    }
    if (typeof json.renew_date === 'string') {
      const at = new Date(json.renew_date);
      if (Number.isNaN(at.getTime())) return { kind: 'bad-answer', cause: 'renew_date is not a time' };
      running.notAfter = at.toISOString();
    }
    if (running.serialNumber === undefined && running.notAfter === undefined)
      return { kind: 'bad-answer', cause: 'the answer has neither serial_number nor renew_date' };
    return { kind: 'ok', running };
  },

  /** Fleet's own CSR for its own key (renewal of a keyless record). */
  async requestCsr(target: MdmEndpoint, credential: string, timeoutMs = MDM_TIMEOUT_MS): Promise<CsrResult> {
    const got = await get(target, REQUEST_CSR, credential, timeoutMs);
    if (got.result !== undefined) {
      const result = got.result;
      return result.kind === 'ok' ? { kind: 'bad-answer', cause: 'no csr' } : result;
    }
    const csr = got.json.csr;
    if (typeof csr !== 'string' || csr === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(csr))
      return { kind: 'bad-answer', cause: '"csr" is not base64' };
    return { kind: 'csr', csr: Buffer.from(csr, 'base64') };
  },
};
