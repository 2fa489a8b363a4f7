import type { Certificate, DnsCheck } from '../../core/api/certificates-api.service';
import type { FieldProblem, Problem } from '../../core/api/problem';

/**
 * How the portal shows a domain's certificate (state, expiry, last attempt, DNS check) and maps the upload form's
 * server errors. Pure: the Domains tab, the organization's Certificates screen and their specs share it.
 */

/** Under this many days left, the expiry is shown in the warning colour. */
export const EXPIRY_WARN_DAYS = 14;
const DAY_MS = 86_400_000;

export type CertificateState = 'valid' | 'pending' | 'failed' | 'custom' | 'none';
export type CertificateTone = 'ok' | 'bad' | 'busy' | 'idle';

/** The badge of a domain's certificate: an uploaded one is `custom`; without a row, HTTPS on means one is coming. */
export function certificateState(c: Certificate | null | undefined, https = true): { state: CertificateState; label: string; tone: CertificateTone } {
  if (!c) return https ? { state: 'pending', label: 'pending', tone: 'busy' } : { state: 'none', label: 'no certificate (HTTPS off)', tone: 'idle' };
  if (c.source === 'custom') return { state: 'custom', label: 'custom', tone: 'ok' };
  if (c.status === 'valid') return { state: 'valid', label: 'valid', tone: 'ok' };
  if (c.status === 'failed') return { state: 'failed', label: 'failed', tone: 'bad' };
  return { state: 'pending', label: 'pending', tone: 'busy' };
}

/** Whole days from now until `iso` (negative once past; 0 on the last day). */
export function daysLeft(iso: string, now: Date = new Date()): number {
  return Math.floor((Date.parse(iso) - now.getTime()) / DAY_MS);
}

/** A date as YYYY-MM-DD (UTC): certificates expire at an instant, a day is precise enough to read. */
export const isoDate = (iso: string): string => new Date(iso).toISOString().slice(0, 10);
/** A moment as YYYY-MM-DD HH:MM UTC. */
export const isoMinute = (iso: string): string => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** "in 5 min", "3 h ago", "in 2 days": how far `iso` is from now. */
export function relative(iso: string, now: Date = new Date()): string {
  const ms = Date.parse(iso) - now.getTime();
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? 'less than a minute' : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < DAY_MS ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / DAY_MS)} day${Math.round(abs / DAY_MS) === 1 ? '' : 's'}`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** The expiry line: "expires 2026-03-01 (29 days left)", "expired 2026-01-01 (3 days ago)"; warn under 14 days. */
export function expiryText(notAfter: string | null, now: Date = new Date()): { text: string; warn: boolean; days: number | null } {
  if (!notAfter) return { text: 'no expiry yet', warn: false, days: null };
  const days = daysLeft(notAfter, now);
  const date = isoDate(notAfter);
  if (Date.parse(notAfter) <= now.getTime()) {
    const ago = Math.floor((now.getTime() - Date.parse(notAfter)) / DAY_MS);
    return { text: `expired ${date} (${ago === 0 ? 'today' : `${ago} day${ago === 1 ? '' : 's'} ago`})`, warn: true, days };
  }
  return { text: `expires ${date} (${days === 0 ? 'less than a day left' : `${days} day${days === 1 ? '' : 's'} left`})`, warn: days < EXPIRY_WARN_DAYS, days };
}

const REASONS: Record<string, string> = {
  'dns-missing': 'the host does not resolve',
  'dns-mismatch': 'the host points somewhere else',
  'caa-forbidden': 'a CAA record forbids the certificate authority',
  'challenge-unreachable': 'the certificate authority could not reach the challenge',
  'challenge-failed': 'the challenge failed',
  dns: 'the DNS provider refused or failed the change',
  'rate-limited': 'the certificate authority’s rate limit was hit',
  'rejected-identifier': 'the certificate authority refuses this name',
  'ca-unreachable': 'the certificate authority could not be reached',
  timeout: 'the order timed out',
  'custom-invalid': 'the certificate files were refused',
  other: 'something else went wrong',
};

/** A failure reason (`dns-mismatch`, …) in words; an unknown one as it is. */
export function reasonText(reason: string | null | undefined): string | null {
  if (!reason) return null;
  return REASONS[reason] ?? reason;
}

/** The last attempt line: "Last attempt 2026-01-02 10:00 UTC (3 h ago) failed: the host points somewhere else — <error>". */
export function lastAttemptText(c: Pick<Certificate, 'lastAttemptAt' | 'lastError' | 'lastErrorReason'>, now: Date = new Date()): string | null {
  if (!c.lastAttemptAt) return null;
  const when = `Last attempt ${isoMinute(c.lastAttemptAt)} (${relative(c.lastAttemptAt, now)})`;
  if (!c.lastError) return `${when} succeeded`;
  const reason = reasonText(c.lastErrorReason);
  return `${when} failed${reason ? `: ${reason}` : ''}`;
}

/** The next attempt line of a failed order (null when none is planned). */
export function nextAttemptText(c: Pick<Certificate, 'nextAttemptAt'>, now: Date = new Date()): string | null {
  if (!c.nextAttemptAt) return null;
  return `Next attempt ${isoMinute(c.nextAttemptAt)} (${relative(c.nextAttemptAt, now)})`;
}

/** The DNS check as sentences: where the host resolves, whether that is here, what CAA says, and the problem if any. */
export function dnsCheckLines(d: DnsCheck): string[] {
  const lines: string[] = [];
  if (d.resolveError) lines.push(`${d.host} does not resolve: ${d.resolveError}`);
  else if (d.addresses.length === 0) lines.push(`${d.host} has no address records`);
  else lines.push(`${d.host} resolves to ${d.addresses.join(', ')}`);
  if (d.pointsHere === true) lines.push('It points at this server.');
  else if (d.pointsHere === false) lines.push(`It does not point at this server (${d.expected.length ? `expected ${d.expected.join(', ')}` : 'no address of this server is known'}).`);
  else lines.push('Whether it points here is unknown: this server’s public addresses are not configured (WHARF_PUBLIC_IPS).');
  if (d.caa.at === null) lines.push('CAA: no records, any certificate authority may issue.');
  else lines.push(`CAA at ${d.caa.at}: ${d.caa.issuers.length ? d.caa.issuers.join(', ') : 'no issuer'}; the certificate authority is ${d.caa.allowed ? 'allowed' : 'not allowed'}.`);
  if (d.problem) lines.push(`Problem: ${d.problem.message}`);
  return lines;
}

/**
 * The upload's field errors: `/certificatePem` and `/privateKeyPem` stay at their fields (several joined);
 * anything else gets an empty pointer (shown above the form).
 */
export function uploadErrorsToForm(problem: Problem): Problem {
  const out = new Map<string, FieldProblem>();
  for (const e of problem.errors ?? []) {
    const pointer = e.pointer === '/certificatePem' || e.pointer === '/privateKeyPem' ? e.pointer : '';
    const prev = pointer ? out.get(pointer) : undefined;
    if (prev) prev.detail = `${prev.detail}; ${e.detail}`;
    else out.set(pointer || `#${out.size}`, { ...e, pointer });
  }
  return { ...problem, errors: [...out.values()] };
}

/** Soonest expiry first; certificates without an expiry (pending, failed before any issue) last, by host. */
export function sortByExpiry<T extends Pick<Certificate, 'notAfter' | 'hosts'>>(list: readonly T[]): T[] {
  const at = (c: T) => (c.notAfter ? Date.parse(c.notAfter) : Number.POSITIVE_INFINITY);
  return [...list].sort((a, b) => at(a) - at(b) || (a.hosts[0] ?? '').localeCompare(b.hosts[0] ?? ''));
}
