import { ValidationError } from '@wharf/core';
import { verifyBasicAuthPassword } from '../basic-auth';
import { defaultHostFor, domainSpecFromInput, domainSpecOf, fieldPathToPointer, hostClaim } from './domain.commands';
import type { DomainEntity } from './domain.entity';

describe('fieldPathToPointer', () => {
  it.each([
    ['host', '/host'],
    ['redirects[2].regex', '/redirects/2/regex'],
    ['responseHeaders["X-Foo"]', '/responseHeaders/X-Foo'],
    ['responseHeaders["a/b~c"]', '/responseHeaders/a~1b~0c'],
    ['ipAllowList[0]', '/ipAllowList/0'],
    ['rateLimit.average', '/rateLimit/average'],
    ['', ''],
  ])('%s → %s', (field, pointer) => expect(fieldPathToPointer(field)).toBe(pointer));
});

describe('domainSpecFromInput', () => {
  const errorsOf = async (input: unknown, existing = [] as Array<{ username: string; passwordHash: string }>) => {
    try {
      await domainSpecFromInput(input, existing);
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return ((e as ValidationError).errors ?? []).map((x) => x.pointer).sort();
    }
    throw new Error('expected a validation error');
  };

  it('hashes new passwords (bcrypt) and keeps an existing user\'s hash when no password is given', async () => {
    const spec = await domainSpecFromInput({ host: 'a.example.com', port: 80, https: false, basicAuth: [{ username: 'ann', password: 'pw-one' }] });
    expect(spec.basicAuth[0].passwordHash).toMatch(/^\$2b\$12\$/);
    expect(await verifyBasicAuthPassword('pw-one', spec.basicAuth[0].passwordHash)).toBe(true);
    const kept = await domainSpecFromInput({ host: 'a.example.com', port: 80, https: false, basicAuth: [{ username: 'ann' }] }, spec.basicAuth);
    expect(kept.basicAuth[0].passwordHash).toBe(spec.basicAuth[0].passwordHash);
  });

  it('names every bad field as a pointer, checking all of them before hashing anything', async () => {
    expect(await errorsOf({ host: 'bad host', port: 0, https: false, basicAuth: [{ username: 'new' }, { username: 'x', password: '' }, { username: 'bad name', password: 'p', other: 1 }] })).toEqual(
      ['/basicAuth/0/password', '/basicAuth/1/password', '/basicAuth/2/other', '/basicAuth/2/username', '/host', '/port'],
    );
    expect(await errorsOf({ host: 'a.example.com', port: 80, https: false, basicAuth: [{ username: 'u', password: 'x'.repeat(73) }] })).toEqual(['/basicAuth/0/password']);
    expect(await errorsOf('nope')).toEqual(['']);
  });
});

describe('wildcard hosts', () => {
  it('the API input accepts *.example.com (normalized like any host) but no www redirect on it', async () => {
    const spec = await domainSpecFromInput({ host: '*.Apps.Example.com', port: 80, https: true });
    expect(spec.host).toBe('*.apps.example.com');
    await expect(domainSpecFromInput({ host: '*.example.com', port: 80, https: true, wwwRedirect: true })).rejects.toMatchObject({ errors: [expect.objectContaining({ pointer: '/wwwRedirect' })] });
    for (const host of ['*.com', 'a.*.example.com', '**.example.com', '*example.com', '*.*.example.com']) {
      await expect(domainSpecFromInput({ host, port: 80, https: false })).rejects.toMatchObject({ errors: [expect.objectContaining({ pointer: '/host' })] });
    }
  });

  it('a stored wildcard domain still reaches the renderer', () => {
    const row = { host: '*.apps.example.com', pathPrefix: '/', basicAuth: [], options: { stripPrefix: false, port: 80, https: true, redirectHttpToHttps: false, wwwRedirect: false, redirects: [], responseHeaders: {}, ipAllowList: [] } };
    expect(domainSpecOf(row as unknown as DomainEntity)?.host).toBe('*.apps.example.com');
  });
});

describe('hostClaim (the names a domain holds, for the conflict rule)', () => {
  it('a specific host claims itself and is checked against the wildcard one label up', () => {
    expect(hostClaim('x.example.com', false)).toEqual({ names: ['x.example.com'], wildcardBases: [], coveringWildcards: ['*.example.com'], locks: ['*.example.com', 'x.example.com'] });
  });

  it('a wildcard claims its base for names one label under it, and shares its lock with each of them', () => {
    const wild = hostClaim('*.example.com', false);
    expect(wild).toEqual({ names: ['*.example.com'], wildcardBases: ['example.com'], coveringWildcards: [], locks: ['*.example.com'] });
    // The lock a wildcard takes is one every name directly under it takes too: the two requests are serialized.
    expect(hostClaim('x.example.com', false).locks).toContain(wild.locks[0]);
    expect(hostClaim('a.b.example.com', false).locks).not.toContain(wild.locks[0]);
  });

  it('with a www redirect both forms count, and each form\'s covering wildcard', () => {
    expect(hostClaim('shop.example.com', true)).toEqual({
      names: ['shop.example.com', 'www.shop.example.com'], wildcardBases: [], coveringWildcards: ['*.example.com', '*.shop.example.com'],
      locks: ['*.example.com', '*.shop.example.com', 'shop.example.com', 'www.shop.example.com'],
    });
  });
});

describe('defaultHostFor', () => {
  it('makes one DNS label of application and environment under the wildcard, numbered on later attempts', () => {
    expect(defaultHostFor('Shop API', 'production', '203.0.113.7.sslip.io')).toBe('shop-api-production.203.0.113.7.sslip.io');
    expect(defaultHostFor('shop', 'staging', 'apps.example.com', 2)).toBe('shop-staging-3.apps.example.com');
    expect(defaultHostFor('Ünïcode!!', '--', 'x.test')).toBe('unicode-env.x.test');
    const long = defaultHostFor('a'.repeat(80), 'production', 'x.test', 11);
    expect(long.split('.')[0].length).toBeLessThanOrEqual(63);
    expect(long.split('.')[0]).toMatch(/^a+-12$/);
  });
});
