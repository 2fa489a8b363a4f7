import { ValidationError } from '@wharf/core';
import { verifyBasicAuthPassword } from '../basic-auth';
import { defaultHostFor, domainSpecFromInput, fieldPathToPointer } from './domain.commands';

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
