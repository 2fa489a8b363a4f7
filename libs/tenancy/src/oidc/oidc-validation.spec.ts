import { ValidationError } from '@wharf/core';
import { safeReturnTo } from './oidc-login.commands';
import { validateProviderInput } from './oidc-provider.commands';
import { insecureIssuerAllowed } from './oidc-client';

describe('OIDC input rules', () => {
  it('keeps only same-site relative returnTo paths', () => {
    expect(safeReturnTo('/projects/1?tab=env#x')).toBe('/projects/1?tab=env#x');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'evil', '', '/a b', '/a\u0000', undefined, 42, `/${'a'.repeat(2001)}`]) {
      expect(safeReturnTo(bad)).toBe('/');
    }
  });

  it('allows plain-http issuers only outside production or on loopback', () => {
    expect(insecureIssuerAllowed('http://idp.internal', 'development')).toBe(true);
    expect(insecureIssuerAllowed('http://idp.internal', 'production')).toBe(false);
    expect(insecureIssuerAllowed('http://127.0.0.1:9000', 'production')).toBe(true);
    expect(insecureIssuerAllowed('http://localhost:9000', 'production')).toBe(true);
    expect(insecureIssuerAllowed('https://idp.example', 'production')).toBe(false);
  });

  const pointers = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ValidationError) return (e.errors ?? []).map((x) => x.pointer);
      throw e;
    }
    return [];
  };

  it('validates issuer, scopes, domains, claim and role targets', () => {
    expect(pointers(() => validateProviderInput({ issuerUrl: 'ftp://x.example' }, 'test'))).toEqual(['/issuerUrl']);
    expect(pointers(() => validateProviderInput({ issuerUrl: 'https://u:p@x.example' }, 'test'))).toEqual(['/issuerUrl']);
    expect(pointers(() => validateProviderInput({ issuerUrl: 'http://idp.example' }, 'production'))).toEqual(['/issuerUrl']);
    expect(pointers(() => validateProviderInput({ scopes: ['email'] }, 'test'))).toEqual(['/scopes']);
    expect(pointers(() => validateProviderInput({ allowedDomains: ['not a domain'] }, 'test'))).toEqual(['/allowedDomains']);
    expect(pointers(() => validateProviderInput({ roleMapping: { a: 'root' }, defaultRole: 'god' }, 'test'))).toEqual(['/roleMapping/a', '/defaultRole']);
    const ok = validateProviderInput({ issuerUrl: ' https://idp.example/realms/x ', scopes: ['openid', 'email', 'openid'], allowedDomains: ['@Example.COM'], roleClaim: 'realm_access.roles' }, 'production');
    expect(ok).toMatchObject({ issuerUrl: 'https://idp.example/realms/x', scopes: ['openid', 'email'], allowedDomains: ['example.com'], roleClaim: 'realm_access.roles' });
  });
});
