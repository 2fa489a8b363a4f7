import bcrypt from 'bcryptjs';
import { hashBasicAuthPassword, verifyBasicAuthPassword, BasicAuthPasswordError } from './basic-auth';
import { checkRedirectRegex, normalizeCidr, normalizeHost, normalizePathPrefix, validateDomainSpec, validateDomainSpecs, LIMITS } from './domain-spec';

const HASH = bcrypt.hashSync('secret', 4);
const base = { host: 'app.example.com', port: 8080, https: true };
const errorsOf = (input: unknown, options = {}) => {
  const r = validateDomainSpec(input, options);
  return r.ok ? [] : r.errors;
};
const fieldsOf = (input: unknown, options = {}) => errorsOf(input, options).map((e) => e.field);

describe('normalizeHost', () => {
  it.each([
    ['app.example.com', 'app.example.com'],
    ['App.Example.COM', 'app.example.com'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['EXAMPLE。com', 'example.com'],
    ['my-app-prod.10.0.0.1.sslip.io', 'my-app-prod.10.0.0.1.sslip.io'],
  ])('accepts %j as %j', (input, host) => {
    expect(normalizeHost(input)).toEqual({ host });
  });

  it.each([
    ['', 'empty'],
    ['localhost', 'single label'],
    ['a..com', 'empty label'],
    ['-a.com', 'leading hyphen'],
    ['a-.com', 'trailing hyphen'],
    ['a_b.com', 'underscore'],
    ['a.com.', 'trailing dot'],
    ['exa mple.com', 'space'],
    ['a.com\nHost: b.com', 'newline'],
    ['a.com\r\n', 'CRLF'],
    ['a.com`) || Host(`evil.com', 'rule break-out with backticks'],
    ['a.com") || Host("evil.com', 'rule break-out with quotes'],
    ["a.com' || Host('evil.com", 'single quotes'],
    ['a.com||b.com', 'pipes'],
    ['Host(`a.com`)', 'matcher'],
    ['a.com && PathPrefix(`/`)', 'and'],
    ['{a: b}.com', 'YAML flow mapping'],
    ['&anchor.com', 'YAML anchor'],
    ['*alias.com', 'YAML alias'],
    ['a.*.com', 'inner wildcard'],
    ['*.example.com', 'wildcard when not allowed'],
    ['**.example.com', 'double wildcard'],
    ['ex%41mple.com', 'percent-encoding (IDNA would decode it)'],
    ['a\u200b.com', 'zero-width space'],
    ['a\u0000.com', 'NUL'],
    ['a.com/path', 'slash'],
    ['user@a.com', 'userinfo'],
    ['a.com:8080', 'port'],
    ['127.0.0.1', 'IPv4'],
    ['１２７.0.0.1', 'full-width IPv4'],
    ['[::1]', 'IPv6'],
    ['a.123', 'numeric TLD'],
    ['xn--zz.com', 'invalid punycode'],
    [`${'a'.repeat(64)}.com`, 'label too long'],
    [`${'a.'.repeat(127)}com`, 'name too long'],
    ['x'.repeat(100_000), 'very long'],
  ])('refuses %j (%s)', (input) => {
    expect(normalizeHost(input)).toHaveProperty('error');
  });

  it('accepts a leading wildcard only when allowed, and nothing after it', () => {
    expect(normalizeHost('*.Example.com', { allowWildcard: true })).toEqual({ host: '*.example.com' });
    expect(normalizeHost('*.*.example.com', { allowWildcard: true })).toHaveProperty('error');
    expect(normalizeHost('*.com', { allowWildcard: true })).toHaveProperty('error');
  });

  it.each([null, undefined, 42, {}, ['a.com']])('refuses non-strings (%j)', (input) => {
    expect(normalizeHost(input)).toHaveProperty('error');
  });
});

describe('normalizePathPrefix', () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/', '/'],
    ['/api', '/api'],
    ['/api/', '/api'],
    ['/a/b-c_d.e~f', '/a/b-c_d.e~f'],
    ['/caf%C3%A9', '/caf%C3%A9'],
  ])('accepts %j as %j', (input, pathPrefix) => {
    expect(normalizePathPrefix(input)).toEqual({ pathPrefix });
  });

  it.each([
    'api', '/../etc', '/a/../b', '/a/./b', '/..', '/%2e%2e/x', '/a%2Fb', '/a%5cb', '/a%00', '//evil.com', '/a//b',
    '/a`) || Host(`evil.com', '/a\n', '/a b', '/a?x=1', '/a#x', '/a"', "/a'", '/a{b}', '/&a', '/*a', '/a|b', '/a\\b', '/%zz',
    '/é', '/a\u202e', `/${'a'.repeat(LIMITS.pathPrefix)}`, 42,
  ])('refuses %j', (input) => {
    expect(normalizePathPrefix(input)).toHaveProperty('error');
  });
});

describe('normalizeCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['192.168.1.10', '192.168.1.10/32'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['::1', '::1/128'],
    ['0.0.0.0/0', '0.0.0.0/0'],
  ])('accepts %j as %j', (input, cidr) => {
    expect(normalizeCidr(input)).toEqual({ cidr });
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0', 'fe80::1%eth0', '10.0.0.0/8\n- 0.0.0.0/0', 'a.com', '', ' 10.0.0.1', '010.0.0.1', '10.0.0.0/08a', 'x'.repeat(1000), 7])('refuses %j', (input) => {
    expect(normalizeCidr(input)).toHaveProperty('error');
  });
});

describe('checkRedirectRegex', () => {
  it.each(['(?i)^https?://Old\\.example\\.com/(.*)\\z', '\\Ahttp://a\\.com/', '^https?://old\\.example\\.com/(.*)', '^http://a\\.com/(?P<rest>.*)$', '^https://a\\.com/blog/([0-9]+)$'])('accepts %j', (regex) => {
    expect(checkRedirectRegex(regex)).toEqual({ regex });
  });

  it.each([
    ['(', 'unbalanced'],
    ['[a-', 'unterminated class'],
    ['a(?=b)', 'lookahead'],
    ['a(?<!b)', 'lookbehind'],
    ['(a)\\1', 'backreference'],
    ['(?<n>a)\\k<n>', 'named backreference'],
    ['a\nb', 'newline'],
    ['a\rb', 'carriage return'],
    ['a\u0000', 'NUL'],
    ['é', 'non-ASCII'],
    ['a'.repeat(LIMITS.regex + 1), 'too long'],
    ['', 'empty'],
  ])('refuses %j (%s)', (regex) => {
    expect(checkRedirectRegex(regex)).toHaveProperty('error');
  });
});

describe('validateDomainSpec', () => {
  it('normalizes a minimal domain and fills defaults', () => {
    const r = validateDomainSpec({ host: 'App.Example.com', port: 80, https: false });
    expect(r).toEqual({
      ok: true,
      value: { host: 'app.example.com', pathPrefix: '/', stripPrefix: false, port: 80, https: false, redirectHttpToHttps: false, wwwRedirect: false, redirects: [], basicAuth: [], responseHeaders: {}, ipAllowList: [] },
    });
  });

  it('accepts every option together', () => {
    const r = validateDomainSpec({
      ...base,
      pathPrefix: '/api/',
      stripPrefix: true,
      redirectHttpToHttps: true,
      wwwRedirect: true,
      redirects: [{ regex: '^https://app\\.example\\.com/old/(.*)', replacement: 'https://app.example.com/new/${1}', permanent: true }],
      basicAuth: [{ username: 'alice', passwordHash: HASH }],
      responseHeaders: { 'X-Frame-Options': 'DENY', 'Content-Security-Policy': "default-src 'self'" },
      ipAllowList: ['10.0.0.0/8', '10.0.0.0/8', '192.168.0.1'],
      rateLimit: { average: 100, burst: 50 },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.pathPrefix).toBe('/api');
    expect(r.value.ipAllowList).toEqual(['10.0.0.0/8', '192.168.0.1/32']);
    expect(r.value.rateLimit).toEqual({ average: 100, burst: 50, periodSeconds: 1 });
  });

  it('names every failing field at once', () => {
    const errors = errorsOf({
      host: 'a.com`)',
      pathPrefix: '/../x',
      port: 70000,
      https: 'yes',
      redirects: [{ regex: '(?=x)', replacement: 'a b' }],
      basicAuth: [{ username: 'bob:x', passwordHash: 'hunter2' }],
      responseHeaders: { 'Bad Header': 'x', 'X-Ok': 'a\r\nSet-Cookie: x=1' },
      ipAllowList: ['10.0.0.0/99'],
      rateLimit: { average: 0, burst: 1.5 },
      extra: true,
    });
    expect(errors.map((e) => e.field).sort()).toEqual([
      'basicAuth[0].passwordHash', 'basicAuth[0].username', 'extra', 'host', 'https', 'ipAllowList[0]', 'pathPrefix', 'port',
      'rateLimit.average', 'rateLimit.burst', 'redirects[0].regex', 'redirects[0].replacement', 'responseHeaders["Bad Header"]', 'responseHeaders["X-Ok"]',
    ].sort());
  });

  it('never echoes a refused password hash (it may be a password typed into the wrong field)', () => {
    const messages = errorsOf({ ...base, basicAuth: [{ username: 'a', passwordHash: 'correct horse battery staple' }] }).map((e) => e.message).join(' ');
    expect(messages).not.toContain('horse');
  });

  it.each([
    [{ ...base, https: undefined }, 'https'],
    [{ ...base, port: 0 }, 'port'],
    [{ ...base, port: 80.5 }, 'port'],
    [{ ...base, port: '80' }, 'port'],
    [{ ...base, https: false, redirectHttpToHttps: true }, 'redirectHttpToHttps'],
    [{ ...base, stripPrefix: true }, 'stripPrefix'],
    [{ ...base, host: 'www.com', wwwRedirect: true }, 'wwwRedirect'],
    [{ ...base, redirects: 'x' }, 'redirects'],
    [{ ...base, redirects: Array(LIMITS.redirects + 1).fill({ regex: 'a', replacement: '/b' }) }, 'redirects'],
    [{ ...base, redirects: [{ regex: 'a', replacement: '/b\n- x' }] }, 'redirects[0].replacement'],
    [{ ...base, redirects: [{ regex: 'a', replacement: 'x'.repeat(LIMITS.replacement + 1) }] }, 'redirects[0].replacement'],
    [{ ...base, redirects: [{ regex: 'a', replacement: '/b', permanent: 'yes' }] }, 'redirects[0].permanent'],
    [{ ...base, basicAuth: [{ username: 'a', passwordHash: HASH }, { username: 'a', passwordHash: HASH }] }, 'basicAuth[1].username'],
    [{ ...base, basicAuth: [{ username: 'a\nb', passwordHash: HASH }] }, 'basicAuth[0].username'],
    [{ ...base, basicAuth: [{ username: 'a', passwordHash: `${HASH}\nroot:${HASH}` }] }, 'basicAuth[0].passwordHash'],
    [{ ...base, basicAuth: [{ username: 'a', passwordHash: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=' }] }, 'basicAuth[0].passwordHash'],
    [{ ...base, basicAuth: [{ username: 'a', passwordHash: '$apr1$abc$def' }] }, 'basicAuth[0].passwordHash'],
    [{ ...base, responseHeaders: { 'X-A': 'x\ny' } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A': '{{ env "WHARF_SECRET" }}' } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A': 'a{{.}}b' } }, 'responseHeaders["X-A"]'],
    [{ ...base, redirects: [{ regex: 'a', replacement: '/{{ env "HOME" }}' }] }, 'redirects[0].replacement'],
    [{ ...base, redirects: [{ regex: 'a{{2}', replacement: '/b' }] }, 'redirects[0].regex'],
    [{ ...base, responseHeaders: { 'X-A': 'x\u0000' } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A': 'x\u007f' } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A': 'héllo' } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A': 'x'.repeat(LIMITS.headerValue + 1) } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A': 1 } }, 'responseHeaders["X-A"]'],
    [{ ...base, responseHeaders: { 'X-A:': 'x' } }, 'responseHeaders["X-A:"]'],
    [{ ...base, responseHeaders: { 'X-A\n': 'x' } }, 'responseHeaders["X-A\\n"]'],
    [{ ...base, responseHeaders: { '': 'x' } }, 'responseHeaders[""]'],
    [{ ...base, responseHeaders: { 'X-É': 'x' } }, 'responseHeaders["X-É"]'],
    [{ ...base, responseHeaders: { 'Content-Length': '0' } }, 'responseHeaders["Content-Length"]'],
    [{ ...base, responseHeaders: { 'transfer-encoding': 'chunked' } }, 'responseHeaders["transfer-encoding"]'],
    [{ ...base, responseHeaders: { 'X-A': 'a', 'x-a': 'b' } }, 'responseHeaders["x-a"]'],
    [{ ...base, responseHeaders: ['X-A'] }, 'responseHeaders'],
    [{ ...base, ipAllowList: '10.0.0.0/8' }, 'ipAllowList'],
    [{ ...base, ipAllowList: Array(LIMITS.ipAllowList + 1).fill('10.0.0.1') }, 'ipAllowList'],
    [{ ...base, rateLimit: { average: 10, burst: 10, periodSeconds: 0 } }, 'rateLimit.periodSeconds'],
    [{ ...base, rateLimit: { average: 1e9, burst: 1 } }, 'rateLimit.average'],
    [{ ...base, rateLimit: { average: 1, burst: 1, extra: 1 } }, 'rateLimit.extra'],
    [{ ...base, rateLimit: 5 }, 'rateLimit'],
  ])('refuses %j on %s', (input, field) => {
    expect(fieldsOf(input)).toContain(field);
  });

  it('truncates a hostile unknown field name in its error', () => {
    const fields = fieldsOf({ ...base, ['x'.repeat(10_000)]: 1 });
    expect(fields[0].length).toBeLessThan(50);
  });

  it.each([null, 'a.com', 42, []])('refuses a non-object (%j)', (input) => {
    expect(fieldsOf(input)).toEqual(['']);
  });

  it('accepts a wildcard host only when allowed', () => {
    expect(fieldsOf({ ...base, host: '*.example.com' })).toEqual(['host']);
    expect(validateDomainSpec({ ...base, host: '*.example.com' }, { allowWildcard: true }).ok).toBe(true);
    expect(fieldsOf({ ...base, host: '*.example.com', wwwRedirect: true }, { allowWildcard: true })).toEqual(['wwwRedirect']);
  });
});

describe('validateDomainSpecs', () => {
  it('refuses the same host and path twice and prefixes field paths with the index', () => {
    const r = validateDomainSpecs([base, { ...base, host: 'APP.example.com', pathPrefix: '/' }, { ...base, port: -1 }]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field)).toEqual(['[1].host', '[2].port']);
  });

  it('accepts the same host on different paths', () => {
    expect(validateDomainSpecs([base, { ...base, pathPrefix: '/api' }]).ok).toBe(true);
  });
});

describe('basic-auth hashing', () => {
  it('hashes with bcrypt into a hash the validator accepts and that verifies', async () => {
    const hash = await hashBasicAuthPassword('pässword', 10);
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(validateDomainSpec({ ...base, basicAuth: [{ username: 'a', passwordHash: hash }] }).ok).toBe(true);
    expect(await verifyBasicAuthPassword('pässword', hash)).toBe(true);
    expect(await verifyBasicAuthPassword('password', hash)).toBe(false);
  });

  it('refuses empty passwords, ones bcrypt would shorten and weak costs', async () => {
    await expect(hashBasicAuthPassword('')).rejects.toThrow(BasicAuthPasswordError);
    await expect(hashBasicAuthPassword('é'.repeat(37))).rejects.toThrow(/72 bytes/);
    await expect(hashBasicAuthPassword('x', 4)).rejects.toThrow(BasicAuthPasswordError);
  });
});
