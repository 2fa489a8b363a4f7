import { Resolver } from 'node:dns/promises';
import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { FieldError } from '@wharf/contracts';
import { ValidationError } from '@wharf/core';
import { isWildcardHost } from '../domain-spec';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order (leaf first). */
export function parsePemChain(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

export interface CertificateFacts {
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** DNS names of the subjectAltName. */
  names: string[];
}

/** One readable name for an X.509 distinguished name (its CN, else its O, else the whole). */
function nameOf(dn: string): string {
  const lines = dn.split('\n');
  const pick = (k: string) => lines.find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1);
  return pick('CN') ?? pick('O') ?? dn.replace(/\n/g, ', ');
}

export function describeLeaf(chainPem: string): CertificateFacts {
  const [leaf] = parsePemChain(chainPem);
  if (!leaf) throw new Error('no certificate in the chain');
  const names = (leaf.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return { issuer: nameOf(leaf.issuer), serial: leaf.serialNumber, notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo), names };
}

let roots: X509Certificate[] | null = null;
const systemRoots = () => (roots ??= rootCertificates.map((r) => new X509Certificate(r)));

/**
 * Checks an uploaded certificate before it is stored: PEM of at most a few certificates and one private key; the key
 * matches the leaf; each certificate is issued (and signed) by the next; the last one is a self-signed root or is
 * issued by a root this system trusts (else an intermediate is missing); the leaf is valid now and its names cover
 * every host. Each problem is a 400 naming its field (`/certificatePem` or `/privateKeyPem`).
 */
export function checkUploadedCertificate(input: { certificatePem: unknown; privateKeyPem: unknown; hosts: string[]; now?: Date }): { chainPem: string; keyPem: string; facts: CertificateFacts } {
  const fail = (pointer: string, code: string, detail: string): never => {
    throw new ValidationError(`${pointer}: ${detail}`, [{ pointer, code, detail } satisfies FieldError]);
  };
  const { certificatePem, privateKeyPem } = input;
  if (typeof certificatePem !== 'string' || certificatePem.length > 64 * 1024) fail('/certificatePem', 'format', 'must be a PEM certificate chain of at most 64 KiB');
  if (typeof privateKeyPem !== 'string' || privateKeyPem.length > 16 * 1024) fail('/privateKeyPem', 'format', 'must be a PEM private key of at most 16 KiB');
  let chain: X509Certificate[] = [];
  try {
    chain = parsePemChain(certificatePem as string);
  } catch {
    fail('/certificatePem', 'format', 'is not a readable PEM certificate chain');
  }
  if (chain.length === 0) fail('/certificatePem', 'format', 'holds no PEM certificate');
  if (chain.length > 8) fail('/certificatePem', 'format', 'holds more than 8 certificates');
  let key: KeyObject | null = null;
  try {
    key = createPrivateKey(privateKeyPem as string);
  } catch {
    fail('/privateKeyPem', 'format', 'is not a readable, unencrypted PEM private key');
  }
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(key!)) fail('/privateKeyPem', 'key-mismatch', 'does not belong to the certificate');
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
      fail('/certificatePem', 'chain-order', `certificate ${i + 1} is not issued by certificate ${i + 2}: give the leaf first, then each issuer`);
    }
  }
  const last = chain[chain.length - 1];
  const selfSigned = last.checkIssued(last) && last.verify(last.publicKey);
  if (!selfSigned && !systemRoots().some((r) => last.checkIssued(r) && last.verify(r.publicKey))) {
    fail('/certificatePem', 'chain-incomplete', `the chain is incomplete: the issuer of "${nameOf(last.subject)}" ("${nameOf(last.issuer)}") is missing`);
  }
  const now = input.now ?? new Date();
  if (new Date(leaf.validTo) <= now) fail('/certificatePem', 'expired', `the certificate expired on ${new Date(leaf.validTo).toISOString()}`);
  if (new Date(leaf.validFrom) > now) fail('/certificatePem', 'not-yet-valid', `the certificate is valid only from ${new Date(leaf.validFrom).toISOString()}`);
  for (const h of input.hosts) if (!leaf.checkHost(h)) fail('/certificatePem', 'names', `the certificate does not cover ${h}`);
  const chainPem = chain.map((c) => c.toString().trim()).join('\n') + '\n';
  const keyPem = key!.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { chainPem, keyPem, facts: describeLeaf(chainPem) };
}

export interface DnsCheck {
  host: string;
  /** A and AAAA answers. */
  addresses: string[];
  /** This install's addresses (WHARF_PUBLIC_IPS); empty when not configured. */
  expected: string[];
  /** True/false when `expected` is configured; null when it is not (only resolution is checked then). */
  pointsHere: boolean | null;
  /** Set when the name did not resolve (NXDOMAIN, no address, resolver error). */
  resolveError: string | null;
  caa: { allowed: boolean; at: string | null; issuers: string[] };
}

export interface DnsCheckOptions {
  servers: string[];
  publicIps: string[];
  caaIdentities: string[];
  /** Wildcard names are governed by `issuewild` when present. Default: whether `host` starts with `*.`. */
  wildcard?: boolean;
  timeoutMs?: number;
}

function resolverFor(o: DnsCheckOptions): Resolver {
  const r = new Resolver({ timeout: o.timeoutMs ?? 3000, tries: 2 });
  if (o.servers.length) r.setServers(o.servers);
  return r;
}

const code = (e: unknown) => (e as { code?: string }).code ?? 'ERROR';

/**
 * Where `host` points and whether a CA named by `caaIdentities` may issue for it (RFC 8659: the closest CAA record set
 * up the tree decides; with no `issue` property at all, any CA may). For a wildcard `*.example.com` the CAA lookup
 * starts at `example.com` and `issuewild` decides when present (RFC 8659 §4.3); its addresses are those a DNS wildcard
 * answers for the name `*.example.com` itself, shown only (no CA needs them: wildcards validate through DNS-01).
 * Read-only DNS queries; nothing is cached.
 */
export async function checkDns(host: string, o: DnsCheckOptions): Promise<DnsCheck> {
  const r = resolverFor(o);
  const wildcard = o.wildcard ?? host.startsWith('*.');
  const addresses: string[] = [];
  const errors: string[] = [];
  for (const q of [() => r.resolve4(host), () => r.resolve6(host)]) {
    try {
      addresses.push(...(await q()));
    } catch (e) {
      errors.push(code(e));
    }
  }
  const resolveError = addresses.length ? null : errors.includes('ENOTFOUND') ? 'NXDOMAIN (the name does not exist)' : errors.includes('ENODATA') ? 'no A or AAAA record' : `the resolver answered ${errors[0] ?? 'nothing'}`;
  const expected = [...o.publicIps];
  const pointsHere = expected.length === 0 || addresses.length === 0 ? (addresses.length === 0 ? false : null) : addresses.some((a) => expected.includes(a));

  let caa: DnsCheck['caa'] = { allowed: true, at: null, issuers: [] };
  const labels = host.replace(/^\*\./, '').split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    let records: Array<{ critical: number; issue?: string; issuewild?: string }> = [];
    try {
      records = (await r.resolveCaa(name)) as typeof records;
    } catch {
      continue;
    }
    if (records.length === 0) continue;
    const tag = wildcard && records.some((x) => x.issuewild !== undefined) ? 'issuewild' : 'issue';
    const values = records.map((x) => x[tag]).filter((v): v is string => v !== undefined);
    const issuers = values.map((v) => v.split(';')[0].trim().toLowerCase());
    const allowed = values.length === 0 || issuers.some((i) => o.caaIdentities.map((c) => c.toLowerCase()).includes(i));
    caa = { allowed, at: name, issuers };
    break;
  }
  return { host, addresses, expected, pointsHere, resolveError, caa };
}

/**
 * The reason an order would fail, before asking the CA (null: go ahead): CAA always; with HTTP-01, a name that does
 * not resolve to this server. DNS-01 needs no address record, and neither does a wildcard (a CA validates one only
 * through DNS-01: the API refuses a wildcard with HTTPS on HTTP-01, and the issuer fails one with reason `dns`).
 */
export function dnsProblem(c: DnsCheck, challenge: 'http-01' | 'dns-01'): { reason: 'dns-missing' | 'dns-mismatch' | 'caa-forbidden'; message: string } | null {
  if (!c.caa.allowed) {
    const tag = isWildcardHost(c.host) ? 'issuewild (or issue)' : 'issue';
    return { reason: 'caa-forbidden', message: `CAA records at ${c.caa.at} allow only ${c.caa.issuers.filter(Boolean).join(', ') || 'no CA'} to issue for ${c.host}; add an ${tag} record for this CA` };
  }
  if (challenge === 'dns-01') return null;
  if (isWildcardHost(c.host)) return null;
  if (c.resolveError) return { reason: 'dns-missing', message: `${c.host} does not resolve: ${c.resolveError}; point it at ${c.expected.join(', ') || 'this server'}` };
  if (c.pointsHere === false) return { reason: 'dns-mismatch', message: `${c.host} resolves to ${c.addresses.join(', ')}, not to this server (${c.expected.join(', ')})` };
  return null;
}
