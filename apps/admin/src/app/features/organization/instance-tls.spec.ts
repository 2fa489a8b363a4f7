import { instanceTlsSummary } from './instance-tls.component';
import type { InstanceTls } from '../../core/api/certificates-api.service';

const NOW = new Date('2026-12-05T12:00:00Z');
const base: InstanceTls = {
  host: 'wharf.example.com', mode: 'acme', status: 'valid', issuer: 'Pebble Intermediate CA', notBefore: '2026-12-01T00:00:00Z', notAfter: '2027-03-01T00:00:00Z',
  renewalDueAt: '2027-01-30T00:00:00Z', lastAttemptAt: '2026-12-01T00:00:00Z', lastError: null, lastErrorReason: null, nextAttemptAt: null,
};

describe("Wharf's own certificate summary", () => {
  it('off: says how to turn it on', () => {
    const s = instanceTlsSummary({ ...base, host: null, mode: 'off', status: 'none', issuer: null, notAfter: null, lastAttemptAt: null }, NOW);
    expect(s.label).toBe('Not behind the edge');
    expect(s.lines[0]).toContain('WHARF_PUBLIC_URL');
  });

  it('valid from ACME: host, source, issuer and days left', () => {
    const s = instanceTlsSummary(base, NOW);
    expect(s).toMatchObject({ label: 'Valid', tone: 'ok' });
    expect(s.lines[0]).toBe('https://wharf.example.com, certificate from ACME (HTTP-01)');
    expect(s.lines[1]).toBe('Issued by Pebble Intermediate CA, expires 2027-03-01 (85 days left)');
  });

  it('a failed renewal while still valid: the reason in words, the error and the next attempt', () => {
    const s = instanceTlsSummary({ ...base, lastAttemptAt: '2026-12-05T11:00:00Z', lastError: 'wharf.example.com resolves to 10.9.9.9', lastErrorReason: 'dns-mismatch', nextAttemptAt: '2026-12-05T11:05:00Z' }, NOW);
    expect(s).toMatchObject({ label: 'Valid (last attempt failed)', tone: 'bad' });
    expect(s.lines.join('\n')).toContain('failed: the host points somewhere else — wharf.example.com resolves to 10.9.9.9');
    expect(s.lines.join('\n')).toContain('Next attempt 2026-12-05 11:05 UTC');
  });

  it('custom files refused: failed, with the files named', () => {
    const s = instanceTlsSummary({ ...base, mode: 'custom', status: 'failed', issuer: null, notAfter: null, lastError: 'WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE: the key does not match', lastErrorReason: 'custom-invalid' }, NOW);
    expect(s).toMatchObject({ label: 'Failed', tone: 'bad' });
    expect(s.lines[0]).toContain('from WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE');
    expect(s.lines.join('\n')).toContain('the certificate files were refused');
  });
});
