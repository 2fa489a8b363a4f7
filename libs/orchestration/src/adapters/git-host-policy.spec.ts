import { checkGitHost, isPublicAddress } from './git-host-policy';
import { GitSourceError } from '../ports/git.port';

describe('isPublicAddress', () => {
  it.each(['140.82.112.3', '8.8.8.8', '1.1.1.1', '2606:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])('public: %s', (a) =>
    expect(isPublicAddress(a)).toBe(true));
  it.each([
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.1',
    '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::127.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::1', '2002:a9fe:a9fe::',
    'not-an-ip', '',
  ])('not public: %s', (a) => expect(isPublicAddress(a)).toBe(false));
});

describe('checkGitHost', () => {
  const lookupOf = (table: Record<string, string[]>) => async (h: string) => table[h] ?? [];

  it('returns the addresses of a public host', async () => {
    await expect(checkGitHost('git.example.com', { allowPrivate: false, lookup: lookupOf({ 'git.example.com': ['140.82.112.3'] }) })).resolves.toEqual(['140.82.112.3']);
  });

  it('refuses a name with any private address (git may connect to any of them)', async () => {
    const lookup = lookupOf({ 'mixed.example.com': ['140.82.112.3', '10.0.0.5'], 'meta.example.com': ['169.254.169.254'] });
    await expect(checkGitHost('mixed.example.com', { allowPrivate: false, lookup })).rejects.toMatchObject({ reason: 'host-refused', message: /10\.0\.0\.5/ });
    await expect(checkGitHost('meta.example.com', { allowPrivate: false, lookup })).rejects.toBeInstanceOf(GitSourceError);
  });

  it('refuses IP literals and localhost without a lookup of its own', async () => {
    await expect(checkGitHost('127.0.0.1', { allowPrivate: false })).rejects.toMatchObject({ reason: 'host-refused' });
    await expect(checkGitHost('[::1]', { allowPrivate: false })).rejects.toMatchObject({ reason: 'host-refused' });
    await expect(checkGitHost('localhost', { allowPrivate: false })).rejects.toMatchObject({ reason: 'host-refused' });
  });

  it('allows private hosts when the instance does', async () => {
    await expect(checkGitHost('127.0.0.1', { allowPrivate: true })).resolves.toEqual(['127.0.0.1']);
    await expect(checkGitHost('localhost', { allowPrivate: true })).resolves.toContain('127.0.0.1');
  });

  it('refuses a name that does not resolve', async () => {
    await expect(checkGitHost('nowhere.invalid', { allowPrivate: true, lookup: lookupOf({}) })).rejects.toMatchObject({ reason: 'host-refused', message: /does not resolve/ });
    await expect(checkGitHost('nowhere.invalid', { allowPrivate: true, lookup: async () => { throw new Error('ENOTFOUND'); } })).rejects.toMatchObject({ reason: 'host-refused' });
  });
});
