import { createHash } from 'node:crypto';
import { AuditHashInput, computeAuditHash, normalizeChanges, REDACTED, redactChanges } from './audit-hash';

const entry = (over: Partial<AuditHashInput> = {}): AuditHashInput => ({
  id: '01890000-0000-7000-8000-000000000001',
  seq: 1,
  organizationId: '01890000-0000-7000-8000-0000000000aa',
  occurredAt: '2025-01-02T03:04:05.678Z',
  actor: { type: 'user', id: 'u1', name: 'owner@example.com' },
  action: 'organization.updated',
  subject: { type: 'organization', id: 'o1', name: 'Acme' },
  outcome: 'succeeded',
  ip: '127.0.0.1',
  userAgent: 'jest',
  requestId: 'req-1',
  changes: { name: { from: 'A', to: 'B' } },
  prevHash: null,
  ...over,
});

describe('audit hash', () => {
  it('is sha256 over canonical JSON (sorted keys, millisecond timestamps) including prevHash', () => {
    const e = entry({ prevHash: 'abc' });
    const expected =
      '{"action":"organization.updated","actor":{"id":"u1","name":"owner@example.com","type":"user"},"changes":{"name":{"from":"A","to":"B"}},' +
      '"id":"01890000-0000-7000-8000-000000000001","ip":"127.0.0.1","occurredAt":"2025-01-02T03:04:05.678Z",' +
      '"organizationId":"01890000-0000-7000-8000-0000000000aa","outcome":"succeeded","prevHash":"abc","requestId":"req-1","seq":1,' +
      '"subject":{"id":"o1","name":"Acme","type":"organization"},"userAgent":"jest","v":1}';
    expect(computeAuditHash(e)).toBe(createHash('sha256').update(expected).digest('hex'));
  });

  it('does not depend on key order, and normalizes timestamps to milliseconds', () => {
    const a = entry({ changes: { b: 1, a: { y: 2, x: 3 } } });
    const b = entry({ changes: { a: { x: 3, y: 2 }, b: 1 }, occurredAt: new Date('2025-01-02T03:04:05.678Z').toISOString() });
    expect(computeAuditHash(a)).toBe(computeAuditHash(b));
    expect(computeAuditHash(entry({ occurredAt: '2025-01-02T03:04:05.678+00:00' }))).toBe(computeAuditHash(entry()));
  });

  it('changes when any covered field or the previous hash changes', () => {
    const base = computeAuditHash(entry());
    const variants: Array<Partial<AuditHashInput>> = [
      { seq: 2 }, { prevHash: 'x' }, { outcome: 'denied' }, { changes: { name: { from: 'A', to: 'C' } } }, { actor: { type: 'user', id: 'u2', name: 'owner@example.com' } },
      { occurredAt: '2025-01-02T03:04:05.679Z' }, { requestId: null }, { ip: '10.0.0.1' }, { organizationId: null }, { subject: { type: 'organization', id: 'o1', name: null } },
    ];
    const hashes = variants.map((v) => computeAuditHash(entry(v)));
    for (const h of hashes) expect(h).not.toBe(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });
});

describe('audit redaction', () => {
  it('redacts keys that look secret, at any depth, and keeps already-redacted values', () => {
    const out = redactChanges({
      password: 'hunter2-canary',
      newPassword: { from: 'a', to: 'b' },
      clientSecret: 's3cr3t',
      refreshToken: 'tok',
      apiKey: 'wk_abc_def',
      privateKey: 'pem',
      nested: { deeper: [{ sshPrivateKey: 'x', token: REDACTED }] },
      note: 'fine',
    });
    expect(out).toEqual({
      password: REDACTED,
      newPassword: REDACTED,
      clientSecret: REDACTED,
      refreshToken: REDACTED,
      apiKey: REDACTED,
      privateKey: REDACTED,
      nested: { deeper: [{ sshPrivateKey: REDACTED, token: REDACTED }] },
      note: 'fine',
    });
  });

  it('keeps keys that only look secret: prefix, scopes, role, ids', () => {
    const input = { prefix: 'AbCdEfGh', keyPrefix: 'AbCd', scopes: ['read', 'write'], role: 'admin', apiKeyId: 'k1', sshKeyIds: ['a'], name: 'ci key' };
    expect(redactChanges(input)).toEqual(input);
  });

  it('redacts credential-shaped values whatever their key', () => {
    const out = redactChanges({ note: 'wk_AbCdEfGh_xyzxyzxyz', jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', pem: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc', list: ['ok', 'wk_A_b'] });
    expect(out).toEqual({ note: REDACTED, jwt: REDACTED, pem: REDACTED, list: ['ok', REDACTED] });
  });

  it('normalizes to plain JSON (what jsonb returns), dropping undefined', () => {
    expect(normalizeChanges(undefined)).toEqual({});
    expect(normalizeChanges({ a: undefined, b: new Date('2025-01-01T00:00:00.000Z'), c: Number.NaN })).toEqual({ b: '2025-01-01T00:00:00.000Z', c: null });
  });
});
