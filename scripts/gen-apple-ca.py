#!/usr/bin/env python3
"""Regenerates src/core/apple-ca-bundle.ts from a folder of Apple CA PEMs named ca_apple-*.pem.
Usage: scripts/gen-apple-ca.py <folder with ca_apple-*.pem>"""
import os, sys

src = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/real'
files = sorted(f for f in os.listdir(src) if f.startswith('ca_apple-') and 'ist-' not in f)
out = ["/**\n * Apple's public CA certificates, bundled so that chains can be checked offline.\n * Source: Apple's published CA certificates (apple.com/certificateauthority), as copied in\n * indygreg/apple-platform-rs apple-codesign/src/apple-certs (see test/fixtures/real/SOURCES.md).\n * Regenerate with scripts/gen-apple-ca.py when Apple publishes a new intermediate.\n */\n",
       "export interface BundledCa {\n  file: string;\n  role: 'root' | 'intermediate';\n  pem: string;\n}\n\nexport const APPLE_CAS: readonly BundledCa[] = [\n"]
for f in files:
    pem = open(os.path.join(src, f)).read().strip()
    role = 'root' if 'root-ca' in f else 'intermediate'
    out.append("  {\n    file: '%s',\n    role: '%s',\n    pem: `%s\n`,\n  },\n" % (f, role, pem))
out.append("];\n")
open('src/core/apple-ca-bundle.ts', 'w').write(''.join(out))
print(f'{len(files)} CA certificates written to src/core/apple-ca-bundle.ts')
