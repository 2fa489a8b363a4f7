import Ajv from 'ajv';
import { parse } from 'yaml';
import { ACME_CHALLENGE_PRIORITY, RoutingRenderError, TraefikDynamicConfig, hostRule, renderAcmeChallengeConfig, renderInstanceConfig, routerPriority, toTraefikYaml } from './traefik-config';
import { TRAEFIK_V3_DYNAMIC_SCHEMA, checkReferences, matchersOf, parseRule } from './testing/traefik-v3-check';

const validateSchema = new Ajv({ allErrors: true, strict: true }).compile(TRAEFIK_V3_DYNAMIC_SCHEMA);
const CERT = { certFile: '/etc/traefik/dynamic/certs/instance-abc.crt', keyFile: '/etc/traefik/dynamic/certs/instance-abc.key' };

function checked(config: TraefikDynamicConfig): TraefikDynamicConfig {
  const parsed = parse(toTraefikYaml(config)) as TraefikDynamicConfig;
  expect(parsed).toEqual(config);
  expect(validateSchema(parsed)).toBe(true);
  expect(checkReferences(parsed)).toEqual([]);
  for (const r of Object.values(parsed.http.routers)) expect(() => parseRule(r.rule)).not.toThrow();
  return parsed;
}

describe("Wharf's own host behind the edge", () => {
  it('serves plain HTTP and HTTPS to the API until a certificate is valid', () => {
    const c = checked(renderInstanceConfig({ installId: 'i7k2', host: 'Wharf.Example.com', apiUrl: 'http://172.18.0.1:3000', certificate: null }));
    expect(Object.keys(c.http.routers).sort()).toEqual(['wharf-i7k2-instance-secure', 'wharf-i7k2-instance-web']);
    const web = c.http.routers['wharf-i7k2-instance-web'];
    expect(web.middlewares).toBeUndefined();
    expect(matchersOf(parseRule(web.rule))).toEqual([{ name: 'Host', args: ['wharf.example.com'] }]);
    expect(c.http.routers['wharf-i7k2-instance-secure']).toMatchObject({ entryPoints: ['websecure'], tls: {} });
    expect(c.http.services['wharf-i7k2-instance-api'].loadBalancer.servers).toEqual([{ url: 'http://172.18.0.1:3000' }]);
    expect(c.tls).toBeUndefined();
  });

  it('with a certificate: the certificate files, and HTTP redirects to HTTPS; the challenge router still outranks it', () => {
    const c = checked(renderInstanceConfig({ installId: 'i7k2', host: 'wharf.example.com', apiUrl: 'http://172.18.0.1:3000', certificate: CERT }));
    expect(c.tls).toEqual({ certificates: [CERT] });
    const web = c.http.routers['wharf-i7k2-instance-web'];
    expect(c.http.middlewares![web.middlewares![0]]).toEqual({ redirectScheme: { scheme: 'https', permanent: true } });
    const challenge = Object.values(renderAcmeChallengeConfig({ installId: 'i7k2', apiUrl: 'http://172.18.0.1:3000' }).http.routers)[0];
    expect(challenge.priority).toBe(ACME_CHALLENGE_PRIORITY);
    expect(web.priority ?? web.rule.length).toBeLessThan(ACME_CHALLENGE_PRIORITY);
  });

  it("outranks an organization's wildcard covering Wharf's host", () => {
    const c = checked(renderInstanceConfig({ installId: 'i7k2', host: 'wharf.example.com', apiUrl: 'http://172.18.0.1:3000', certificate: CERT }));
    const rule = hostRule('*.example.com');
    for (const r of Object.values(c.http.routers)) expect(r.priority!).toBeGreaterThan(routerPriority('*.example.com', rule));
  });

  it.each([
    ['an address', '203.0.113.7'],
    ['a wildcard', '*.example.com'],
    ['a rule break-out', 'wharf.example.com`) || Host(`x'],
    ['empty', ''],
  ])('refuses %s as the host', (_what, host) => {
    expect(() => renderInstanceConfig({ installId: 'i7k2', host, apiUrl: 'http://172.18.0.1:3000', certificate: null })).toThrow(RoutingRenderError);
  });

  it('refuses certificate paths outside the dynamic directory syntax', () => {
    expect(() => renderInstanceConfig({ installId: 'i7k2', host: 'wharf.example.com', apiUrl: 'http://h:1', certificate: { certFile: '../x.crt', keyFile: CERT.keyFile } })).toThrow(RoutingRenderError);
  });
});
