/** Clients of the MDM servers `deploy` puts certificates on; every call resolves to an MdmResult, never throws. */
import { fleet } from './fleet.js';
import { micromdm } from './micromdm.js';
import { nanohub } from './nanohub.js';
import { nanomdm } from './nanomdm.js';
import type { MdmClient } from './nanomdm.js';

export type { CertificateMaterial, MdmEndpoint, MdmResult, RunningCertificate } from './http.js';
export { MDM_TIMEOUT_MS, MAX_MDM_ANSWER_BYTES } from './http.js';
export type { MdmClient } from './nanomdm.js';
export type { CsrResult } from './fleet.js';
export { fleet, micromdm, nanohub, nanomdm };

export const MDM_SERVER_KINDS = ['nanomdm', 'nanohub', 'micromdm', 'fleet'] as const;
export type MdmServerKind = (typeof MDM_SERVER_KINDS)[number];

export function mdmClient(kind: MdmServerKind): MdmClient {
  return { nanomdm, nanohub, micromdm, fleet }[kind];
}
