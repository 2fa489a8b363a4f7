import type { Problem } from '../../core/api/problem';
import type { ApplicationSource } from '../../core/api/sources-api.service';
import {
  archiveContentType, buildArgRows, buildArgsFromRows, deploymentCommit, EMPTY_SOURCE, firstLine, formatBytes, formToBody, parseKnownHosts, parseWatchPaths, shortSha, sourceErrorsToForm, SourceFormValue, sourceToForm, webhookUrls,
} from './source-form';

const SOURCE: ApplicationSource = {
  applicationId: 'a-1', kind: 'git', upload: null, repository: 'https://git.example.com/acme/shop.git', ref: 'main', buildPath: 'services/web', watchPaths: ['services/web/**', 'shared/**'],
  submodules: true, deployTags: ['v*'], auth: { kind: 'token', username: 'deployer', tokenSet: true }, providerId: null, deployKey: null, knownHosts: [],
  build: { kind: 'dockerfile', dockerfile: 'docker/Dockerfile', target: 'runtime', args: { NODE_ENV: 'production', A: '' }, publishDirectory: '.', spaFallback: false, secrets: [] },
  webhooks: { github: '/api/v1/webhooks/applications/a-1/github', generic: '/api/v1/webhooks/applications/a-1/generic' },
  updatedAt: '2026-12-05T10:00:00Z', version: 4,
};
const KEY = 'git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

const problem = (errors: Array<{ pointer: string; detail: string }>): Problem =>
  ({ type: 'about:blank', title: 'Invalid', status: 400, detail: 'invalid', code: 'validation', requestId: null, errors: errors.map((e) => ({ ...e, code: 'invalid' })) }) as Problem;

describe('source form ↔ request body', () => {
  it('a stored source fills the form without any token; sent back unchanged, the body leaves the token out (the server keeps it)', () => {
    const v = sourceToForm(SOURCE);
    expect(v).toEqual({
      kind: 'git', repository: SOURCE.repository, ref: 'main', buildPath: 'services/web', watchPaths: 'services/web/**\nshared/**', submodules: true, deployTags: 'v*',
      auth: { kind: 'token', username: 'deployer', token: '' }, knownHosts: '',
      build: { kind: 'dockerfile', dockerfile: 'docker/Dockerfile', target: 'runtime', args: [{ name: 'NODE_ENV', value: 'production' }, { name: 'A', value: '' }], publishDirectory: '.', spaFallback: false, secrets: [] },
    });
    const body = formToBody(v);
    expect(body.auth).toEqual({ kind: 'token', username: 'deployer' });
    expect('token' in body.auth!).toBe(false);
    expect(body).toEqual({
      repository: SOURCE.repository, ref: 'main', buildPath: 'services/web', watchPaths: ['services/web/**', 'shared/**'], submodules: true, deployTags: ['v*'],
      auth: { kind: 'token', username: 'deployer' }, knownHosts: [],
      build: { kind: 'dockerfile', dockerfile: 'docker/Dockerfile', target: 'runtime', args: { NODE_ENV: 'production', A: '' }, publishDirectory: '.', spaFallback: false, secrets: [] },
    });
  });

  it('a typed token is sent as typed; an empty username is left out', () => {
    const v: SourceFormValue = { ...EMPTY_SOURCE, repository: ' https://git.example.com/a.git ', auth: { kind: 'token', username: ' ', token: 'glpat-xyz' } };
    expect(formToBody(v).auth).toEqual({ kind: 'token', token: 'glpat-xyz' });
    expect(formToBody(v).repository).toBe('https://git.example.com/a.git');
  });

  it('defaults: build path ".", Dockerfile, no target; none and deploy-key carry only their kind; known hosts only with a deploy key', () => {
    const v: SourceFormValue = { ...EMPTY_SOURCE, repository: 'r', buildPath: ' ', knownHosts: KEY, build: { ...EMPTY_SOURCE.build, dockerfile: '', target: ' ', args: [] } };
    expect(formToBody(v)).toMatchObject({ buildPath: '.', auth: { kind: 'none' }, knownHosts: [], build: { dockerfile: 'Dockerfile', target: null, args: {} } });
    const k = formToBody({ ...v, auth: { kind: 'deploy-key', username: 'x', token: 'y' } });
    expect(k.auth).toEqual({ kind: 'deploy-key' });
    expect(k.knownHosts).toEqual([KEY]);
  });

  it('an upload source sends only its kind, build path and build settings; archives are typed by their file name', () => {
    const stored = sourceToForm({ ...SOURCE, kind: 'upload', repository: '', ref: '', buildPath: 'site', upload: null });
    expect(stored.kind).toBe('upload');
    expect(formToBody({ ...stored, repository: 'ignored' })).toEqual({
      kind: 'upload', buildPath: 'site',
      build: { kind: 'dockerfile', dockerfile: 'docker/Dockerfile', target: 'runtime', args: { NODE_ENV: 'production', A: '' }, publishDirectory: '.', spaFallback: false, secrets: [] },
    });
    expect(archiveContentType('Site-v1.TAR.GZ')).toBe('application/gzip');
    expect(archiveContentType('site.tgz')).toBe('application/gzip');
    expect(archiveContentType('site.tar')).toBe('application/x-tar');
    expect(archiveContentType('site.zip')).toBe('application/zip');
    expect(archiveContentType('site.rar')).toBeNull();
    expect([formatBytes(512), formatBytes(1536), formatBytes(10 * 1024 * 1024 + 1), formatBytes(300 * 1024)]).toEqual(['512 B', '1.5 KiB', '10 MiB', '300 KiB']);
    const sha = 'ab'.repeat(32);
    expect(deploymentCommit({ source: { kind: 'upload', upload: { id: 'u', fileName: 'site.tgz', size: 1, sha256: sha }, repository: '', ref: '', commit: null, message: null, author: 'Owner', authorEmail: null, committedAt: null } }))
      .toEqual({ sha: sha.slice(0, 12), fullSha: `sha256 ${sha}`, subject: 'site.tgz', author: 'Owner', ref: 'upload' });
  });

  it('watch paths: one per line, blank lines and surrounding spaces dropped', () => {
    expect(parseWatchPaths('  web/**\r\n\n docs/*.md \n')).toEqual(['web/**', 'docs/*.md']);
    expect(parseWatchPaths('')).toEqual([]);
  });

  it('known hosts: one line each, comments and blank lines dropped', () => {
    expect(parseKnownHosts(`# git.example.com:22 SSH-2.0-OpenSSH_9.6\n\n${KEY}\n  [git.example.com]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==  \n`))
      .toEqual([KEY, '[git.example.com]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==']);
  });

  it('build types: static settings and secrets; stored secret names come back without values and are kept when left empty', () => {
    const stored = sourceToForm({ ...SOURCE, build: { ...SOURCE.build, kind: 'static', publishDirectory: 'dist', spaFallback: true, secrets: ['NPM_TOKEN'] } });
    expect(stored.build).toMatchObject({ kind: 'static', publishDirectory: 'dist', spaFallback: true, secrets: [{ name: 'NPM_TOKEN', value: '', stored: true }] });
    const body = formToBody({ ...stored, build: { ...stored.build, publishDirectory: ' ', secrets: [...stored.build.secrets, { name: ' NEW ', value: 'v4lue', stored: false }] } });
    expect(body.build).toMatchObject({ kind: 'static', publishDirectory: '.', spaFallback: true, secrets: [{ name: 'NPM_TOKEN' }, { name: 'NEW', value: 'v4lue' }] });
    expect(sourceErrorsToForm(problem([{ pointer: '/build/secrets/1/value', detail: 'is required for a new build secret' }, { pointer: '/build/publishDirectory', detail: 'must not contain .. segments' }]), stored).errors)
      .toEqual([expect.objectContaining({ pointer: '/build/secrets/1/value' }), expect.objectContaining({ pointer: '/build/publishDirectory' })]);
  });

  it('build args: rows ↔ object, names trimmed, values verbatim, empty rows left out', () => {
    expect(buildArgsFromRows([{ name: ' NODE_ENV ', value: ' production ' }, { name: '', value: '' }, { name: 'EMPTY', value: '' }])).toEqual({ NODE_ENV: ' production ', EMPTY: '' });
    expect(buildArgRows({ B: '1', A: '2' })).toEqual([{ name: 'B', value: '1' }, { name: 'A', value: '2' }]);
    expect(buildArgsFromRows(buildArgRows({ X: 'a;b $(id)' }))).toEqual({ X: 'a;b $(id)' });
  });
});

describe('server errors → form controls', () => {
  const v: SourceFormValue = {
    ...EMPTY_SOURCE, watchPaths: 'web/**\n\n../x', knownHosts: `# comment\n${KEY}\nnot a key`,
    build: { ...EMPTY_SOURCE.build, dockerfile: 'Dockerfile', target: '', args: [{ name: 'OK', value: '1' }, { name: 'A;B', value: 'x' }] },
  };

  it('fields keep their pointer; list entries point at their text field, naming the line; build args at their row', () => {
    const p = sourceErrorsToForm(problem([
      { pointer: '/repository', detail: 'must be https://, ssh:// or user@host:path' },
      { pointer: '/ref', detail: 'must be a branch, tag or commit id' },
      { pointer: '/auth/token', detail: 'is required' },
      { pointer: '/auth/kind', detail: 'a deploy key works only with an SSH repository' },
      { pointer: '/watchPaths/1', detail: 'must stay inside the repository' },
      { pointer: '/knownHosts/1', detail: 'must be a known_hosts line' },
      { pointer: '/build/dockerfile', detail: 'must be relative' },
      { pointer: '/build/args/A;B', detail: 'a build argument name is letters, digits and _' },
      { pointer: '/build/args/OK', detail: 'must be a string of at most 4096 characters' },
    ]), v);
    expect(p.errors?.map((e) => [e.pointer, e.detail])).toEqual([
      ['/repository', 'must be https://, ssh:// or user@host:path'],
      ['/ref', 'must be a branch, tag or commit id'],
      ['/auth/token', 'is required'],
      ['/auth/kind', 'a deploy key works only with an SSH repository'],
      ['/watchPaths', 'line 3: must stay inside the repository'],
      ['/knownHosts', 'line 3: must be a known_hosts line'],
      ['/build/dockerfile', 'must be relative'],
      ['/build/args/1/name', 'a build argument name is letters, digits and _'],
      ['/build/args/0/value', 'must be a string of at most 4096 characters'],
    ]);
  });

  it('several errors at one control are joined; what the form has no field for is shown above it', () => {
    const p = sourceErrorsToForm(problem([
      { pointer: '/knownHosts/1', detail: 'bad' }, { pointer: '/knownHosts/0', detail: 'worse' },
      { pointer: '/submodules', detail: 'must be true or false' }, { pointer: '/build/args/GONE', detail: 'x' }, { pointer: '/other', detail: 'is not a field' },
    ]), v);
    expect(p.errors?.map((e) => [e.pointer, e.detail])).toEqual([
      ['/knownHosts', 'line 3: bad; line 2: worse'], ['', 'must be true or false'], ['', 'x'], ['', 'is not a field'],
    ]);
  });
});

describe('webhooks and commits', () => {
  it('webhook URLs are the portal origin and the path the API gives', () => {
    expect(webhookUrls(SOURCE.webhooks, 'https://wharf.example.com/')).toEqual([
      { provider: 'github', url: 'https://wharf.example.com/api/v1/webhooks/applications/a-1/github' },
      { provider: 'generic', url: 'https://wharf.example.com/api/v1/webhooks/applications/a-1/generic' },
    ]);
  });

  it('a Git deployment shows its short sha, the first line of the message and the author; an image deployment nothing', () => {
    const sha = '0123456789abcdef0123456789abcdef01234567';
    expect(deploymentCommit({ source: { repository: 'r', ref: 'main', commit: sha, message: 'Fix checkout\n\nLonger text', author: 'Dev', authorEmail: 'd@example.com', committedAt: null } }))
      .toEqual({ sha: '0123456', fullSha: sha, subject: 'Fix checkout', author: 'Dev', ref: 'main' });
    expect(deploymentCommit({ source: { repository: 'r', ref: 'main', commit: null, message: null, author: null, authorEmail: null, committedAt: null } }))
      .toEqual({ sha: '', fullSha: '', subject: '', author: '', ref: 'main' });
    expect(deploymentCommit({ source: null })).toBeNull();
    expect(shortSha(null)).toBe('');
    expect(firstLine('  one \r\ntwo')).toBe('one');
  });
});
