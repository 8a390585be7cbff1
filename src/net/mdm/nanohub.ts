/**
 * NanoHUB (micromdm/nanohub cmd/nanohub/nanohub.go): NanoMDM's HandleAPIv1 mounted with
 * http.StripPrefix("/api/v1/nanomdm"), behind HTTP Basic user "nanohub" (password = -api key). Its go.mod pins
 * nanomdm v0.9.0, which has no GET /pushcert (see nanomdm.ts): a read-back then is `not-supported`.
 */
import { nanoMdmClient } from './nanomdm.js';
import type { MdmClient } from './nanomdm.js';

export const nanohub: MdmClient = nanoMdmClient({ path: '/api/v1/nanomdm/pushcert', user: 'nanohub' });
