import Ajv from 'ajv';
import bcrypt from 'bcryptjs';
import { parse, parseAllDocuments } from 'yaml';
import { DomainSpec, ValidDomainSpec, validateDomainSpec } from '../domain-spec';
import {
  ACME_CHALLENGE_PRIORITY, EXACT_HOST_PRIORITY_BASE, RoutingRenderError, TraefikDynamicConfig, applicationFileKey, applicationStem, domainRule,
  renderAcmeChallengeConfig, renderApplicationConfig, routerPriority, ruleLiteral, toTraefikYaml,
} from './traefik-config';
import { TRAEFIK_V3_DYNAMIC_SCHEMA, checkReferences, matchersOf, parseRule } from './testing/traefik-v3-check';

const HASH = bcrypt.hashSync('secret', 4);
const INSTALL = 'i7k2';
const APP = '0190f3c2-7a4b-7c1d-8e2f-123456789abc';
const STEM = `wharf-${INSTALL}-${APP}`;
const ajv = new Ajv({ allErrors: true, strict: true });
const validateSchema = ajv.compile(TRAEFIK_V3_DYNAMIC_SCHEMA);

function valid(spec: Partial<DomainSpec> & { host?: string }, options = {}): ValidDomainSpec {
  const r = validateDomainSpec({ host: 'app.example.com', port: 8080, https: true, ...spec }, options);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function render(domains: ValidDomainSpec[], certificates?: { certFile: string; keyFile: string }[]): TraefikDynamicConfig {
  return renderApplicationConfig({ installId: INSTALL, applicationId: APP, serviceName: 'wharf-app-web', domains, certificates });
}

/** Renders, serializes, parses back and runs every structural check; returns the parsed file. */
function renderChecked(domains: ValidDomainSpec[], certificates?: { certFile: string; keyFile: string }[]): TraefikDynamicConfig {
  const config = render(domains, certificates);
  const text = toTraefikYaml(config);
  const docs = parseAllDocuments(text);
  expect(docs).toHaveLength(1);
  expect(docs[0].errors).toEqual([]);
  const parsed = parse(text) as TraefikDynamicConfig;
  expect(parsed).toEqual(config);
  const ok = validateSchema(parsed);
  expect(validateSchema.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  expect(checkReferences(parsed)).toEqual([]);
  for (const r of Object.values(parsed.http.routers)) parseRule(r.rule);
  return parsed;
}

const everything: Partial<DomainSpec> = {
  pathPrefix: '/api',
  stripPrefix: true,
  redirectHttpToHttps: true,
  wwwRedirect: true,
  redirects: [{ regex: '^https://app\\.example\\.com/api/old/(?P<rest>.*)', replacement: 'https://app.example.com/api/new/${rest}', permanent: false }],
  basicAuth: [{ username: 'alice', passwordHash: HASH }, { username: 'bob', passwordHash: HASH }],
  responseHeaders: { 'X-Frame-Options': 'DENY', 'X-Robots-Tag': '' },
  ipAllowList: ['10.0.0.0/8', '2001:db8::/32'],
  rateLimit: { average: 100, burst: 200, periodSeconds: 60 },
};

describe('structural check of the Traefik v3 schema itself', () => {
  it('refuses unknown keys, a router without a service and unknown middleware kinds', () => {
    expect(validateSchema({ http: { routers: { r: { rule: 'Host(`a.com`)' } } } })).toBe(false);
    expect(validateSchema({ http: { routers: { r: { rule: 'Host(`a.com`)', service: 's', tlsx: {} } } } })).toBe(false);
    expect(validateSchema({ http: { middlewares: { m: { ipWhiteList: { sourceRange: ['10.0.0.0/8'] } } } } })).toBe(false);
    expect(validateSchema({ http: { middlewares: { m: { headers: { customResponseHeaders: { a: 1 } } } } } })).toBe(false);
    expect(validateSchema({ http: {}, tcp: {} })).toBe(false);
  });

  it('parses Traefik v3 rules and refuses broken ones', () => {
    expect(matchersOf(parseRule('Host(`a.com`) && PathPrefix(`/x`)'))).toEqual([{ name: 'Host', args: ['a.com'] }, { name: 'PathPrefix', args: ['/x'] }]);
    expect(() => parseRule('Host(`a.com`) && ')).toThrow();
    expect(() => parseRule('Host(`a.com``)')).toThrow();
    expect(() => parseRule('Hostx(`a.com`)')).toThrow();
    expect(() => parseRule('Host(`a.com`) Host(`b.com`)')).toThrow();
  });
});

describe('renderApplicationConfig', () => {
  it('a plain HTTP domain: one web router, one service on the service DNS name and port, no middlewares', () => {
    const c = renderChecked([valid({ https: false, port: 3000 })]);
    expect(c).toEqual({
      http: {
        routers: { [`${STEM}-d0-web`]: { entryPoints: ['web'], rule: 'Host(`app.example.com`)', priority: EXACT_HOST_PRIORITY_BASE + 'Host(`app.example.com`)'.length, service: `${STEM}-p3000` } },
        services: { [`${STEM}-p3000`]: { loadBalancer: { servers: [{ url: 'http://wharf-app-web:3000' }], passHostHeader: true } } },
      },
    });
  });

  it('host + path: the rule is Host && PathPrefix; stripPrefix removes that prefix', () => {
    const c = renderChecked([valid({ https: false, pathPrefix: '/api/v1/', stripPrefix: true })]);
    const router = c.http.routers[`${STEM}-d0-web`];
    expect(router.rule).toBe('Host(`app.example.com`) && PathPrefix(`/api/v1`)');
    expect(matchersOf(parseRule(router.rule))).toEqual([{ name: 'Host', args: ['app.example.com'] }, { name: 'PathPrefix', args: ['/api/v1'] }]);
    expect(router.middlewares).toEqual([`${STEM}-d0-strip`]);
    expect(c.http.middlewares?.[`${STEM}-d0-strip`]).toEqual({ stripPrefix: { prefixes: ['/api/v1'] } });
  });

  it('https without redirect: websecure router with tls, and plain HTTP serves the same chain', () => {
    const c = renderChecked([valid({ responseHeaders: { 'X-A': 'b' } })]);
    const priority = EXACT_HOST_PRIORITY_BASE + 'Host(`app.example.com`)'.length;
    expect(c.http.routers[`${STEM}-d0-secure`]).toEqual({ entryPoints: ['websecure'], rule: 'Host(`app.example.com`)', priority, service: `${STEM}-p8080`, tls: {}, middlewares: [`${STEM}-d0-headers`] });
    expect(c.http.routers[`${STEM}-d0-web`]).toEqual({ entryPoints: ['web'], rule: 'Host(`app.example.com`)', priority, service: `${STEM}-p8080`, middlewares: [`${STEM}-d0-headers`] });
  });

  it('https with redirect: the web router only redirects to https (permanent)', () => {
    const c = renderChecked([valid({ redirectHttpToHttps: true, basicAuth: [{ username: 'a', passwordHash: HASH }] })]);
    expect(c.http.routers[`${STEM}-d0-web`].middlewares).toEqual([`${STEM}-d0-tohttps`]);
    expect(c.http.middlewares?.[`${STEM}-d0-tohttps`]).toEqual({ redirectScheme: { scheme: 'https', permanent: true } });
    expect(c.http.routers[`${STEM}-d0-secure`].middlewares).toEqual([`${STEM}-d0-auth`]);
  });

  it('every option: the middleware chain in its documented order', () => {
    const c = renderChecked([valid(everything)]);
    expect(c.http.routers[`${STEM}-d0-secure`].middlewares).toEqual(['allow', 'ratelimit', 'headers', 'redirect0', 'auth', 'strip'].map((m) => `${STEM}-d0-${m}`));
    const mw = c.http.middlewares!;
    expect(mw[`${STEM}-d0-allow`]).toEqual({ ipAllowList: { sourceRange: ['10.0.0.0/8', '2001:db8::/32'] } });
    expect(mw[`${STEM}-d0-ratelimit`]).toEqual({ rateLimit: { average: 100, burst: 200, period: '60s' } });
    expect(mw[`${STEM}-d0-headers`]).toEqual({ headers: { customResponseHeaders: { 'X-Frame-Options': 'DENY', 'X-Robots-Tag': '' } } });
    expect(mw[`${STEM}-d0-redirect0`]).toEqual({ redirectRegex: { regex: everything.redirects![0].regex, replacement: everything.redirects![0].replacement, permanent: false } });
    expect(mw[`${STEM}-d0-auth`]).toEqual({ basicAuth: { users: [`alice:${HASH}`, `bob:${HASH}`], removeHeader: true } });
    expect(mw[`${STEM}-d0-strip`]).toEqual({ stripPrefix: { prefixes: ['/api'] } });
  });

  it('basic-auth users are bcrypt hashes that verify the password', () => {
    const c = renderChecked([valid({ basicAuth: [{ username: 'alice', passwordHash: HASH }] })]);
    const [user] = (c.http.middlewares![`${STEM}-d0-auth`] as { basicAuth: { users: string[] } }).basicAuth.users;
    const [name, hash] = [user.slice(0, user.indexOf(':')), user.slice(user.indexOf(':') + 1)];
    expect(name).toBe('alice');
    expect(bcrypt.compareSync('secret', hash)).toBe(true);
  });

  it.each([
    ['app.example.com', 'www.app.example.com'],
    ['www.example.com', 'example.com'],
  ])('www redirect on %s: %s is routed and redirected to the host, keeping path and query', (host, other) => {
    const c = renderChecked([valid({ host, wwwRedirect: true })]);
    expect(c.http.routers[`${STEM}-d0-www-web`].rule).toBe(`Host(\`${other}\`)`);
    expect(c.http.routers[`${STEM}-d0-www-secure`].tls).toEqual({});
    const { redirectRegex } = c.http.middlewares![`${STEM}-d0-www`] as { redirectRegex: { regex: string; replacement: string; permanent: boolean } };
    expect(redirectRegex.permanent).toBe(true);
    const re = new RegExp(redirectRegex.regex);
    const target = (url: string) => url.replace(re, redirectRegex.replacement.replace('${1}', '$1'));
    expect(target(`http://${other}`)).toBe(`https://${host}`);
    expect(target(`http://${other}/a/b?c=d`)).toBe(`https://${host}/a/b?c=d`);
    expect(target(`https://${other}:443/`)).toBe(`https://${host}/`);
    expect(re.test(`https://x${other}/`)).toBe(false);
    expect(re.test(`https://${other}.evil.com/`)).toBe(false);
  });

  it('user redirect regexes compile (RE2 named groups included)', () => {
    const c = renderChecked([valid(everything)]);
    for (const m of Object.values(c.http.middlewares!)) {
      if ('redirectRegex' in m) expect(() => new RegExp(m.redirectRegex.regex.replace(/\(\?P</g, '(?<'))).not.toThrow();
    }
  });

  it('a wildcard host becomes an anchored HostRegexp', () => {
    const c = renderChecked([valid({ host: '*.apps.example.com', https: false }, { allowWildcard: true })]);
    const rule = c.http.routers[`${STEM}-d0-web`].rule;
    expect(rule).toBe('HostRegexp(`^[a-z0-9-]+\\.apps\\.example\\.com$`)');
    const re = new RegExp(matchersOf(parseRule(rule))[0].args[0]);
    expect(re.test('x.apps.example.com')).toBe(true);
    expect(re.test('apps.example.com')).toBe(false);
    expect(re.test('x.apps.example.com.evil.com')).toBe(false);
    expect(re.test('a.b.apps.example.com')).toBe(false);
  });

  it('an exact host outranks a wildcard covering it, whatever the rule lengths; the longer path still wins within each kind', () => {
    const wildcard = (host: string, pathPrefix?: string) => valid({ host, https: true, ...(pathPrefix ? { pathPrefix } : {}) }, { allowWildcard: true });
    // Two applications of one organization: the wildcard (a long HostRegexp) and a short specific host under it.
    const wild = renderChecked([wildcard('*.example.com'), wildcard('*.example.com', '/api/v1')]);
    const exact = renderChecked([valid({ host: 'a.example.com' }), valid({ host: 'a.example.com', pathPrefix: '/x' })]);
    const w = wild.http.routers;
    const e = exact.http.routers;
    // Traefik's default would be the rule length, which puts the wildcard first: the renderer sets priorities instead.
    expect(w[`${STEM}-d0-secure`].rule.length).toBeGreaterThan(e[`${STEM}-d0-secure`].rule.length);
    for (const [name, r] of Object.entries({ ...w, ...e })) expect([name, r.priority]).toEqual([name, expect.any(Number)]);
    const maxWildcard = Math.max(...Object.values(w).map((r) => r.priority!));
    const minExact = Math.min(...Object.values(e).map((r) => r.priority!));
    expect(minExact).toBeGreaterThan(maxWildcard);
    // Within each kind, the longer path prefix first (as Traefik's rule-length default would have it).
    expect(w[`${STEM}-d1-secure`].priority!).toBeGreaterThan(w[`${STEM}-d0-secure`].priority!);
    expect(e[`${STEM}-d1-secure`].priority!).toBeGreaterThan(e[`${STEM}-d0-secure`].priority!);
    expect(w[`${STEM}-d0-web`].priority).toBe(w[`${STEM}-d0-secure`].priority);
    // The longest wildcard rule still ranks below the shortest exact rule, and everything below the challenge router.
    const longest = wildcard(`*.${Array.from({ length: 4 }, () => 'a'.repeat(60)).join('.')}`, `/${'p'.repeat(255)}`);
    const longestRule = Object.values(render([longest]).http.routers)[0];
    const shortest = Object.values(render([valid({ host: 'a.bc', https: false })]).http.routers)[0];
    expect(longestRule.priority!).toBeLessThan(shortest.priority!);
    expect(routerPriority('x.example.com', 'r'.repeat(2000))).toBeLessThan(ACME_CHALLENGE_PRIORITY);
    // A www redirect router is on an exact host too.
    const www = render([valid({ host: 'example.com', wwwRedirect: true })]).http.routers[`${STEM}-d0-www-secure`];
    expect(www.priority).toBe(EXACT_HOST_PRIORITY_BASE + www.rule.length);
  });

  it('tls.certificates lists the certificate files when given', () => {
    const c = renderChecked([valid({})], [{ certFile: '/certs/app.example.com/chain.pem', keyFile: '/certs/app.example.com/key.pem' }]);
    expect(c.tls).toEqual({ certificates: [{ certFile: '/certs/app.example.com/chain.pem', keyFile: '/certs/app.example.com/key.pem' }] });
    expect(render([valid({})]).tls).toBeUndefined();
  });

  it.each(['relative/chain.pem', '/certs/../etc/shadow', '/certs/a b.pem', '/certs/a\n- x', '/certs/`x`'])('refuses certificate path %j', (certFile) => {
    expect(() => render([valid({})], [{ certFile, keyFile: '/k.pem' }])).toThrow(RoutingRenderError);
  });

  it('several domains share one service per port and get their own routers', () => {
    const c = renderChecked([valid({}), valid({ host: 'other.example.com', https: false }), valid({ host: 'admin.example.com', port: 9000, https: false })]);
    expect(Object.keys(c.http.services).sort()).toEqual([`${STEM}-p8080`, `${STEM}-p9000`]);
    expect(Object.keys(c.http.routers).sort()).toEqual([`${STEM}-d0-secure`, `${STEM}-d0-web`, `${STEM}-d1-web`, `${STEM}-d2-web`]);
  });

  it('names are derived from ids only; ids outside the id charset are refused', () => {
    const c = render([valid(everything)]);
    for (const name of [...Object.keys(c.http.routers), ...Object.keys(c.http.services), ...Object.keys(c.http.middlewares!)]) expect(name.startsWith(`${STEM}-`)).toBe(true);
    expect(applicationFileKey(APP)).toBe(`app-${APP}`);
    for (const bad of ['A', '../x', 'x\n', 'x y', '', 'x'.repeat(65), 'x`']) {
      expect(() => applicationStem(bad, APP)).toThrow(RoutingRenderError);
      expect(() => applicationStem(INSTALL, bad)).toThrow(RoutingRenderError);
    }
    expect(() => renderApplicationConfig({ installId: INSTALL, applicationId: APP, serviceName: 'a:80/x', domains: [] })).toThrow(RoutingRenderError);
  });

  it('the same input renders byte-identical YAML (unchanged domains never rewrite the file)', () => {
    expect(toTraefikYaml(render([valid(everything)]))).toBe(toTraefikYaml(render([valid(everything)])));
  });
});

describe('hostile values are inert in the YAML and in rules', () => {
  it('header values and regexes full of YAML syntax stay plain strings', () => {
    const nasty = `*a &b {c: d} [e] 'f' "g" # h | > % @ \` !!python/object ---`;
    const c = renderChecked([
      valid({
        responseHeaders: { 'X-A': nasty, 'X-B': '---', 'X-C': 'null', 'X-D': '~', 'X-E': 'true', 'X-F': '0x10', "X-G'`|": '...' },
        redirects: [{ regex: '^https://a\\.com/\\{(.*)\\}[#&*]!|---', replacement: "https://b.com/'\"`{}[]&*#${1}", permanent: true }],
      }),
    ]);
    const headers = (c.http.middlewares![`${STEM}-d0-headers`] as { headers: { customResponseHeaders: Record<string, string> } }).headers.customResponseHeaders;
    expect(headers).toEqual({ 'X-A': nasty, 'X-B': '---', 'X-C': 'null', 'X-D': '~', 'X-E': 'true', 'X-F': '0x10', "X-G'`|": '...' });
    for (const v of Object.values(headers)) expect(typeof v).toBe('string');
  });

  it('a Go template action that slipped past validation is refused at serialization (Traefik evaluates files as templates)', () => {
    const forged = { ...valid({}), responseHeaders: { 'X-A': '{{ env "WHARF_SECRET" }}' } } as ValidDomainSpec;
    expect(() => toTraefikYaml(render([forged]))).toThrow(RoutingRenderError);
    // A lone closing delimiter or single braces are inert text for text/template.
    expect(() => toTraefikYaml(render([valid({ responseHeaders: { 'X-A': '}} {x} }' } })]))).not.toThrow();
  });

  it('the YAML has no anchors or aliases even when values repeat', () => {
    const text = toTraefikYaml(render([valid(everything), valid({ ...everything, host: 'b.example.com' })]));
    expect(text).not.toMatch(/^[^#'"]*[&*][a-z0-9]+\s*$/m);
    expect(parseAllDocuments(text)).toHaveLength(1);
  });

  it.each([
    'a.com`) || Host(`evil.com',
    'a.com") || Host("evil.com',
    '/x`) || PathPrefix(`/',
    'a b',
    'a\nb',
    '',
  ])('ruleLiteral refuses %j (it never sees unvalidated input, and would not let it through if it did)', (value) => {
    expect(() => ruleLiteral(value)).toThrow(RoutingRenderError);
  });

  it('a spec forged past the validator with a break-out host cannot produce a second matcher', () => {
    const forged = { ...valid({}), host: 'a.com`) || Host(`evil.com' } as ValidDomainSpec;
    expect(() => render([forged])).toThrow(RoutingRenderError);
    expect(() => domainRule('a.com', '/x` || Path(`/')).toThrow(RoutingRenderError);
  });

  it.each(['a.com`) || Host(`evil.com', 'évil.com\n', '{a}.com', '*.a.com'])('validated hosts always render one Host matcher (%j)', (host) => {
    const r = validateDomainSpec({ host, port: 80, https: false });
    if (!r.ok) return; // refused: nothing to render
    const c = renderChecked([r.value]);
    expect(matchersOf(parseRule(c.http.routers[`${STEM}-d0-web`].rule)).map((m) => m.name)).toEqual(['Host']);
  });
});

describe('renderAcmeChallengeConfig', () => {
  it('routes /.well-known/acme-challenge/ on web for any host to the Wharf API, above every domain router', () => {
    const c = renderAcmeChallengeConfig({ installId: INSTALL, apiServiceName: 'wharf-api', apiPort: 3000 });
    expect(validateSchema(c)).toBe(true);
    expect(checkReferences(c)).toEqual([]);
    const [router] = Object.values(c.http.routers);
    expect(router).toEqual({ entryPoints: ['web'], rule: 'PathPrefix(`/.well-known/acme-challenge/`)', priority: ACME_CHALLENGE_PRIORITY, service: `wharf-${INSTALL}-acme-api` });
    expect(c.http.services[router.service]).toEqual({ loadBalancer: { servers: [{ url: 'http://wharf-api:3000' }], passHostHeader: true } });
    // Traefik's default priority is the rule length; the longest valid domain rule stays far below.
    const longest = domainRule(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, `/${'p'.repeat(255)}`);
    expect(longest.length).toBeLessThan(ACME_CHALLENGE_PRIORITY);
  });

  it('refuses bad ids, names and ports', () => {
    expect(() => renderAcmeChallengeConfig({ installId: 'X', apiServiceName: 'wharf-api', apiPort: 3000 })).toThrow(RoutingRenderError);
    expect(() => renderAcmeChallengeConfig({ installId: INSTALL, apiServiceName: 'wharf api', apiPort: 3000 })).toThrow(RoutingRenderError);
    expect(() => renderAcmeChallengeConfig({ installId: INSTALL, apiServiceName: 'wharf-api', apiPort: 0 })).toThrow(RoutingRenderError);
  });
});
