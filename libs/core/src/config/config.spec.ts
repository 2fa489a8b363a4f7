import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config';

const KEY = 'a'.repeat(64);
const dir = () => mkdtempSync(join(tmpdir(), 'wharf-config-'));

describe('loadConfig', () => {
  it('reads defaults and a hex key', () => {
    const c = loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: dir() });
    expect(c.role).toBe('all');
    expect(c.port).toBe(3000);
    expect(c.secretKeys.get('k1')).toHaveLength(32);
  });

  it('puts the Traefik directory under the data directory unless WHARF_TRAEFIK_DIR names one', () => {
    const data = dir();
    expect(loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data }).traefikDir).toBe(join(data, 'traefik', 'dynamic'));
    expect(loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data, WHARF_TRAEFIK_DIR: '/srv/traefik/dynamic/' }).traefikDir).toBe('/srv/traefik/dynamic');
  });

  it('runs the edge (pinned Traefik on 80/443) by default, except under NODE_ENV=test; every part is configurable', () => {
    const data = dir();
    const prod = loadConfig({ NODE_ENV: 'production', WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data });
    expect([prod.edgeEnabled, prod.traefikImage, prod.edgeHttpPort, prod.edgeHttpsPort]).toEqual([true, 'traefik:v3.4.1', 80, 443]);
    expect(loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data }).edgeEnabled).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data }).edgeEnabled).toBe(false);
    const set = loadConfig({
      NODE_ENV: 'test', WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data, WHARF_EDGE_ENABLED: 'true', WHARF_EDGE_HTTP_PORT: '18080', WHARF_EDGE_HTTPS_PORT: '18443',
      WHARF_TRAEFIK_IMAGE: '127.0.0.1:5000/proxy/traefik:v3.4.1@sha256:' + 'ab'.repeat(32),
    });
    expect([set.edgeEnabled, set.traefikImage, set.edgeHttpPort, set.edgeHttpsPort]).toEqual([true, '127.0.0.1:5000/proxy/traefik:v3.4.1@sha256:' + 'ab'.repeat(32), 18080, 18443]);
    expect(loadConfig({ NODE_ENV: 'production', WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data, WHARF_EDGE_ENABLED: 'false' }).edgeEnabled).toBe(false);
  });

  it('reads the ACME settings: directories, extra CA, CAA identities, public addresses, resolvers, challenge upstream', () => {
    const data = mkdtempSync(join(tmpdir(), 'wharf-config-'));
    const d = loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data, PORT: '3100' }).acme;
    expect(d).toEqual({
      directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', stagingDirectoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory',
      caPem: null, caaIdentities: ['letsencrypt.org'], publicIps: [], dnsServers: [], challengeUpstream: 'http://172.18.0.1:3100', wildcardDomain: null,
    });
    const ca = join(data, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const s = loadConfig({
      WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: data, WHARF_ACME_DIRECTORY_URL: 'https://127.0.0.1:14000/dir', WHARF_ACME_CA_FILE: ca, WHARF_ACME_CAA_IDENTITIES: 'pebble.example, letsencrypt.org',
      WHARF_PUBLIC_IPS: '203.0.113.7,2001:db8::7', WHARF_DNS_SERVERS: '127.0.0.1:8053,[::1]:53', WHARF_INTERNAL_URL: 'http://wharf-api:3000/', WHARF_WILDCARD_DOMAIN: '203.0.113.7.sslip.io',
    }).acme;
    expect(s).toMatchObject({ directoryUrl: 'https://127.0.0.1:14000/dir', caaIdentities: ['pebble.example', 'letsencrypt.org'], publicIps: ['203.0.113.7', '2001:db8::7'], dnsServers: ['127.0.0.1:8053', '[::1]:53'], challengeUpstream: 'http://wharf-api:3000', wildcardDomain: '203.0.113.7.sslip.io' });
    expect(s.caPem).toContain('BEGIN CERTIFICATE');
  });

  it("Wharf's own host behind the edge: an https public URL on a domain name only", () => {
    const tls = (env: Record<string, string>) => loadConfig({ WHARF_SECRET_KEY: KEY, ...env }).instanceTls;
    expect(tls({})).toEqual({ host: null, certFile: null, keyFile: null, email: null });
    expect(tls({ WHARF_PUBLIC_URL: 'https://Wharf.Example.com/' }).host).toBe('wharf.example.com');
    expect(tls({ WHARF_PUBLIC_URL: 'http://wharf.example.com' }).host).toBeNull();
    expect(tls({ WHARF_PUBLIC_URL: 'https://203.0.113.7' }).host).toBeNull();
    expect(tls({ WHARF_PUBLIC_URL: 'https://localhost:3000' }).host).toBeNull();
    expect(tls({ WHARF_PUBLIC_URL: 'https://wharf.example.com', WHARF_TLS_CERT_FILE: '/etc/wharf/tls.crt', WHARF_TLS_KEY_FILE: '/etc/wharf/tls.key', WHARF_ACME_EMAIL: 'ops@example.com' }))
      .toEqual({ host: 'wharf.example.com', certFile: '/etc/wharf/tls.crt', keyFile: '/etc/wharf/tls.key', email: 'ops@example.com' });
  });

  it.each([
    [{ WHARF_TLS_CERT_FILE: '/etc/wharf/tls.crt' }, /^WHARF_TLS_CERT_FILE and WHARF_TLS_KEY_FILE: set both or neither/],
    [{ WHARF_TLS_CERT_FILE: 'tls.crt', WHARF_TLS_KEY_FILE: '/k' }, /^WHARF_TLS_CERT_FILE: must be an absolute path/],
    [{ WHARF_ACME_EMAIL: 'not an address' }, /^WHARF_ACME_EMAIL: expected an e-mail address/],
  ])("refuses Wharf's own TLS setting %j", (env, message) => {
    expect(() => loadConfig({ WHARF_SECRET_KEY: KEY, ...env })).toThrow(message);
  });

  it.each([
    [{ WHARF_ACME_DIRECTORY_URL: 'http://acme.example.com/dir' }, /^WHARF_ACME_DIRECTORY_URL: expected an https URL/],
    [{ WHARF_ACME_CA_FILE: '/nonexistent/ca.pem' }, /^WHARF_ACME_CA_FILE: cannot read/],
    [{ WHARF_PUBLIC_IPS: '203.0.113.7,example.com' }, /^WHARF_PUBLIC_IPS: expected comma-separated IP addresses, got "example.com"/],
    [{ WHARF_DNS_SERVERS: 'dns.example.com' }, /^WHARF_DNS_SERVERS:/],
    [{ WHARF_INTERNAL_URL: 'https://x/y' }, /^WHARF_INTERNAL_URL:/],
    [{ WHARF_WILDCARD_DOMAIN: '*.example.com' }, /^WHARF_WILDCARD_DOMAIN:/],
  ])('refuses ACME setting %j', (env, message) => {
    expect(() => loadConfig({ WHARF_SECRET_KEY: KEY, ...env })).toThrow(message);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: expected an integer/],
    [{ PORT: '70000' }, /^PORT: must be between/],
    [{ WHARF_ROLE: 'both' }, /^WHARF_ROLE: must be all, api or worker/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: protocol/],
    [{ REDIS_URL: 'not a url' }, /^REDIS_URL: not a valid URL/],
    [{ WHARF_SECRET_KEY: 'short' }, /^WHARF_SECRET_KEY: must be 32 bytes/],
    [{ CORS_ORIGINS: 'nope' }, /^CORS_ORIGINS:/],
    [{ WHARF_PUBLIC_URL: 'ftp://wharf.example.com' }, /^WHARF_PUBLIC_URL: protocol/],
    [{ WHARF_PUBLIC_URL: 'wharf.example.com' }, /^WHARF_PUBLIC_URL: not a valid URL/],
    [{ WHARF_TRUST_PROXY: 'yes' }, /^WHARF_TRUST_PROXY: "yes" is not an address/],
    [{ WHARF_TRUST_PROXY: '10.0.0.0/33' }, /^WHARF_TRUST_PROXY: "10.0.0.0\/33"/],
    [{ WHARF_TRAEFIK_DIR: 'relative/dir' }, /^WHARF_TRAEFIK_DIR: must be an absolute path/],
    [{ WHARF_TRAEFIK_IMAGE: 'traefik' }, /^WHARF_TRAEFIK_IMAGE: name a tag or digest/],
    [{ WHARF_TRAEFIK_IMAGE: 'registry.example.com:5000/traefik' }, /^WHARF_TRAEFIK_IMAGE: name a tag or digest/],
    [{ WHARF_TRAEFIK_IMAGE: 'traefik:v3 --api.insecure' }, /^WHARF_TRAEFIK_IMAGE: not a valid image reference/],
    [{ WHARF_TRAEFIK_IMAGE: 'Traefik:v3.4' }, /^WHARF_TRAEFIK_IMAGE: not a valid image reference/],
    [{ WHARF_EDGE_ENABLED: 'maybe' }, /^WHARF_EDGE_ENABLED: expected true or false/],
    [{ WHARF_EDGE_HTTP_PORT: '0' }, /^WHARF_EDGE_HTTP_PORT: must be between/],
    [{ WHARF_EDGE_HTTP_PORT: '8443', WHARF_EDGE_HTTPS_PORT: '8443' }, /^WHARF_EDGE_HTTPS_PORT: must differ/],
    [{ WHARF_EDGE_HTTP_PORT: '3000' }, /^WHARF_EDGE_HTTP_PORT\/WHARF_EDGE_HTTPS_PORT: must differ from PORT/],
  ])('stops with one line naming the setting: %j', (env, message) => {
    expect(() => loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: dir(), ...env } as Record<string, string>)).toThrow(message);
    try {
      loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: dir(), ...env } as Record<string, string>);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('reads the public URL and which proxies are trusted', () => {
    const d = loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: dir(), PORT: '3100' });
    expect(d.publicUrl).toBe('http://localhost:3100');
    expect(d.trustProxy).toEqual(['loopback']);
    const c = loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: dir(), WHARF_PUBLIC_URL: 'https://wharf.example.com/', WHARF_TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::1' });
    expect(c.publicUrl).toBe('https://wharf.example.com');
    expect(c.trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
    expect(loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_DATA_DIR: dir(), WHARF_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('refuses to start in production without a key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', WHARF_DATA_DIR: dir() })).toThrow(/^WHARF_SECRET_KEY: required in production/);
  });

  it('generates a development key once, mode 0600, and says so', () => {
    const d = dir();
    const notices: string[] = [];
    const a = loadConfig({ WHARF_DATA_DIR: d }, (m) => notices.push(m));
    const b = loadConfig({ WHARF_DATA_DIR: d }, (m) => notices.push(m));
    expect(a.secretKeys.get('k1')!.equals(b.secretKeys.get('k1')!)).toBe(true);
    expect(notices).toHaveLength(1);
    expect(statSync(join(d, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('reads *_FILE variants for secrets', () => {
    const d = dir();
    writeFileSync(join(d, 'k'), `${KEY}\n`);
    const c = loadConfig({ WHARF_SECRET_KEY_FILE: join(d, 'k'), WHARF_DATA_DIR: d });
    expect(c.secretKeys.get('k1')!.toString('hex')).toBe(readFileSync(join(d, 'k'), 'utf8').trim());
    expect(() => loadConfig({ WHARF_SECRET_KEY_FILE: join(d, 'missing'), WHARF_DATA_DIR: d })).toThrow(/^WHARF_SECRET_KEY_FILE: cannot read/);
  });

  it('accepts old keys for rotation', () => {
    const c = loadConfig({ WHARF_SECRET_KEY: KEY, WHARF_SECRET_KEY_ID: 'k2', WHARF_OLD_SECRET_KEYS: `k1:${'b'.repeat(64)}`, WHARF_DATA_DIR: dir() });
    expect([...c.secretKeys.keys()].sort()).toEqual(['k1', 'k2']);
  });
});
