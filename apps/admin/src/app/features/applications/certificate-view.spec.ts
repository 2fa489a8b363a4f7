import type { Certificate, DnsCheck } from '../../core/api/certificates-api.service';
import type { Problem } from '../../core/api/problem';
import { certificateState, daysLeft, dnsCheckLines, expiryText, lastAttemptText, nextAttemptText, reasonText, relative, sortByExpiry, uploadErrorsToForm } from './certificate-view';

const NOW = new Date('2026-03-01T12:00:00Z');
const CERT: Certificate = {
  id: 'c-1', domainId: 'd-1', applicationId: 'a-1', projectId: 'p-1', environmentId: 'e-1', hosts: ['shop.example.com'], source: 'acme', status: 'valid',
  issuer: "(STAGING) Let's Encrypt", serial: '01', notBefore: '2026-02-01T00:00:00Z', notAfter: '2026-05-01T00:00:00Z', renewalDueAt: '2026-04-01T00:00:00Z',
  lastAttemptAt: null, lastError: null, lastErrorReason: null, nextAttemptAt: null, updatedAt: '2026-02-01T00:00:00Z',
};
const problem = (errors: Array<{ pointer: string; detail: string }>): Problem =>
  ({ type: 'about:blank', title: 'Invalid', status: 400, detail: 'invalid', code: 'validation', requestId: null, errors: errors.map((e) => ({ ...e, code: 'invalid' })) }) as Problem;

describe('certificate state', () => {
  it('is custom for an uploaded certificate, else the status; without a row pending with HTTPS, none without', () => {
    expect(certificateState(CERT)).toEqual({ state: 'valid', label: 'valid', tone: 'ok' });
    expect(certificateState({ ...CERT, status: 'failed' }).state).toBe('failed');
    expect(certificateState({ ...CERT, status: 'failed' }).tone).toBe('bad');
    expect(certificateState({ ...CERT, status: 'pending' }).state).toBe('pending');
    expect(certificateState({ ...CERT, source: 'custom' })).toEqual({ state: 'custom', label: 'custom', tone: 'ok' });
    expect(certificateState(undefined, true).state).toBe('pending');
    expect(certificateState(undefined, false)).toEqual({ state: 'none', label: 'no certificate (HTTPS off)', tone: 'idle' });
  });
});

describe('expiry', () => {
  it('counts whole days left and warns under 14 days', () => {
    expect(daysLeft('2026-05-01T00:00:00Z', NOW)).toBe(60);
    expect(expiryText('2026-05-01T00:00:00Z', NOW)).toEqual({ text: 'expires 2026-05-01 (60 days left)', warn: false, days: 60 });
    expect(expiryText('2026-03-15T12:00:00Z', NOW)).toEqual({ text: 'expires 2026-03-15 (14 days left)', warn: false, days: 14 });
    expect(expiryText('2026-03-15T11:59:00Z', NOW)).toEqual({ text: 'expires 2026-03-15 (13 days left)', warn: true, days: 13 });
    expect(expiryText('2026-03-02T12:00:00Z', NOW).text).toBe('expires 2026-03-02 (1 day left)');
    expect(expiryText('2026-03-01T18:00:00Z', NOW).text).toBe('expires 2026-03-01 (less than a day left)');
  });

  it('says when it expired, and that there is no expiry yet', () => {
    expect(expiryText('2026-02-26T00:00:00Z', NOW)).toMatchObject({ text: 'expired 2026-02-26 (3 days ago)', warn: true });
    expect(expiryText('2026-03-01T06:00:00Z', NOW).text).toBe('expired 2026-03-01 (today)');
    expect(expiryText(null, NOW)).toEqual({ text: 'no expiry yet', warn: false, days: null });
  });

  it('sorts soonest expiry first, those without one last', () => {
    const list = [
      { hosts: ['c.example.com'], notAfter: null },
      { hosts: ['b.example.com'], notAfter: '2026-06-01T00:00:00Z' },
      { hosts: ['a.example.com'], notAfter: '2026-04-01T00:00:00Z' },
      { hosts: ['a.example.com'], notAfter: null },
    ];
    expect(sortByExpiry(list).map((c) => c.hosts[0] + ' ' + c.notAfter)).toEqual(['a.example.com 2026-04-01T00:00:00Z', 'b.example.com 2026-06-01T00:00:00Z', 'a.example.com null', 'c.example.com null']);
  });
});

describe('attempts', () => {
  it('puts the last attempt and its reason in words, and the next attempt', () => {
    const failed: Certificate = { ...CERT, status: 'failed', lastAttemptAt: '2026-03-01T09:00:00Z', lastError: 'shop.example.com resolves to 203.0.113.9, not to this server', lastErrorReason: 'dns-mismatch', nextAttemptAt: '2026-03-01T12:30:00Z' };
    expect(lastAttemptText(failed, NOW)).toBe('Last attempt 2026-03-01 09:00 UTC (3 h ago) failed: the host points somewhere else');
    expect(nextAttemptText(failed, NOW)).toBe('Next attempt 2026-03-01 12:30 UTC (in 30 min)');
    expect(lastAttemptText({ ...failed, lastError: null, lastErrorReason: null }, NOW)).toBe('Last attempt 2026-03-01 09:00 UTC (3 h ago) succeeded');
    expect(lastAttemptText(CERT, NOW)).toBeNull();
    expect(nextAttemptText(CERT, NOW)).toBeNull();
    expect(lastAttemptText({ ...failed, lastErrorReason: 'brand-new' }, NOW)).toContain('failed: brand-new');
  });

  it('names every reason the API gives', () => {
    for (const r of ['dns-missing', 'dns-mismatch', 'caa-forbidden', 'challenge-unreachable', 'challenge-failed', 'dns', 'rate-limited', 'rejected-identifier', 'ca-unreachable', 'timeout', 'other']) {
      expect(reasonText(r)).not.toBe(r);
    }
    expect(reasonText(null)).toBeNull();
  });

  it('tells distances in minutes, hours and days', () => {
    expect(relative('2026-03-01T12:00:20Z', NOW)).toBe('in less than a minute');
    expect(relative('2026-03-03T12:00:00Z', NOW)).toBe('in 2 days');
    expect(relative('2026-02-28T12:00:00Z', NOW)).toBe('1 day ago');
  });
});

describe('DNS check', () => {
  const base: DnsCheck = { host: 'shop.example.com', addresses: ['198.51.100.7'], expected: ['198.51.100.7'], pointsHere: true, resolveError: null, caa: { allowed: true, at: null, issuers: [] }, problem: null };

  it('says where the host resolves, whether that is here, and what CAA says', () => {
    expect(dnsCheckLines(base)).toEqual(['shop.example.com resolves to 198.51.100.7', 'It points at this server.', 'CAA: no records, any certificate authority may issue.']);
    expect(dnsCheckLines({
      ...base, addresses: ['203.0.113.9'], pointsHere: false, caa: { allowed: false, at: 'example.com', issuers: ['digicert.com'] },
      problem: { reason: 'dns-mismatch', message: 'shop.example.com resolves to 203.0.113.9, not to this server (198.51.100.7)' },
    })).toEqual([
      'shop.example.com resolves to 203.0.113.9',
      'It does not point at this server (expected 198.51.100.7).',
      'CAA at example.com: digicert.com; the certificate authority is not allowed.',
      'Problem: shop.example.com resolves to 203.0.113.9, not to this server (198.51.100.7)',
    ]);
  });

  it('reports a name that does not resolve, and an install without public addresses', () => {
    const lines = dnsCheckLines({ ...base, addresses: [], expected: [], pointsHere: null, resolveError: 'ENOTFOUND' });
    expect(lines[0]).toBe('shop.example.com does not resolve: ENOTFOUND');
    expect(lines[1]).toContain('WHARF_PUBLIC_IPS');
  });
});

describe('upload errors', () => {
  it('keeps the PEM fields, joins several, and leaves the rest for the alert', () => {
    const p = uploadErrorsToForm(problem([
      { pointer: '/privateKeyPem', detail: 'does not belong to the certificate' },
      { pointer: '/certificatePem', detail: 'the certificate does not cover shop.example.com' },
      { pointer: '/certificatePem', detail: 'the chain is incomplete' },
      { pointer: '', detail: 'HTTPS is off for this domain' },
    ]));
    expect(p.errors!.map((e) => [e.pointer, e.detail])).toEqual([
      ['/privateKeyPem', 'does not belong to the certificate'],
      ['/certificatePem', 'the certificate does not cover shop.example.com; the chain is incomplete'],
      ['', 'HTTPS is off for this domain'],
    ]);
  });
});
