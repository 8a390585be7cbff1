/**
 * MicroMDM's push certificate config (micromdm/micromdm):
 * - platform/config/server.go: PUT and GET /v1/config/certificate (gorilla mux: another method is 405).
 * - platform/config/save_push_certificate.go: PUT JSON {"cert": []byte, "key": []byte}, i.e. base64 of the PEM
 *   texts (Go's JSON []byte); answers 200 {} on success. The store (platform/config/builtin/db.go
 *   SavePushCertificate) saves the bytes unchecked; it is PushCertificate() that parses the key with
 *   x509.ParsePKCS1PrivateKey, so a PKCS#8 key is accepted by the PUT and then breaks the push service and every
 *   read-back (500 {"error": "...parse push certificate key..."}). mdmctl (cmd/mdmctl/mdmcert.go loadPushCerts)
 *   therefore always sends an "RSA PRIVATE KEY" (PKCS#1) block; so does this client.
 * - platform/config/get_push_certificate.go: GET → {"cert": base64(DER of the leaf)}.
 * - pkg/httputil/httputil.go ErrorEncoder: errors are {"error": "..."}, 500 unless the error carries a status.
 * - cmd/micromdm/serve.go: basic.AuthMiddleware("micromdm", apiKey, "micromdm").
 */
import { createPrivateKey } from 'node:crypto';
import { basicAuth, checkBaseUrl, exchange, failureOf, isSuccess, joinUrl, jsonOf, MDM_TIMEOUT_MS } from './http.js';
import type { CertificateMaterial, MdmEndpoint, MdmResult } from './http.js';
import type { MdmClient } from './nanomdm.js';
import { runningOfLeaf } from './running.js';

const PATH = '/v1/config/certificate';
const USER = 'micromdm';

/** The key as a PKCS#1 PEM (what MicroMDM parses), from PKCS#1 or PKCS#8; null when it is not an unencrypted RSA key. */
export function toPkcs1Pem(keyPem: string): string | null {
  try {
    const key = createPrivateKey({ key: keyPem, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') return null;
    return key.export({ type: 'pkcs1', format: 'pem' }).toString();
  } catch {
    return null;
  }
}

export const micromdm: MdmClient = {
  async upload(
    target: MdmEndpoint,
    material: CertificateMaterial,
    credential: string,
    timeoutMs = MDM_TIMEOUT_MS,
  ): Promise<MdmResult> {
    const base = checkBaseUrl(target.url);
    if (!(base instanceof URL)) return base;
    if (material.keyPem === undefined) return { kind: 'not-sent', cause: 'MicroMDM needs the private key' };
    const pkcs1 = toPkcs1Pem(material.keyPem);
    if (pkcs1 === null)
      return { kind: 'not-sent', cause: 'MicroMDM takes an unencrypted RSA key only, and this key is not one' };
    const auth = basicAuth(USER, credential);
    const secrets = [credential, auth];
    const body = JSON.stringify({
      cert: Buffer.from(material.certPem, 'utf8').toString('base64'),
      key: Buffer.from(pkcs1, 'utf8').toString('base64'),
    });
    const answer = await exchange({
      method: 'PUT',
      url: joinUrl(base, PATH),
      caPem: target.caPem,
      headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
      body: Buffer.from(body, 'utf8'),
      timeoutMs,
      secrets,
    });
    if (answer.kind !== 'answer') return answer;
    if (!isSuccess(answer.status)) return failureOf(answer, secrets);
    // The answer is {} (or {"err": ...} from older builds); it says nothing of what runs: read back for that.
    const json = jsonOf(answer.body);
    if (json !== null && typeof json.error === 'string') return failureOf({ ...answer, status: 500 }, secrets);
    return { kind: 'ok' };
  },

  async readBack(target: MdmEndpoint, credential: string, timeoutMs = MDM_TIMEOUT_MS): Promise<MdmResult> {
    const base = checkBaseUrl(target.url);
    if (!(base instanceof URL)) return base;
    const auth = basicAuth(USER, credential);
    const secrets = [credential, auth];
    const answer = await exchange({
      method: 'GET',
      url: joinUrl(base, PATH),
      caPem: target.caPem,
      headers: { authorization: auth, accept: 'application/json' },
      timeoutMs,
      secrets,
    });
    if (answer.kind !== 'answer') return answer;
    if (!isSuccess(answer.status)) return failureOf(answer, secrets);
    const json = jsonOf(answer.body);
    if (json === null) return { kind: 'bad-answer', cause: `HTTP ${answer.status} with a body that is not JSON` };
    if (json.cert === null || json.cert === undefined || json.cert === '') return { kind: 'ok' };
    if (typeof json.cert !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(json.cert))
      return { kind: 'bad-answer', cause: '"cert" is not base64' };
    const running = runningOfLeaf(Buffer.from(json.cert, 'base64'));
    if (running === null) return { kind: 'bad-answer', cause: '"cert" is not a DER certificate' };
    return { kind: 'ok', running };
  },
};
