/**
 * NanoMDM's push certificate API (micromdm/nanomdm):
 * - http/api/v1.go HandleAPIv1: /v1/pushcert, PUT = store, GET = retrieve (since #243, 2026-03-13, after v0.9.0);
 *   before that the store handler took every method, so a GET reached it with an empty body and got
 *   400 {"error":"tls: failed to find any PEM data in certificate input"}; a proxy may answer 405.
 * - http/api/pushcert.go NewStorePushCertHandler: body = PEM certificate + unencrypted PEM key (an encrypted one
 *   is 400 "private key PEM appears to be encrypted"), tls.X509KeyPair must pair them (400), answers 200
 *   {"topic","not_after"} (http/api/schema.go PushCertResponseJson); storage errors are 500 {"error"}.
 *   NewRetrievePushCertHandler: GET ?topic=<topic> (400 without it) → the same JSON; an unknown topic is a
 *   storage error (500).
 * - cmd/nanomdm/main.go: HTTP Basic, user "nanomdm", password = the -api key.
 * Storage is per topic (storage/file/pushcert.go: <topic>.pem): a new topic adds a certificate beside the old.
 */
import { basicAuth, checkBaseUrl, exchange, failureOf, isSuccess, joinUrl, jsonOf, MDM_TIMEOUT_MS } from './http.js';
import type { Answer, CertificateMaterial, MdmEndpoint, MdmResult, RunningCertificate } from './http.js';

/** What an old NanoMDM (or NanoHUB on nanomdm ≤ v0.9.0) says to a GET: its PUT handler saw no PEM. */
const OLD_SERVER_GET_ERROR = 'failed to find any PEM data';

export interface NanoMdmFlavour {
  /** Path of the pushcert handler under the base URL. */
  path: string;
  /** HTTP Basic user name. */
  user: string;
}

export const NANOMDM: NanoMdmFlavour = { path: '/v1/pushcert', user: 'nanomdm' };

function runningOf(answer: Answer): MdmResult {
  const json = jsonOf(answer.body);
  if (json === null) return { kind: 'bad-answer', cause: `HTTP ${answer.status} with a body that is not JSON` };
  const running: RunningCertificate = {};
  if (typeof json.topic === 'string' && json.topic !== '') running.topic = json.topic;
  if (typeof json.not_after === 'string') {
    const at = new Date(json.not_after);
    if (Number.isNaN(at.getTime())) return { kind: 'bad-answer', cause: 'not_after is not an RFC 3339 time' };
    running.notAfter = at.toISOString();
  }
  if (running.topic === undefined && running.notAfter === undefined)
    return { kind: 'bad-answer', cause: 'the answer has neither topic nor not_after' };
  return { kind: 'ok', running };
}

export function nanoMdmClient(flavour: NanoMdmFlavour) {
  return {
    /** PUT <url><path> with the certificate and key PEMs, one after the other. */
    async upload(
      target: MdmEndpoint,
      material: CertificateMaterial,
      credential: string,
      timeoutMs = MDM_TIMEOUT_MS,
    ): Promise<MdmResult> {
      const base = checkBaseUrl(target.url);
      if (!(base instanceof URL)) return base;
      if (material.keyPem === undefined) return { kind: 'not-sent', cause: 'this server needs the private key' };
      const auth = basicAuth(flavour.user, credential);
      const secrets = [credential, auth];
      const cert = material.certPem.endsWith('\n') ? material.certPem : `${material.certPem}\n`;
      const answer = await exchange({
        method: 'PUT',
        url: joinUrl(base, flavour.path),
        caPem: target.caPem,
        headers: { authorization: auth, 'content-type': 'application/x-pem-file', accept: 'application/json' },
        body: Buffer.from(`${cert}${material.keyPem}`, 'utf8'),
        timeoutMs,
        secrets,
      });
      if (answer.kind !== 'answer') return answer;
      return isSuccess(answer.status) ? runningOf(answer) : failureOf(answer, secrets);
    },

    /** GET <url><path>?topic=<topic>: the topic and expiry the server holds for that topic. */
    async readBack(
      target: MdmEndpoint,
      credential: string,
      timeoutMs = MDM_TIMEOUT_MS,
      topic?: string,
    ): Promise<MdmResult> {
      const base = checkBaseUrl(target.url);
      if (!(base instanceof URL)) return base;
      if (topic === undefined || topic === '')
        return { kind: 'not-sent', cause: 'this server reads back by topic, and no topic was given' };
      const auth = basicAuth(flavour.user, credential);
      const secrets = [credential, auth];
      const answer = await exchange({
        method: 'GET',
        url: joinUrl(base, flavour.path, { topic }),
        caPem: target.caPem,
        headers: { authorization: auth, accept: 'application/json' },
        timeoutMs,
        secrets,
      });
      if (answer.kind !== 'answer') return answer;
      if (isSuccess(answer.status)) return runningOf(answer);
      if (answer.status === 405 || (answer.status === 400 && answer.body.includes(OLD_SERVER_GET_ERROR)))
        return { kind: 'not-supported', status: answer.status };
      return failureOf(answer, secrets);
    },
  };
}

export type MdmClient = ReturnType<typeof nanoMdmClient>;

export const nanomdm: MdmClient = nanoMdmClient(NANOMDM);
