import { renewalDueAt } from '@wharf/routing';
import { nextAttemptAfter } from './certificate-issuer';

describe('certificate timing', () => {
  const now = new Date('2026-12-05T00:00:00Z');
  it('backs off from 5 minutes, doubling, to a day at most; a longer Retry-After wins', () => {
    expect(nextAttemptAfter(1, now, null).getTime() - now.getTime()).toBe(5 * 60_000);
    expect(nextAttemptAfter(3, now, null).getTime() - now.getTime()).toBe(20 * 60_000);
    expect(nextAttemptAfter(30, now, null).getTime() - now.getTime()).toBe(24 * 3600_000);
    expect(nextAttemptAfter(1, now, 3600).getTime() - now.getTime()).toBe(3600_000);
    expect(nextAttemptAfter(3, now, 60).getTime() - now.getTime()).toBe(20 * 60_000);
  });
  it('renews 30 days before expiry, or with a third of the lifetime left for short-lived certificates', () => {
    const day = 86_400_000;
    expect(renewalDueAt(now, new Date(now.getTime() + 90 * day)).getTime()).toBe(now.getTime() + 60 * day);
    expect(renewalDueAt(now, new Date(now.getTime() + 6 * day)).getTime()).toBe(now.getTime() + 4 * day);
  });
});
