import { Injectable, Module, Type } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import type { EventEnvelope, EventType } from '@wharf/contracts';
import { DomainEventListeners, EventWiringError, OnDomainEvent } from './domain-event-listeners';

const envelope = (type: string, id = 'e1'): EventEnvelope => ({ id, type, version: 1, occurredAt: new Date(0).toISOString(), organizationId: null, actor: { type: 'system', id: null, name: 'system' }, subject: { type: 'x', id: null }, payload: {} });

describe('DomainEventListeners.check', () => {
  it('accepts listeners of known event types and groups them by type', () => {
    const byType = DomainEventListeners.check([{ types: ['project.deleted', 'environment.deleted'], owner: 'A.a' }, { types: ['project.deleted'], owner: 'B.b' }]);
    expect(byType.get('project.deleted')).toEqual(['A.a', 'B.b']);
    expect(byType.get('environment.deleted')).toEqual(['A.a']);
  });
  it('refuses a listener of an unknown event type, naming it', () => {
    expect(() => DomainEventListeners.check([{ types: ['project.deletd'], owner: 'A.a' }])).toThrow(EventWiringError);
    expect(() => DomainEventListeners.check([{ types: ['project.deletd'], owner: 'A.a' }])).toThrow(/A\.a listens to unknown event "project\.deletd"/);
  });
  it('refuses a denial (audit-only) type and a listener without any type', () => {
    expect(() => DomainEventListeners.check([{ types: ['project.delete'], owner: 'A.a' }])).toThrow(/unknown event "project\.delete"/);
    expect(() => DomainEventListeners.check([{ types: [], owner: 'A.a' }])).toThrow(/listens to no event type/);
  });
});

describe('DomainEventListeners at startup (Nest discovery)', () => {
  @Injectable()
  class Good {
    readonly seen: string[] = [];
    @OnDomainEvent('environment.deleted', 'project.deleted')
    async onDeleted(e: EventEnvelope): Promise<void> {
      this.seen.push(`${e.type}:${e.id}`);
    }
    @OnDomainEvent('project.deleted')
    async failing(): Promise<void> {
      throw new Error('queue unavailable');
    }
    @OnDomainEvent('organization.deleted')
    hangs(): Promise<void> {
      return new Promise(() => undefined);
    }
    notAListener(): void {}
  }
  @Injectable()
  class Typo {
    @OnDomainEvent('environment.delted' as EventType)
    async handle(): Promise<void> {}
  }

  const start = (...providers: Type[]) => {
    @Module({ imports: [DiscoveryModule], providers: [DomainEventListeners, ...providers] })
    class AppModule {}
    return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  };

  it('fails startup when a listener names an unknown event', async () => {
    await expect(start(Good, Typo)).rejects.toThrow(/Typo\.handle listens to unknown event "environment\.delted"/);
  });

  it('finds listeners by decorator and dispatches each event to every listener of its type', async () => {
    const mod = await start(Good);
    const registry = mod.get(DomainEventListeners);
    expect(registry.ready).toBe(true);
    expect(registry.listeners().get('environment.deleted')).toEqual(['Good.onDeleted']);
    expect(registry.listeners().get('project.deleted')).toEqual(['Good.onDeleted', 'Good.failing']);

    await registry.dispatch(envelope('environment.deleted', 'e1'));
    await registry.dispatch(envelope('role.created', 'e2')); // no listener: nothing to do
    // One failing listener: the others still ran, and the dispatch fails (so the outbox keeps the event).
    await expect(registry.dispatch(envelope('project.deleted', 'e3'))).rejects.toThrow(/Good\.failing: queue unavailable/);
    expect(mod.get(Good).seen).toEqual(['environment.deleted:e1', 'project.deleted:e3']);
    // A listener that never answers fails the dispatch at its deadline instead of holding the relay.
    await expect(registry.dispatch(envelope('organization.deleted', 'e4'), 50)).rejects.toThrow(/Good\.hangs: no answer within 50 ms/);
    await mod.close();
  });
});
