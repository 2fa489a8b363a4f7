import { checkGitRef, checkRelativePath, checkTagPattern, isGitHost, parseGitRepository, validateGitSource } from './git-source';

const base = { repository: 'https://git.example.com/team/app.git', ref: 'main', auth: { kind: 'none' } };

/** Values a user (or an attacker) has typed into Git-based PaaS products to reach a shell or an option. */
const HOSTILE = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '--upload-pack=touch /tmp/pwned',
  '-oProxyCommand=touch /tmp/pwned',
  'ext::sh -c touch% /tmp/pwned',
  '-u',
  'main\nrm -rf /',
  'main\r',
  'a\0b',
  '../../etc/passwd',
  'a|b',
  'a&&b',
];

describe('parseGitRepository', () => {
  it.each([
    ['https://github.com/acme/app.git', 'https', 'github.com', null, null, '/acme/app.git'],
    ['https://GitLab.Example.com:8443/group/sub/app', 'https', 'gitlab.example.com', 8443, null, '/group/sub/app'],
    ['ssh://git@github.com/acme/app.git', 'ssh', 'github.com', null, 'git', '/acme/app.git'],
    ['ssh://git@[2001:db8::1]:2222/srv/app.git', 'ssh', '2001:db8::1', 2222, 'git', '/srv/app.git'],
    ['git@github.com:acme/app.git', 'ssh', 'github.com', null, 'git', 'acme/app.git'],
    ['https://10.1.2.3/x.git', 'https', '10.1.2.3', null, null, '/x.git'],
  ])('accepts %s', (url, transport, host, port, user, path) => {
    const r = parseGitRepository(url);
    expect(r).toEqual({ ok: true, value: expect.objectContaining({ transport, host, port, user, path }) });
  });

  it('keeps the URL git will use (lowercase host, IPv6 in brackets, scp-like stays scp-like)', () => {
    expect(parseGitRepository('https://GitHub.com/A/B.git')).toMatchObject({ value: { url: 'https://github.com/A/B.git' } });
    expect(parseGitRepository('ssh://git@[2001:DB8::1]/r')).toMatchObject({ value: { url: 'ssh://git@[2001:db8::1]/r' } });
    expect(parseGitRepository('git@Host.example:a/b')).toMatchObject({ value: { url: 'git@host.example:a/b' } });
  });

  it.each([
    ['http://git.example.com/a.git', /https/],
    ['git://git.example.com/a.git', /https/],
    ['file:///etc/passwd', /https/],
    ['file://localhost/srv/repo', /https/],
    ['/srv/repo.git', /https/],
    ['./repo', /https/],
    ['ext::sh -c touch% /tmp/pwned', /printable|remote helpers/],
    ['ext::sh', /remote helpers/],
    ['fd::3', /remote helpers/],
    ['foo::https://x.example/a', /remote helpers/],
    ['-oProxyCommand=touch', /start with -/],
    ['--upload-pack=touch', /start with -/],
    ['ssh://-oProxyCommand=touch/a', /not allowed|host/],
    ['ssh://git@-oProxyCommand=x/a', /not allowed|host/],
    ['-oProxyCommand=x@host:repo', /start with -/],
    ['git@host:-repo', /starts with -/],
    ['git@host:a/-b', /starts with -/],
    ['https://user:secret@github.com/a.git', /credentials/],
    ['https://secret@github.com/a.git', /credentials/],
    ['https://github.com/a.git?x=1', /not allowed/],
    ['https://github.com/a.git#frag', /not allowed/],
    ['https://github.com/a b.git', /printable/],
    ['https://github.com/a.git\n', /printable/],
    ['https://github.com/a\tb', /printable/],
    ['https://github.com/$(id)', /not allowed/],
    ['https://github.com/`id`', /not allowed/],
    ['https://github.com/a;b', /not allowed/],
    ['https://github.com/a/../../b', /\.\./],
    ['https://github.com/%2e%2e/b', /not allowed/],
    ['https://github.com', /path/],
    ['https://github.com/', /path/],
    ['https://git_hub.com/a', /host/],
    ['https://github.com:0/a', /port/],
    ['https://github.com:99999/a', /port/],
    ['https://github.com:/a', /port/],
    ['https://127.1/a', /host/],
    ['https://2130706433/a', /host/],
    ['https://0x7f.0.0.1/a', /host/],
    ['https://[fe80::1%25eth0]/a', /not allowed/],
    ['ssh://github.com/a.git', /user/],
    ['ssh://g$t@github.com/a.git', /not allowed/],
    ['https://gïthub.com/a', /printable/],
  ])('refuses %j', (url, message) => {
    const r = parseGitRepository(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it.each(HOSTILE)('refuses the hostile value %j', (v) => {
    expect(parseGitRepository(v).ok).toBe(false);
    expect(parseGitRepository(`https://github.com/${v}`).ok).toBe(false);
  });
});

describe('isGitHost', () => {
  it.each(['github.com', 'localhost', 'a-b.example', '10.0.0.1', '::1', '2001:db8::1'])('accepts %s', (h) => expect(isGitHost(h)).toBe(true));
  it.each(['', '-a.example', 'a_b.example', 'a..b', '127.1', '999.1.1.1', '0x7f000001', 'a.123', 'x'.repeat(64) + '.com'])('refuses %j', (h) =>
    expect(isGitHost(h)).toBe(false));
});

describe('checkGitRef', () => {
  it.each(['main', 'feature/login', 'release-1.2', 'v1.2.3', 'refs/heads/main', 'refs/tags/v1', 'a'.repeat(40), 'f'.repeat(64), 'user@host', 'x+y'])(
    'accepts %j',
    (r) => expect(checkGitRef(r)).toBeNull(),
  );
  it.each([
    ['', /required/],
    ['a..b', /\.\./],
    ['-main', /start with -/],
    ['--upload-pack=touch /tmp/pwned', /spaces|start with -/],
    ['+main', /start with \+/],
    ['main@{1}', /@\{/],
    ['@', /@/],
    ['a b', /spaces/],
    ['a\nb', /spaces/],
    ['a\tb', /spaces/],
    ['a\0b', /spaces/],
    ['a~1', /~/],
    ['a^', /~/],
    ['a:b', /~/],
    ['a?', /~/],
    ['a*', /~/],
    ['a[b', /~/],
    ['a\\b', /~/],
    ['a.lock', /\.lock/],
    ['a.lock/b', /\.lock/],
    ['a/', /\//],
    ['/a', /\//],
    ['a//b', /\//],
    ['a.', /end with \./],
    ['.a', /starts with \./],
    ['a/.b', /starts with \./],
    ['HEAD', /branch/],
    ['refs/remotes/origin/main', /refs\/heads/],
    ['x'.repeat(256), /255/],
    ['$(id)', /shell/],
    ['`id`', /shell/],
    ['a|b', /shell/],
    ['a&&b', /shell/],
    ['; rm -rf /', /spaces/],
    ['ä', /ASCII/],
  ])('refuses %j', (r, message) => {
    const e = checkGitRef(r);
    expect(e).not.toBeNull();
    expect(e).toMatch(message);
  });
  it('refuses every hostile value', () => {
    for (const v of HOSTILE) expect(checkGitRef(v)).not.toBeNull();
  });
});

describe('checkRelativePath', () => {
  it.each(['.', './', 'apps/web', './apps/web', 'apps/web/', 'a.b/c-d_e'])('accepts the build path %j', (p) => expect(checkRelativePath(p)).toBeNull());
  it.each(['src/**/*.ts', 'docs/*.md', '!(x)', 'a/{b,c}'])('accepts the glob %j', (p) => expect(checkRelativePath(p, { glob: true })).toBeNull());
  it.each([
    ['/etc', /leading \//],
    ['-rf', /start with -/],
    ['--upload-pack=x', /start with -/],
    ['..', /\.\./],
    ['a/../../b', /\.\./],
    ['a/..', /\.\./],
    ['a\\..\\b', /\//],
    ['a\nb', /line breaks/],
    ['a\0b', /line breaks/],
    ['a//b', /\/\//],
    ['a/./b', /\. segments/],
    ['$(id)', /only letters/],
    ['`id`', /only letters/],
    ['; rm -rf /', /only letters/],
    ['a b', /only letters/],
    ['src/*', /glob/],
  ])('refuses the build path %j', (p, message) => expect(checkRelativePath(p)).toMatch(message));
});

describe('validateGitSource', () => {
  it('normalises a valid source and fills defaults', () => {
    expect(validateGitSource({ ...base, buildPath: './apps/web/', watchPaths: ['apps/web/**', './libs/'] })).toEqual({
      ok: true,
      value: { repository: 'https://git.example.com/team/app.git', ref: 'main', buildPath: 'apps/web', watchPaths: ['apps/web/**', 'libs'], submodules: false, deployTags: [], auth: { kind: 'none' } },
    });
    expect(validateGitSource({ ...base, submodules: true, auth: { kind: 'token', username: 'oauth2', token: 'glpat-xyz' } })).toMatchObject({
      ok: true,
      value: { submodules: true, auth: { kind: 'token', username: 'oauth2', token: 'glpat-xyz' } },
    });
    expect(validateGitSource({ repository: 'git@github.com:a/b.git', ref: 'a'.repeat(40), auth: { kind: 'deploy-key' } })).toMatchObject({ ok: true });
  });

  it('names each bad field', () => {
    const r = validateGitSource({
      repository: 'ext::sh -c id',
      ref: '--upload-pack=x',
      buildPath: '../x',
      watchPaths: ['ok/**', '/abs'],
      submodules: 'yes',
      auth: { kind: 'ftp' },
      extra: 1,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.field).sort()).toEqual(['auth/kind', 'buildPath', 'extra', 'ref', 'repository', 'submodules', 'watchPaths/1']);
    }
  });

  it('matches the authentication to the transport', () => {
    const errs = (input: object) => (validateGitSource(input) as { errors?: Array<{ field: string; message: string }> }).errors ?? [];
    expect(errs({ ...base, auth: { kind: 'deploy-key' } })).toEqual([{ field: 'auth/kind', message: expect.stringMatching(/SSH/) }]);
    expect(errs({ ...base, repository: 'git@h.example:a', auth: { kind: 'token', token: 't' } })).toEqual([{ field: 'auth/kind', message: expect.stringMatching(/https/) }]);
    expect(errs({ ...base, repository: 'git@h.example:a' })).toEqual([{ field: 'auth/kind', message: expect.stringMatching(/deploy key/) }]);
  });

  it('never echoes a value, not even a secret typed into the wrong place', () => {
    const secret = 'ghp_SuperSecretValue123';
    const r = validateGitSource({
      repository: `https://x:${secret}@github.com/a.git`,
      ref: `${secret} `,
      buildPath: `/${secret}`,
      watchPaths: [`../${secret}`],
      auth: { kind: 'token', token: `${secret}\n`, username: `${secret} ` },
    });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(secret);
    expect(JSON.stringify(r)).not.toContain('SuperSecret');
  });

  it('refuses tokens with line breaks (they would split the Authorization header)', () => {
    expect(validateGitSource({ ...base, auth: { kind: 'token', token: 'a\r\nX-Evil: 1' } })).toMatchObject({ ok: false, errors: [{ field: 'auth/token' }] });
  });

  it('refuses non-objects and missing fields', () => {
    expect(validateGitSource(null)).toEqual({ ok: false, errors: [{ field: '', message: 'must be an object' }] });
    const r = validateGitSource({});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['auth', 'ref', 'repository']);
  });

  it.each(HOSTILE)('refuses %j in every field', (v) => {
    for (const field of ['repository', 'ref', 'buildPath'] as const) {
      const r = validateGitSource({ ...base, [field]: v });
      expect({ field, v, ok: r.ok }).toEqual({ field, v, ok: false });
    }
  });
});

describe('deployTags (checkTagPattern)', () => {
  it('takes tag-name globs, de-duplicated', () => {
    for (const p of ['v*', 'v[0-9]*', 'release-*', 'v{1,2}.*', 'prod/*', 'v1.2.3', '?x', 'build@2+1']) expect(checkTagPattern(p)).toBeNull();
    expect(validateGitSource({ ...base, deployTags: ['v*', 'v*', 'release-*'] })).toMatchObject({ ok: true, value: { deployTags: ['v*', 'release-*'] } });
  });

  it('refuses hostile or malformed patterns, naming the entry', () => {
    for (const p of [...HOSTILE, '', 'refs/tags/v*', '/v*', 'v\\*', 'v*!(x)', 'a'.repeat(101), 'v *', 42]) expect(checkTagPattern(p)).not.toBeNull();
    const r = validateGitSource({ ...base, deployTags: ['v*', '$(id)'] });
    expect(r).toEqual({ ok: false, errors: [expect.objectContaining({ field: 'deployTags/1' })] });
    expect(validateGitSource({ ...base, deployTags: 'v*' })).toEqual({ ok: false, errors: [expect.objectContaining({ field: 'deployTags' })] });
    expect(validateGitSource({ ...base, deployTags: Array.from({ length: 21 }, (_, i) => `v${i}`) })).toEqual({ ok: false, errors: [expect.objectContaining({ field: 'deployTags' })] });
  });
});
