import type { AcmeSettings } from '../../core/api/certificates-api.service';
import type { Problem } from '../../core/api/problem';
import { acmeErrorsToForm, AcmeFormValue, acmeFormToBody, acmeToForm, EMPTY_PROVIDER, providerSummary } from './acme-form';

const STORED: AcmeSettings = {
  email: 'ops@example.com', staging: true, directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory', challenge: 'dns-01',
  dnsProvider: { kind: 'rfc2136', server: 'ns1.example.com', port: 5353, zone: 'example.com', tsigKeyName: 'acme', tsigAlgorithm: 'hmac-sha512', tsigSecret: { set: true } },
};
const problem = (errors: Array<{ pointer: string; detail: string }>): Problem =>
  ({ type: 'about:blank', title: 'Invalid', status: 400, detail: 'invalid', code: 'validation', requestId: null, errors: errors.map((e) => ({ ...e, code: 'invalid' })) }) as Problem;

describe('ACME settings form', () => {
  it('fills the form from the stored settings: non-secret provider fields, the secret empty, the provider kept', () => {
    const v = acmeToForm(STORED);
    expect(v).toMatchObject({ email: 'ops@example.com', staging: true, challenge: 'dns-01', providerMode: 'keep' });
    expect(v.provider).toMatchObject({ kind: 'rfc2136', server: 'ns1.example.com', port: 5353, zone: 'example.com', tsigKeyName: 'acme', tsigAlgorithm: 'hmac-sha512', tsigSecret: '' });
    expect(acmeToForm({ ...STORED, email: null, dnsProvider: null })).toMatchObject({ email: '', providerMode: 'keep', provider: EMPTY_PROVIDER });
  });

  it('keeps the stored provider by leaving it out of the body; an empty e-mail is null', () => {
    const v = acmeToForm(STORED);
    expect(acmeFormToBody({ ...v, email: '  certs@example.com ' })).toEqual({ email: 'certs@example.com', staging: true, challenge: 'dns-01' });
    expect(acmeFormToBody({ ...v, email: ' ' })).toEqual({ email: null, staging: true, challenge: 'dns-01' });
    expect(acmeFormToBody({ ...v, challenge: 'http-01', providerMode: 'remove' })).toEqual({ email: 'ops@example.com', staging: true, challenge: 'http-01', dnsProvider: null });
  });

  it('sends a changed provider whole, with only the fields of its kind (optional ones left out when empty)', () => {
    const v: AcmeFormValue = { ...acmeToForm(STORED), providerMode: 'edit' };
    expect(acmeFormToBody({ ...v, provider: { ...v.provider, tsigSecret: ' c2VjcmV0LXNlY3JldC1zZWNyZXQ= ', transport: 'udp' } }).dnsProvider).toEqual({
      kind: 'rfc2136', server: 'ns1.example.com', port: 5353, transport: 'udp', zone: 'example.com', tsigKeyName: 'acme', tsigAlgorithm: 'hmac-sha512', tsigSecret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
    });
    expect(acmeFormToBody({ ...v, provider: { ...v.provider, port: null, tsigSecret: 'x' } }).dnsProvider).not.toHaveProperty('port');
    expect(acmeFormToBody({ ...v, provider: { ...EMPTY_PROVIDER, kind: 'cloudflare', apiToken: 'tok', zoneId: '', server: 'left over' } }).dnsProvider).toEqual({ kind: 'cloudflare', apiToken: 'tok' });
    expect(acmeFormToBody({ ...v, provider: { ...EMPTY_PROVIDER, kind: 'route53', accessKeyId: 'AKIAEXAMPLE12345', secretAccessKey: 's', hostedZoneId: 'Z1', region: 'eu-west-1' } }).dnsProvider)
      .toEqual({ kind: 'route53', accessKeyId: 'AKIAEXAMPLE12345', secretAccessKey: 's', hostedZoneId: 'Z1', region: 'eu-west-1' });
  });

  it('summarises the stored provider without secrets', () => {
    expect(providerSummary(STORED.dnsProvider)).toBe('RFC 2136 (BIND, Knot, PowerDNS… with TSIG) · server ns1.example.com · port 5353 · zone example.com · key acme · algorithm hmac-sha512 · TSIG secret set');
    expect(providerSummary({ kind: 'cloudflare', apiToken: { set: true } })).toBe('Cloudflare · API token set');
    expect(providerSummary(null)).toBe('none');
  });

  it('points the API field errors at the form: provider fields while editing, "needs a provider" at the challenge', () => {
    const editing: AcmeFormValue = { ...acmeToForm(STORED), providerMode: 'edit' };
    const p = acmeErrorsToForm(problem([
      { pointer: '/email', detail: 'must be an e-mail address' },
      { pointer: '/dnsProvider/tsigSecret', detail: 'must be base64 of at least 16 bytes' },
      { pointer: '/dnsProvider/tsigSecret', detail: 'is required' },
      { pointer: '/dnsProvider/apiBase', detail: 'is not a field of a rfc2136 provider' },
    ]), editing);
    expect(p.errors!.map((e) => [e.pointer, e.detail])).toEqual([
      ['/email', 'must be an e-mail address'],
      ['/provider/tsigSecret', 'must be base64 of at least 16 bytes; is required'],
      ['/provider/kind', 'is not a field of a rfc2136 provider'],
    ]);
    const kept = acmeErrorsToForm(problem([{ pointer: '/dnsProvider', detail: 'DNS-01 needs a DNS provider' }, { pointer: '/dnsProvider/zone', detail: 'x' }, { pointer: '/bogus', detail: 'y' }]), acmeToForm(STORED));
    expect(kept.errors!.map((e) => e.pointer)).toEqual(['/challenge', '', '']);
  });
});
