#!/usr/bin/env python3
"""Regenerates src/core/apple-ca-bundle.ts from a folder of Apple CA PEMs named ca_apple-*.pem.
Each entry has the certificate's DER (base64) and its subject as formatName() writes it, so that finding a
CA by name parses nothing (test/unit/apple-formats.test.ts checks the subjects against the parser).
Usage: scripts/gen-apple-ca.py <folder with ca_apple-*.pem>"""
import base64, os, sys

SHORT = {'2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.7': 'L', '2.5.4.8': 'ST',
         '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.1': 'UID'}


def tlv(b, i):
    """(tag, value start, value end) of the DER TLV at i."""
    tag, length, start = b[i], b[i + 1], i + 2
    if length & 0x80:
        n = length & 0x7f
        length, start = int.from_bytes(b[start:start + n], 'big'), start + n
    return tag, start, start + length


def children(b, parent):
    out, i = [], parent[1]
    while i < parent[2]:
        out.append(tlv(b, i))
        i = out[-1][2]
    return out


def oid(v):
    parts, acc = [], 0
    for byte in v:
        acc = acc * 128 + (byte & 0x7f)
        if not byte & 0x80:
            parts.extend([min(acc // 40, 2), acc - min(acc // 40, 2) * 40] if not parts else [acc])
            acc = 0
    return '.'.join(map(str, parts))


def subject(der):
    tbs = children(der, tlv(der, 0))[0]
    parts = children(der, tbs)
    name = parts[(1 if parts[0][0] == 0xa0 else 0) + 4]
    attrs = []
    for rdn in children(der, name):
        for atv in children(der, rdn):
            o, v = children(der, atv)[:2]
            text = der[v[1]:v[2]].decode('utf-16-be' if v[0] == 0x1e else 'utf-8')
            key = oid(der[o[1]:o[2]])
            attrs.append(f'{SHORT.get(key, key)}={text}')
    return ', '.join(attrs)


src = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/real'
files = sorted(f for f in os.listdir(src) if f.startswith('ca_apple-') and 'ist-' not in f)
out = ["/**\n * Apple's public CA certificates, bundled so that chains can be checked offline.\n * Source: Apple's published CA certificates (apple.com/certificateauthority), as copied in\n * indygreg/apple-platform-rs apple-codesign/src/apple-certs (see test/fixtures/real/SOURCES.md).\n * Regenerate with scripts/gen-apple-ca.py when Apple publishes a new intermediate.\n */\n",
       "export interface BundledCa {\n  file: string;\n  role: 'root' | 'intermediate';\n  /** The subject, as formatName() writes it. */\n  subject: string;\n  /** The certificate's DER, base64 (the PEM body without its armor and line breaks). */\n  der: string;\n}\n\nexport const APPLE_CAS: readonly BundledCa[] = [\n"]
for f in files:
    lines = open(os.path.join(src, f)).read().strip().splitlines()
    assert lines[0] == '-----BEGIN CERTIFICATE-----' and lines[-1] == '-----END CERTIFICATE-----', f
    b64 = ''.join(line.strip() for line in lines[1:-1])
    role = 'root' if 'root-ca' in f else 'intermediate'
    name = subject(base64.b64decode(b64)).replace('\\', '\\\\').replace("'", "\\'")
    out.append("  {\n    file: '%s',\n    role: '%s',\n    subject: '%s',\n    der: '%s',\n  },\n" % (f, role, name, b64))
out.append("];\n")
open('src/core/apple-ca-bundle.ts', 'w').write(''.join(out))
print(f'{len(files)} CA certificates written to src/core/apple-ca-bundle.ts')
