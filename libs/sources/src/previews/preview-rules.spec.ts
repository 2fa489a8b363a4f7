import type { ApplicationSpec, FieldError } from '@wharf/contracts';
import { approvalReason, previewHost, previewSettingsFrom, previewSpec } from './preview-rules';

const settings = (input: unknown) => {
  const errors: FieldError[] = [];
  const value = previewSettingsFrom(input, errors);
  return { value, pointers: errors.map((e) => e.pointer).sort() };
};

describe('preview settings from untrusted input', () => {
  it('fills the defaults', () => {
    expect(settings({})).toEqual({ value: { enabled: false, domain: null, port: null, https: true, env: [], maxPreviews: 5 }, pointers: [] });
  });
  it('normalises a wildcard domain and keeps overrides', () => {
    const r = settings({ enabled: true, domain: '*.Preview.Example.COM', port: 3000, https: false, maxPreviews: 10, env: [{ key: 'A', value: '1' }, { key: 'S', secret: true }] });
    expect(r).toEqual({ value: { enabled: true, domain: '*.preview.example.com', port: 3000, https: false, maxPreviews: 10, env: [{ key: 'A', value: '1', secret: false }, { key: 'S', value: null, secret: true }] }, pointers: [] });
  });
  it.each([
    [{ domain: 'preview.example.com' }, ['/domain']],
    [{ domain: '*.exa mple.com' }, ['/domain']],
    [{ domain: '$(id).example.com' }, ['/domain']],
    [{ port: 0, maxPreviews: 51 }, ['/maxPreviews', '/port']],
    [{ enabled: 'yes', https: 1 }, ['/enabled', '/https']],
    [{ env: [{ key: '1A', value: 'x' }, { key: 'B' }, { key: 'C', value: 'a\0b' }, { key: 'C', value: 'c' }] }, ['/env/0/key', '/env/1/value', '/env/2/value', '/env/3/key']],
    [{ env: [{ key: 'A', value: 'x' }, { key: 'A', value: 'y' }] }, ['/env/1/key']],
    [{ other: true }, ['/other']],
  ])('refuses %j naming the fields', (input, pointers) => {
    expect(settings(input).pointers).toEqual(pointers);
  });
  it('refuses a non-object', () => {
    expect(settings([]).pointers).toEqual(['']);
  });
});

describe('who deploys without an approval', () => {
  it('never a fork', () => {
    expect(approvalReason('github', { fromFork: true, authorAssociation: 'OWNER' })).toMatch(/fork/);
    expect(approvalReason('gitlab', { fromFork: true, authorAssociation: null })).toMatch(/fork/);
  });
  it('on GitHub, owners, members and collaborators only', () => {
    for (const a of ['OWNER', 'MEMBER', 'COLLABORATOR']) expect(approvalReason('github', { fromFork: false, authorAssociation: a })).toBeNull();
    for (const a of ['CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'NONE', null]) expect(approvalReason('github', { fromFork: false, authorAssociation: a })).toMatch(/association/);
  });
  it('other providers: a branch of the repository itself', () => {
    expect(approvalReason('gitea', { fromFork: false, authorAssociation: null })).toBeNull();
  });
});

describe('preview host and spec', () => {
  it('derives one DNS label under the wildcard', () => {
    expect(previewHost('*.preview.example.com', 12, 'shop')).toBe('pr-12-shop.preview.example.com');
    expect(previewHost('*.p.example.com', 1, 'a'.repeat(80)).split('.')[0]).toHaveLength(63);
  });
  it('runs one replica, publishes no port and mounts no host path', () => {
    const parent = {
      image: 'x', replicas: 3, ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'host' }], labels: { a: 'b' },
      mounts: [{ type: 'bind', source: '/srv', target: '/srv', readOnly: false }, { type: 'volume', source: 'data', target: '/data', readOnly: false }],
    } as unknown as ApplicationSpec;
    expect(previewSpec(parent)).toMatchObject({ image: 'x', replicas: 1, ports: [], labels: { a: 'b' }, mounts: [{ type: 'volume', source: 'data' }] });
  });
});
