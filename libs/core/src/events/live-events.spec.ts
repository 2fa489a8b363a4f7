import type Redis from 'ioredis';
import { EventEnvelope, sanitizeLiveEvent } from '@wharf/contracts';
import type { WharfConfig } from '../config/config';
import { DomainEventListeners } from './domain-event-listeners';
import { LIVE_PUBLISH_DEADLINE_MS, LiveEventFanout } from './live-events';

const ORG = '0190aaaa-0000-7000-8000-000000000001';
const APP = '0190aaaa-0000-7000-8000-000000000002';
const DEP = '0190aaaa-0000-7000-8000-000000000003';
const envelope = (over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  id: 'e1', type: 'deployment.failed', version: 1, occurredAt: new Date(0).toISOString(), organizationId: ORG,
  actor: { type: 'user', id: 'u1', name: 'ann@example.com' }, subject: { type: 'deployment', id: DEP, name: null },
  payload: { applicationId: APP, kind: 'deploy', error: 'x'.repeat(1000), value: 'hunter2', secretValue: 's3cr3t', keys: ['TOKEN'], projectId: 'not-an-id' },
  ...over,
});

describe('sanitizeLiveEvent', () => {
  it('keeps only ids, names, a status/kind and a cut error: never values', () => {
    const live = sanitizeLiveEvent(envelope())!;
    expect(live).toEqual({
      id: 'e1', type: 'deployment.failed', occurredAt: new Date(0).toISOString(), organizationId: ORG,
      subject: { type: 'deployment', id: DEP, name: null }, actor: { type: 'user', name: 'ann@example.com' },
      payload: { applicationId: APP, deploymentId: DEP, kind: 'deploy', error: 'x'.repeat(300) },
    });
    expect(JSON.stringify(live)).not.toMatch(/hunter2|s3cr3t|TOKEN|u1/);
  });
  it('drops events without an organization and audit-only denials', () => {
    expect(sanitizeLiveEvent(envelope({ organizationId: null }))).toBeNull();
    expect(sanitizeLiveEvent(envelope({ type: 'project.delete' }))).toBeNull();
  });
});

describe('LiveEventFanout', () => {
  const config = { queuePrefix: 'wp' } as WharfConfig;
  const listeners = () => new DomainEventListeners({ getProviders: () => [] } as never, { getAllMethodNames: () => [] } as never);

  it('publishes the sanitized copy on <prefix>:events:<orgId>', async () => {
    const published: Array<[string, string]> = [];
    const redis = { publish: async (c: string, m: string) => (published.push([c, m]), 1) } as unknown as Redis;
    await new LiveEventFanout(listeners(), redis, config).publish(envelope());
    expect(published).toHaveLength(1);
    expect(published[0][0]).toBe(`wp:events:${ORG}`);
    expect(JSON.parse(published[0][1])).toEqual(sanitizeLiveEvent(envelope()));
  });

  it('a failing or hanging publish never fails the dispatch (the outbox row is not retried for it)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      for (const publish of [async () => { throw new Error('redis down'); }, () => new Promise(() => undefined)]) {
        const l = listeners();
        l.onModuleInit();
        new LiveEventFanout(l, { publish } as unknown as Redis, config).onModuleInit();
        const done = l.dispatch(envelope());
        await jest.advanceTimersByTimeAsync(LIVE_PUBLISH_DEADLINE_MS + 10);
        await expect(done).resolves.toBeUndefined();
      }
    } finally {
      jest.useRealTimers();
    }
  });
});
