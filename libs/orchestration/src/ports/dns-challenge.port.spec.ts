import { checkTxtArguments, DnsChallengeError, normaliseDnsName, validateDnsProviderConfig } from './dns-challenge.port';

const SECRET = Buffer.alloc(32, 7).toString('base64');
const rfc2136 = { kind: 'rfc2136', server: 'ns1.example.com', zone: 'example.com', tsigKeyName: 'acme-key', tsigAlgorithm: 'hmac-sha256', tsigSecret: SECRET };
const fields = (input: unknown) => {
  const r = validateDnsProviderConfig(input);
  return r.ok ? [] : r.errors.map((e) => e.field);
};

describe('validateDnsProviderConfig', () => {
  it('accepts each provider and normalises names', () => {
    expect(validateDnsProviderConfig({ ...rfc2136, zone: 'Example.COM.', port: 5353, transport: 'udp' })).toEqual({
      ok: true,
      value: { ...rfc2136, zone: 'example.com', port: 5353, transport: 'udp' },
    });
    expect(validateDnsProviderConfig({ ...rfc2136, server: '192.0.2.1' }).ok).toBe(true);
    expect(validateDnsProviderConfig({ ...rfc2136, server: '2001:db8::53' }).ok).toBe(true);
    expect(validateDnsProviderConfig({ kind: 'cloudflare', apiToken: 'abc_DEF-123' }).ok).toBe(true);
    expect(validateDnsProviderConfig({ kind: 'route53', accessKeyId: 'AKIAEXAMPLE123456789', secretAccessKey: 'x/y+z', hostedZoneId: '/hostedzone/Z123' })).toEqual({
      ok: true,
      value: { kind: 'route53', accessKeyId: 'AKIAEXAMPLE123456789', secretAccessKey: 'x/y+z', hostedZoneId: 'Z123' },
    });
    expect(validateDnsProviderConfig({ kind: 'challtestsrv', managementUrl: 'http://127.0.0.1:8055' }).ok).toBe(true);
  });

  it('refuses hostile input, naming the field and never echoing the value', () => {
    expect(fields(null)).toEqual(['']);
    expect(fields({ kind: 'bind' })).toEqual(['kind']);
    expect(fields({ ...rfc2136, server: 'ns1.example.com\r\nX: y' })).toEqual(['server']);
    expect(fields({ ...rfc2136, server: 'http://ns1' })).toEqual(['server']);
    expect(fields({ ...rfc2136, port: 0 })).toEqual(['port']);
    expect(fields({ ...rfc2136, port: 65536 })).toEqual(['port']);
    expect(fields({ ...rfc2136, port: '53' })).toEqual(['port']);
    expect(fields({ ...rfc2136, zone: 'exa mple.com' })).toEqual(['zone']);
    expect(fields({ ...rfc2136, zone: 'example..com' })).toEqual(['zone']);
    expect(fields({ ...rfc2136, tsigKeyName: 'key\n' })).toEqual(['tsigKeyName']);
    expect(fields({ ...rfc2136, tsigAlgorithm: 'hmac-md5' })).toEqual(['tsigAlgorithm']);
    expect(fields({ ...rfc2136, tsigSecret: 'not base64!' })).toEqual(['tsigSecret']);
    expect(fields({ ...rfc2136, tsigSecret: 'c2hvcnQ=' })).toEqual(['tsigSecret']);
    expect(fields({ ...rfc2136, transport: 'tls' })).toEqual(['transport']);
    expect(fields({ ...rfc2136, extra: 1 })).toEqual(['extra']);
    expect(fields({ kind: 'cloudflare', apiToken: 'a b' })).toEqual(['apiToken']);
    expect(fields({ kind: 'cloudflare', apiToken: 't', zoneId: '../zones' })).toEqual(['zoneId']);
    expect(fields({ kind: 'cloudflare', apiToken: 't', apiBase: 'file:///etc/passwd' })).toEqual(['apiBase']);
    expect(fields({ kind: 'cloudflare', apiToken: 't', apiBase: 'http://u:p@host/' })).toEqual(['apiBase']);
    expect(fields({ kind: 'route53', accessKeyId: 'akia', secretAccessKey: 's\r\n', hostedZoneId: 'Z/../x', region: 'mars' }).sort()).toEqual(['accessKeyId', 'hostedZoneId', 'region', 'secretAccessKey']);
    expect(fields({ kind: 'challtestsrv', managementUrl: 'javascript:alert(1)' })).toEqual(['managementUrl']);
    const r = validateDnsProviderConfig({ ...rfc2136, tsigSecret: 'secret-that-is-not-base64' });
    expect(JSON.stringify(r)).not.toContain('secret-that-is-not-base64');
  });
});

describe('names and values', () => {
  it('normalises DNS names and refuses others', () => {
    expect(normaliseDnsName('_ACME-Challenge.Example.com.')).toBe('_acme-challenge.example.com');
    for (const bad of ['', '.', 'com', 'a..b', '-a.b', 'a-.b', 'a b.c', 'a.b\n', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}com`, '*.example.com', 'é.com']) {
      expect(normaliseDnsName(bad)).toBeNull();
    }
  });
  it('TXT values are printable, without spaces, quotes or backslashes, at most 255', () => {
    expect(checkTxtArguments('_acme-challenge.example.com', 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0')).toBe('_acme-challenge.example.com');
    for (const bad of ['', 'a b', 'a"b', 'a\\b', 'a\nb', 'x'.repeat(256)]) {
      expect(() => checkTxtArguments('_acme-challenge.example.com', bad)).toThrow(DnsChallengeError);
    }
  });
});
