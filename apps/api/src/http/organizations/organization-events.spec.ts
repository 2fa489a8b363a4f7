import type { LiveEvent } from '@wharf/contracts';
import { buildAbility, Principal } from '@wharf/tenancy';
import { mayRead } from './organization-events.controller';

const ORG = 'org-1';
const principal = (projectIds: string[] | null): Principal =>
  ({ ability: buildAbility([{ organizationId: ORG, role: 'viewer', customRoleId: null, permissions: ['organization:read', 'application:read'], projectIds, environmentIds: null }] as never, null) }) as unknown as Principal;
const event = (type: string, subjectType: string, payload: LiveEvent['payload']): LiveEvent => ({
  id: 'e-1', type, occurredAt: '2026-01-01T00:00:00Z', organizationId: ORG, subject: { type: subjectType, id: 'd-1', name: 'shop.example.com' }, actor: { type: 'user', name: 'x' }, payload,
});

describe('mayRead: domain and certificate events', () => {
  const payload = { applicationId: 'a-1', projectId: 'p-1', environmentId: 'e-1' };

  it('reach whoever may read their application (they are not permission subjects of their own)', () => {
    for (const [type, subject] of [['domain.created', 'domain'], ['certificate.issued', 'certificate'], ['certificate.failed', 'certificate']]) {
      expect(mayRead(principal(null), event(type, subject, payload))).toBe(true);
      expect(mayRead(principal(['p-1']), event(type, subject, payload))).toBe(true);
      // A member limited to another project does not get them.
      expect(mayRead(principal(['p-2']), event(type, subject, payload))).toBe(false);
    }
  });

  it('without an application in the payload they are not sent', () => {
    expect(mayRead(principal(null), event('certificate.issued', 'certificate', {}))).toBe(false);
  });
});
