import { parseGitRepository } from '@wharf/contracts';
import type { GitRepositoryUrl } from '@wharf/contracts';
import { GitCliAdapter, resolveSubmoduleUrl } from './git-cli.adapter';
import { GitSourceError } from '../ports/git.port';

const repo = (url: string): GitRepositoryUrl => {
  const r = parseGitRepository(url);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe('resolveSubmoduleUrl', () => {
  it('resolves relative URLs against the parent repository as git does', () => {
    expect(resolveSubmoduleUrl(repo('https://h.example:8443/group/app.git'), '../lib.git')).toBe('https://h.example:8443/group/lib.git');
    expect(resolveSubmoduleUrl(repo('https://h.example/group/app.git'), './sub.git')).toBe('https://h.example/group/app.git/sub.git');
    expect(resolveSubmoduleUrl(repo('ssh://git@h.example/group/app.git'), '../../other/lib')).toBe('ssh://git@h.example/other/lib');
    expect(resolveSubmoduleUrl(repo('git@h.example:group/app.git'), '../lib.git')).toBe('git@h.example:group/lib.git');
    expect(resolveSubmoduleUrl(repo('ssh://git@[2001:db8::1]:22/a/b'), '../c')).toBe('ssh://git@[2001:db8::1]:22/a/c');
  });
  it('keeps absolute URLs (they are validated afterwards) and refuses climbing above the host', () => {
    expect(resolveSubmoduleUrl(repo('https://h.example/app.git'), 'ext::sh -c id')).toBe('ext::sh -c id');
    expect(resolveSubmoduleUrl(repo('https://h.example/app.git'), '../../../x')).toBeNull();
  });
});

describe('GitCliAdapter input checks', () => {
  const adapter = new GitCliAdapter({ gitBinary: '/nonexistent/git' });
  const base = { repository: 'https://h.example/a.git', ref: 'main', auth: { kind: 'none' as const }, submodules: false, directory: '/tmp/x', deadlineMs: 1000, maxBytes: 1 };
  it.each([
    [{ ref: '--upload-pack=x' }, /ref/],
    [{ repository: 'ext::sh -c x' }, /repository/],
    [{ commit: 'abc' }, /commit/],
    [{ directory: 'relative' }, /absolute/],
    [{ maxBytes: 0 }, /size limit/],
    [{ auth: { kind: 'token', token: 'a\nb' } }, /token/],
    [{ auth: { kind: 'deploy-key', privateKey: 'x', knownHosts: [] } }, /SSH repository/],
    [{ repository: 'git@h.example:a', auth: { kind: 'deploy-key', privateKey: 'not a key', knownHosts: [] } }, /PEM/],
    [{ repository: 'git@h.example:a', auth: { kind: 'deploy-key', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n', knownHosts: ['a\nb'] } }, /known host/],
    [{ repository: 'git@h.example:a' }, /deploy key/],
  ])('refuses %j before running git', async (over, message) => {
    const e = await adapter.checkout({ ...base, ...over } as never).catch((x) => x);
    expect(e).toBeInstanceOf(GitSourceError);
    expect((e as GitSourceError).reason).toBe('invalid-input');
    expect((e as GitSourceError).message).toMatch(message);
  });
});
