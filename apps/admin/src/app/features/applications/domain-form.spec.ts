import type { Domain } from '../../core/api/domains-api.service';
import type { Problem } from '../../core/api/problem';
import { domainErrorsToForm, DomainFormValue, domainLabel, domainOpenLinks, domainSummary, domainToForm, domainUrl, EMPTY_DOMAIN, formToBody, isWildcardHost } from './domain-form';

const DOMAIN: Domain = {
  id: 'd-1', organizationId: 'o', projectId: 'p', environmentId: 'e', applicationId: 'a',
  host: 'shop.example.com', pathPrefix: '/api', stripPrefix: true, port: 8080, https: true, redirectHttpToHttps: true, wwwRedirect: false,
  redirects: [{ regex: '^https://shop\\.example\\.com/old/(.*)$', replacement: 'https://shop.example.com/new/${1}', permanent: true }],
  basicAuth: [{ username: 'alice', passwordSet: true }],
  responseHeaders: { 'X-Frame-Options': 'DENY' },
  ipAllowList: ['10.0.0.0/8', '192.168.1.7/32'],
  rateLimit: { average: 100, burst: 50, periodSeconds: 1 },
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', version: 3,
};

const problem = (errors: Array<{ pointer: string; detail: string }>, status = 400): Problem =>
  ({ type: 'about:blank', title: 'Invalid', status, detail: 'invalid', code: 'validation', requestId: null, errors: errors.map((e) => ({ ...e, code: 'invalid' })) }) as Problem;

describe('domain form → request body', () => {
  it('sends every field as typed: rows in order, headers as an object, the allow-list one entry per line, the rate limit', () => {
    const v: DomainFormValue = {
      ...EMPTY_DOMAIN,
      host: '  App.Example.com ',
      pathPrefix: '/api',
      stripPrefix: true,
      port: 3000,
      https: true,
      redirectHttpToHttps: true,
      wwwRedirect: true,
      redirects: [{ regex: '^/a$', replacement: ' https://x.example.com/b ', permanent: false }],
      basicAuth: [{ username: 'alice', password: 'pw-1', existing: null }, { username: ' bob ', password: '', existing: 'bob' }],
      responseHeaders: [{ name: ' X-Frame-Options ', value: 'DENY' }, { name: 'Server', value: '' }],
      ipAllowList: '10.0.0.0/8\n\n  192.168.1.7  \r\n',
      rateLimit: { enabled: true, average: 100, burst: 20, periodSeconds: null },
    };
    expect(formToBody(v)).toEqual({
      host: 'App.Example.com',
      pathPrefix: '/api',
      stripPrefix: true,
      port: 3000,
      https: true,
      redirectHttpToHttps: true,
      wwwRedirect: true,
      redirects: [{ regex: '^/a$', replacement: 'https://x.example.com/b', permanent: false }],
      // bob keeps his password: no password field at all.
      basicAuth: [{ username: 'alice', password: 'pw-1' }, { username: 'bob' }],
      responseHeaders: { 'X-Frame-Options': 'DENY', Server: '' },
      ipAllowList: ['10.0.0.0/8', '192.168.1.7'],
      rateLimit: { average: 100, burst: 20 },
    });
  });

  it('removes the rate limit with null, sends / for an empty path and no HTTP→HTTPS redirect without HTTPS', () => {
    const body = formToBody({ ...EMPTY_DOMAIN, host: 'a.example.com', port: 80, pathPrefix: ' ', https: false, redirectHttpToHttps: true, rateLimit: { enabled: false, average: 5, burst: 5, periodSeconds: 1 } });
    expect(body).toMatchObject({ pathPrefix: '/', https: false, redirectHttpToHttps: false, rateLimit: null, redirects: [], basicAuth: [], responseHeaders: {}, ipAllowList: [] });
  });

  it('sends a wildcard host as typed (trimmed), never with the www redirect', () => {
    const body = formToBody({ ...EMPTY_DOMAIN, host: ' *.apps.example.com ', port: 80, wwwRedirect: true });
    expect(body).toMatchObject({ host: '*.apps.example.com', wwwRedirect: false, https: true });
    expect(isWildcardHost(' *.x.com')).toBe(true);
    expect(isWildcardHost('x*.com')).toBe(false);
  });

  it('fills the form from a stored domain (passwords empty, users marked as existing) and back to the same body', () => {
    const v = domainToForm(DOMAIN);
    expect(v.basicAuth).toEqual([{ username: 'alice', password: '', existing: 'alice' }]);
    expect(v.ipAllowList).toBe('10.0.0.0/8\n192.168.1.7/32');
    expect(v.responseHeaders).toEqual([{ name: 'X-Frame-Options', value: 'DENY' }]);
    expect(formToBody(v)).toEqual({
      host: DOMAIN.host, pathPrefix: '/api', stripPrefix: true, port: 8080, https: true, redirectHttpToHttps: true, wwwRedirect: false,
      redirects: DOMAIN.redirects, basicAuth: [{ username: 'alice' }], responseHeaders: DOMAIN.responseHeaders, ipAllowList: DOMAIN.ipAllowList,
      rateLimit: { average: 100, burst: 50, periodSeconds: 1 },
    });
    expect(domainToForm({ ...DOMAIN, rateLimit: null }).rateLimit.enabled).toBe(false);
  });
});

describe('API field errors → form controls', () => {
  const v: DomainFormValue = {
    ...EMPTY_DOMAIN,
    host: 'www',
    responseHeaders: [{ name: 'X-Ok', value: 'a' }, { name: 'Connection', value: 'close' }, { name: 'X-Bad', value: 'a\u0001' }],
    ipAllowList: '10.0.0.1\n\nnot-an-ip\n300.1.1.1/8',
    basicAuth: [{ username: 'alice', password: '', existing: null }],
    redirects: [{ regex: '(?=x)', replacement: 'https://x', permanent: true }],
  };

  it('points each error at the control it concerns', () => {
    const p = domainErrorsToForm(problem([
      { pointer: '/host', detail: 'host must have at least two labels' },
      { pointer: '/wwwRedirect', detail: 'wwwRedirect the host without www. would not be a valid name' },
      { pointer: '/stripPrefix', detail: 'stripPrefix needs a path prefix other than /' },
      { pointer: '/responseHeaders/Connection', detail: 'responseHeaders["Connection"] this header is managed by the proxy and cannot be set' },
      { pointer: '/responseHeaders/X-Bad', detail: 'responseHeaders["X-Bad"] the value must be printable ASCII (no line breaks or control characters)' },
      { pointer: '/ipAllowList/1', detail: 'ipAllowList[1] must be an IP address or CIDR' },
      { pointer: '/ipAllowList/2', detail: 'ipAllowList[2] prefix length must be at most 32' },
      { pointer: '/basicAuth/0/password', detail: 'is required for a new user' },
      { pointer: '/redirects/0/regex', detail: 'redirects[0].regex lookahead and lookbehind are not supported by Traefik (RE2)' },
      { pointer: '/rateLimit/burst', detail: 'rateLimit.burst must be an integer from 1 to 1000000' },
      { pointer: '/rateLimit', detail: 'rateLimit must be an object' },
    ]), v);
    expect(p.errors!.map((e) => [e.pointer, e.detail])).toEqual([
      ['/host', 'host must have at least two labels; wwwRedirect the host without www. would not be a valid name'],
      ['/pathPrefix', 'stripPrefix needs a path prefix other than /'],
      ['/responseHeaders/1/name', 'responseHeaders["Connection"] this header is managed by the proxy and cannot be set'],
      ['/responseHeaders/2/value', 'responseHeaders["X-Bad"] the value must be printable ASCII (no line breaks or control characters)'],
      ['/ipAllowList', 'not-an-ip: must be an IP address or CIDR; 300.1.1.1/8: prefix length must be at most 32'],
      ['/basicAuth/0/password', 'is required for a new user'],
      ['/redirects/0/regex', 'redirects[0].regex lookahead and lookbehind are not supported by Traefik (RE2)'],
      ['/rateLimit/burst', 'rateLimit.burst must be an integer from 1 to 1000000'],
      ['/rateLimit/average', 'rateLimit must be an object'],
    ]);
  });

  it('keeps the 409 on /host at the host field, and leaves what names no shown field for the alert (empty pointer)', () => {
    const conflict = domainErrorsToForm(problem([{ pointer: '/host', detail: 'www.example.com is already in use on this install' }], 409), v);
    expect(conflict.errors).toEqual([{ pointer: '/host', code: 'invalid', detail: 'www.example.com is already in use on this install' }]);
    expect(conflict.status).toBe(409);
    const other = domainErrorsToForm(problem([
      { pointer: '/redirects', detail: 'redirects must have at most 20 entries' },
      { pointer: '/redirects/5/regex', detail: 'no such row' },
      { pointer: '/responseHeaders/X-Gone', detail: 'no such header row' },
      { pointer: '/bogus', detail: 'bogus is not a known field' },
    ]), v);
    expect(other.errors!.map((e) => e.pointer)).toEqual(['', '', '', '']);
  });

  it('finds a header row by a name the server shortened (over 40 characters)', () => {
    const long = `X-${'a'.repeat(60)}`;
    const p = domainErrorsToForm(problem([{ pointer: `/responseHeaders/${long.slice(0, 40)}…`, detail: 'bad' }]), { ...EMPTY_DOMAIN, responseHeaders: [{ name: 'X-A', value: '' }, { name: long, value: '' }] });
    expect(p.errors![0].pointer).toBe('/responseHeaders/1/name');
  });
});

describe('domain list and header links', () => {
  it('links https://host/path, or http:// without HTTPS', () => {
    expect(domainUrl(DOMAIN)).toBe('https://shop.example.com/api');
    expect(domainUrl({ ...DOMAIN, https: false, pathPrefix: '/' })).toBe('http://shop.example.com/');
    expect(domainLabel(DOMAIN)).toBe('shop.example.com/api');
    expect(domainLabel({ ...DOMAIN, pathPrefix: '/' })).toBe('shop.example.com');
  });

  it('summarises the options', () => {
    expect(domainSummary(DOMAIN)).toEqual([
      'port 8080', 'HTTP → HTTPS', 'prefix stripped', '1 redirect', 'basic auth (alice)', '1 response header', 'allow-list: 2 addresses', 'rate limit 100/s (burst 50)',
    ]);
    expect(domainSummary({ ...DOMAIN, https: false, stripPrefix: false, redirects: [], basicAuth: [], responseHeaders: {}, ipAllowList: [], rateLimit: null, wwwRedirect: true })).toEqual(['port 8080', 'www → apex']);
  });

  it('offers one Open link per address', () => {
    const links = domainOpenLinks([DOMAIN, { ...DOMAIN, id: 'd-2' }, { ...DOMAIN, id: 'd-3', host: 'other.example.com', pathPrefix: '/', https: false }]);
    expect(links).toEqual([
      { id: 'd-1', label: 'shop.example.com/api', href: 'https://shop.example.com/api' },
      { id: 'd-3', label: 'other.example.com', href: 'http://other.example.com/' },
    ]);
    expect(domainOpenLinks(null)).toEqual([]);
    // A wildcard is no address to open.
    expect(domainOpenLinks([{ ...DOMAIN, host: '*.example.com' }])).toEqual([]);
  });
});
