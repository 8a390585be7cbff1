// Loaded with `node --import`: records every module URL the program resolves into $APNS_CERT_TRACE_FILE.
import { register } from 'node:module';

register('./trace-hooks.mjs', import.meta.url);
