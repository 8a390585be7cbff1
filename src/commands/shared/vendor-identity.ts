import { AppError } from '../../errors.js';
import { formatName } from '../../core/certificate.js';
import { daysRemaining } from '../../core/expiry.js';
import { decodeCertificateFile } from '../../core/input.js';
import type { PushRecord, Signing, StoreIndex, VendorEntry } from '../../core/index-model.js';
import type { Store, StoreChange } from '../../store/store.js';
import type { Deps } from '../kit.js';
import { assertCanCreate } from '../../io/files.js';
import type { MakeCsrRequest } from './make-csr.js';
import { signAsVendor } from './vendor-request.js';
import type { Vendor } from './vendor-request.js';

/** Under this many days left, a vendor certificate is warned about: Apple rejects a request it signed once expired. */
export const VENDOR_WARN_DAYS = 30;

/** The vendor's id: SHA-256 of its certificate's DER (lowercase hex). */
export const vendorId = (vendor: Vendor): string => vendor.chain[0]!.fingerprintSha256;

/**
 * Keeps a vendor identity in the store within a change (its sealed key, its certificate and chain, its entry in
 * `tx.index.vendors`); the caller commits. One already kept (same certificate) is left as it is: `added` false.
 */
export async function keepVendor(
  tx: StoreChange,
  vendor: Vendor,
  nowIso: string,
): Promise<{ entry: VendorEntry; added: boolean }> {
  const sha256 = vendorId(vendor);
  const known = tx.index.vendors[sha256];
  if (known !== undefined) return { entry: known, added: false };
  const cert = vendor.chain[0]!;
  const entry: VendorEntry = {
    sha256,
    subject: formatName(cert.subject),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    keyId: vendor.key.keyId,
    file: tx.vendorChainFile(sha256),
    importedAt: nowIso,
  };
  await tx.putPrivateKey(vendor.key);
  await tx.putVendorChain(entry, vendor.chain.map((c) => c.pem).join(''));
  tx.index.vendors[sha256] = entry;
  return { entry, added: true };
}

/** The one vendor whose SHA-256 starts with `prefix` (any case); 64 when none or several do. */
export function findVendor(index: StoreIndex | null, prefix: string, action: string): VendorEntry {
  const wanted = prefix.toLowerCase();
  const vendors = Object.values(index?.vendors ?? {});
  const matches = /^[0-9a-f]+$/.test(wanted) ? vendors.filter((v) => v.sha256.startsWith(wanted)) : [];
  if (matches.length === 1) return matches[0]!;
  const shown = JSON.stringify(prefix.slice(0, 64));
  if (matches.length === 0) {
    throw new AppError('NOT_FOUND', `${action}: no vendor identity in the store has a SHA-256 starting with ${shown}`, {
      hint: vendors.length === 0 ? 'apns-cert vendor import --cert <file> --key <file>' : 'apns-cert vendor list',
    });
  }
  throw new AppError(
    'USAGE',
    `${action}: ${matches.length} vendor identities have a SHA-256 starting with ${shown}; give more of it`,
    { details: matches.map((v) => `  ${v.sha256}  ${v.subject}`), hint: 'apns-cert vendor list' },
  );
}

/**
 * Refuses (65) a vendor certificate that is not valid at `now`, and warns when it has under 30 days left:
 * Apple rejects a request signed by an expired vendor certificate.
 */
export function checkVendorDates(entry: VendorEntry, now: Date, action: string, deps: Pick<Deps, 'out'>): void {
  const notAfter = new Date(entry.notAfter);
  if (notAfter.getTime() <= now.getTime() || new Date(entry.notBefore).getTime() > now.getTime()) {
    throw new AppError(
      'EXPIRED',
      `${action}: the vendor certificate "${entry.subject}" is not valid now (valid ${entry.notBefore} to ${entry.notAfter}); Apple rejects a request it signs`,
      {
        hint: 'apns-cert vendor import --cert <renewed vendor certificate> --key <its key>   # after renewing it at developer.apple.com',
      },
    );
  }
  const days = daysRemaining(notAfter, now);
  if (days < VENDOR_WARN_DAYS) {
    deps.out.warn(
      `the vendor certificate "${entry.subject}" expires ${entry.notAfter} (${days} days): renew it at developer.apple.com before the next request`,
    );
  }
}

/** A vendor identity kept in the store, opened: its key (the store is unlocked) and its certificate chain. */
export async function openVendor(store: Store, index: StoreIndex, entry: VendorEntry): Promise<Vendor> {
  const pem = await store.vendorChain(entry);
  const chain = decodeCertificateFile(Buffer.from(pem, 'utf8'), entry.file).certificates;
  if (chain[0]?.fingerprintSha256 !== entry.sha256) {
    throw new AppError(
      'STORE_CORRUPT',
      `open the vendor identity ${entry.sha256}: ${entry.file} holds another certificate`,
      {
        hint: 'apns-cert doctor --offline',
      },
    );
  }
  return { key: await store.privateKey(index, entry.keyId), chain };
}

/**
 * The vendor that signs a renewal of `record` (signing via vendor), checked before anything is written:
 * 65 when it is no longer in the store (removed with --force) or its certificate is not valid now.
 */
export async function vendorForRecord(
  record: PushRecord,
  index: StoreIndex,
  deps: Deps,
  action: string,
): Promise<Vendor | undefined> {
  if (record.signing.via !== 'vendor') return undefined;
  const sha256 = record.signing.vendor;
  const entry = index.vendors[sha256];
  if (entry === undefined) {
    throw new AppError(
      'BAD_INPUT',
      `${action}: "${record.name}" is signed by the vendor identity ${sha256.slice(0, 16)}…, which is no longer in the store`,
      { hint: 'apns-cert vendor import --cert <vendor certificate> --key <its key> [--chain <pem-file>]' },
    );
  }
  checkVendorDates(entry, deps.now(), action, deps);
  return openVendor(deps.store, index, entry);
}

export interface CsrVendorOptions {
  name: string;
  vendorCert: string | undefined;
  vendorKey: string | undefined;
  chain: string | undefined;
  vendor?: string | undefined;
}

/** How csr signs: the vendor (new from files, or kept in the store), what to record, and what to do in the change. */
export interface CsrSigner {
  vendor: Vendor;
  signing: Signing;
  /** Within csr's change, before it commits: keeps a new vendor, or checks that a kept one is still there. */
  prepare(tx: StoreChange): Promise<void>;
}

/** csr's vendor flags (--vendor-cert + --vendor-key [--chain], or --vendor <sha256-prefix>); undefined without them. */
export async function csrSigner(options: CsrVendorOptions, deps: Deps): Promise<CsrSigner | undefined> {
  const name = options.name;
  if (options.vendor !== undefined && (options.vendorCert !== undefined || options.vendorKey !== undefined)) {
    throw new AppError(
      'USAGE',
      'csr: --vendor (one kept in the store) and --vendor-cert/--vendor-key (files) exclude each other',
      {
        hint: `apns-cert csr --name ${name} --vendor <sha256-prefix>`,
      },
    );
  }
  if (options.vendor !== undefined) {
    if (options.chain !== undefined)
      throw new AppError('USAGE', 'csr: --chain goes with --vendor-cert (a kept vendor has its chain)', {
        hint: `apns-cert csr --name ${name} --vendor ${options.vendor}`,
      });
    const index = await deps.store.read();
    const entry = findVendor(index, options.vendor, 'csr');
    checkVendorDates(entry, deps.now(), 'csr', deps);
    const vendor = await openVendor(deps.store, index!, entry);
    return {
      vendor,
      signing: { via: 'vendor', vendor: entry.sha256 },
      prepare: async (tx) => {
        if (tx.index.vendors[entry.sha256] === undefined)
          throw new AppError(
            'STORE_BUSY',
            `csr: the vendor identity ${entry.sha256.slice(0, 16)}… was removed meanwhile`,
            {
              hint: 'apns-cert vendor list',
            },
          );
      },
    };
  }
  if (options.vendorCert === undefined) return undefined;
  const { loadVendor } = await import('./vendor-request.js');
  const vendor = await loadVendor(
    { vendorCert: options.vendorCert, vendorKey: options.vendorKey!, chain: options.chain },
    deps,
    'csr',
  );
  const nowIso = deps.now().toISOString();
  return {
    vendor,
    signing: { via: 'vendor', vendor: vendorId(vendor) },
    prepare: async (tx) => {
      await keepVendor(tx, vendor, nowIso);
    },
  };
}

/**
 * What makeCsr writes beside the CSR for a record signed by `vendor`: the signed request at `requestOut`
 * (refused up front when it exists and `force` is not given); undefined without a vendor. csr and renew share it.
 */
export async function vendorCompanion(
  vendor: Vendor | undefined,
  requestOut: string,
  force: boolean,
  deps: Pick<Deps, 'store'>,
): Promise<MakeCsrRequest['companion']> {
  if (vendor === undefined) return undefined;
  await assertCanCreate(requestOut, { force, flag: '--request-out', store: deps.store });
  return { path: requestOut, flag: '--request-out', make: (der, path) => signAsVendor(der, path, vendor) };
}
