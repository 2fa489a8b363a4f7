import { Injectable, Logger, OnModuleInit, SetMetadata } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { EventEnvelope, EventPayloads, EventType, isEventType } from '@wharf/contracts';

export const DOMAIN_EVENT_LISTENER = 'wharf:domain-event-listener';

/**
 * Marks a provider method as a listener of one or more event types. The outbox relay calls it after the staging
 * transaction committed, at least once per event (again after a failure or a crash): a listener must be idempotent,
 * which it usually is by only enqueueing a job with a deterministic jobId. Found at startup like `@JobHandler`.
 */
export const OnDomainEvent = (...types: EventType[]): MethodDecorator => SetMetadata(DOMAIN_EVENT_LISTENER, types);

/** What a listener receives for `@OnDomainEvent(T)`. */
export type DomainEventOf<T extends EventType> = EventEnvelope<EventPayloads[T]> & { type: T };

export class EventWiringError extends Error {}

/**
 * A listener only enqueues or records something; one that hangs (e.g. Redis unreachable, commands queued while it
 * reconnects) must not hold the relay's transaction: it counts as failed and the event is tried again later.
 */
export const LISTENER_DEADLINE_MS = 15_000;

type Listener = { owner: string; fn: (event: EventEnvelope) => Promise<unknown> | unknown };

/**
 * Finds every `@OnDomainEvent(...)` method at startup and refuses to start when one names no event type or an
 * unknown one (a typo would otherwise be a listener that never runs). The outbox relay dispatches through it.
 */
@Injectable()
export class DomainEventListeners implements OnModuleInit {
  private readonly logger = new Logger('Events');
  private readonly byType = new Map<string, Listener[]>();
  private discovered = false;
  private readonly observers: Array<(event: EventEnvelope) => Promise<void> | void> = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Checks the found listeners; returns the listener owners per event type. */
  static check(found: Array<{ types: unknown; owner: string }>): Map<EventType, string[]> {
    const problems: string[] = [];
    const byType = new Map<EventType, string[]>();
    for (const f of found) {
      const types = Array.isArray(f.types) ? (f.types as unknown[]) : [];
      if (types.length === 0) problems.push(`${f.owner} listens to no event type`);
      for (const t of types) {
        if (typeof t !== 'string' || !isEventType(t)) problems.push(`${f.owner} listens to unknown event "${String(t)}"`);
        else byType.set(t, [...(byType.get(t) ?? []), f.owner]);
      }
    }
    if (problems.length) throw new EventWiringError(`Event wiring is broken: ${problems.join('; ')}`);
    return byType;
  }

  onModuleInit(): void {
    const found: Array<{ types: unknown; owner: string; fn: Listener['fn'] }> = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      const proto = Object.getPrototypeOf(instance) as object | null;
      if (!proto) continue;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const types = Reflect.getMetadata(DOMAIN_EVENT_LISTENER, fn) as unknown;
        if (types !== undefined) found.push({ types, owner: `${instance.constructor.name}.${method}`, fn: (fn as Listener['fn']).bind(instance) });
      }
    }
    DomainEventListeners.check(found);
    for (const f of found) for (const t of f.types as EventType[]) this.byType.set(t, [...(this.byType.get(t) ?? []), { owner: f.owner, fn: f.fn }]);
    this.discovered = true;
    this.logger.log(`${found.length} listener(s) for ${this.byType.size} event type(s)`);
  }

  /** The relay waits for discovery, so no event is marked published before its listeners are known. */
  get ready(): boolean {
    return this.discovered;
  }

  /** Event types that have at least one listener, with their owners. */
  listeners(): Map<string, string[]> {
    return new Map([...this.byType].map(([t, ls]) => [t, ls.map((l) => l.owner)]));
  }

  /**
   * Adds an observer that sees every dispatched event (the live-event fan-out). Unlike a listener it never fails a
   * dispatch: its errors are logged, so an outbox row is not retried because of it.
   */
  observe(fn: (event: EventEnvelope) => Promise<void> | void): void {
    this.observers.push(fn);
  }

  /** Calls every listener of the event's type; throws (after trying all of them) when any failed or hung. */
  async dispatch(event: EventEnvelope, deadlineMs = LISTENER_DEADLINE_MS): Promise<void> {
    const failures: string[] = [];
    for (const o of this.observers) {
      try {
        await o(event);
      } catch (e) {
        this.logger.warn(`observer of ${event.type} (${event.id}): ${(e as Error).message}`);
      }
    }
    for (const l of this.byType.get(event.type) ?? []) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
        });
        await Promise.race([Promise.resolve().then(() => l.fn(event)), hung]);
      } catch (e) {
        failures.push(`${l.owner}: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    if (failures.length) throw new Error(`listeners of ${event.type} (${event.id}) failed: ${failures.join('; ')}`);
  }
}
