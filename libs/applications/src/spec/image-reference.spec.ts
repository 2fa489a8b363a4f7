import { parseImageReference } from './image-reference';

describe('parseImageReference', () => {
  it.each([
    ['nginx', { name: 'nginx', registry: null, tag: null }],
    ['nginx:1.27-alpine', { name: 'nginx', tag: '1.27-alpine' }],
    ['library/nginx:latest', { registry: null }],
    ['127.0.0.1:5000/team/app:v1', { registry: '127.0.0.1:5000', tag: 'v1' }],
    ['localhost/app', { registry: 'localhost' }],
    ['ghcr.io/org/app@sha256:' + 'a'.repeat(64), { registry: 'ghcr.io', digest: 'sha256:' + 'a'.repeat(64) }],
    ['registry.example.com/a/b/c:tag_1.2', { registry: 'registry.example.com' }],
  ])('accepts %s', (ref, expected) => {
    expect(parseImageReference(ref)).toMatchObject(expected);
  });

  it.each([
    '', 'Nginx', 'nginx:', 'nginx:tag with space', 'nginx;rm -rf /', '$(touch /tmp/x)', 'nginx`id`', 'a'.repeat(300),
    'nginx\n', '-nginx', 'nginx@sha256:zz', 'UPPER/case', 'a//b', 'nginx:' + 't'.repeat(200),
  ])('rejects %j', (ref) => {
    expect(parseImageReference(ref)).toBeNull();
  });
});

import { validateApplicationSpec } from './application-spec';

describe('validateApplicationSpec on a single node', () => {
  const spec = (replicas: number, published?: number) => ({ image: 'nginx:1', replicas, ports: [{ target: 80, protocol: 'tcp', mode: 'host', ...(published ? { published } : {}) }] });
  it('refuses several replicas on one fixed host port, naming the field', () => {
    expect(() => validateApplicationSpec(spec(2, 8080), { allowedBindPaths: [], host: { nodeCount: 1, ipvs: false } })).toThrow(/2 replicas cannot all publish host port 8080 on 1 node/);
  });
  it('accepts engine-assigned ports, one replica, or enough nodes', () => {
    expect(validateApplicationSpec(spec(2), { allowedBindPaths: [], host: { nodeCount: 1, ipvs: false } }).replicas).toBe(2);
    expect(validateApplicationSpec(spec(1, 8080), { allowedBindPaths: [], host: { nodeCount: 1, ipvs: false } }).replicas).toBe(1);
    expect(validateApplicationSpec(spec(2, 8080), { allowedBindPaths: [], host: { nodeCount: 2, ipvs: false } }).replicas).toBe(2);
  });
});
