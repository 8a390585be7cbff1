// Loaded with `node --require`: at exit, appends every file node loaded with require() (the bin, the vendor
// bundles, native bindings) to $APNS_CERT_TRACE_FILE.
const { appendFileSync } = require('node:fs');

process.on('exit', () => {
  if (process.env.APNS_CERT_TRACE_FILE)
    appendFileSync(process.env.APNS_CERT_TRACE_FILE, `${Object.keys(require.cache).join('\n')}\n`);
});
