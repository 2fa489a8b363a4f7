import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { EventEnvelope, LIVE_EVENTS_CHANNEL, LiveEvent, sanitizeLiveEvent } from '@wharf/contracts';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { quitRedis, REDIS } from '../redis/redis';
import { DomainEventListeners } from './domain-event-listeners';

/** A publish that gets no answer in this time (Redis away, commands queued) is given up: live events are a hint. */
export const LIVE_PUBLISH_DEADLINE_MS = 2000;

/**
 * Publishes a whitelisted copy of every dispatched event of an organization to its Redis channel (both the API and the
 * worker dispatch outbox events). A failure is logged and never fails the dispatch: the outbox row is not retried for
 * it. At least once: a redispatched event is published again, clients dedupe by id.
 */
@Injectable()
export class LiveEventFanout implements OnModuleInit {
  private readonly logger = new Logger('LiveEvents');

  constructor(
    private readonly listeners: DomainEventListeners,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  onModuleInit(): void {
    this.listeners.observe((e) => this.publish(e));
  }

  async publish(e: EventEnvelope): Promise<void> {
    const live = sanitizeLiveEvent(e);
    if (!live) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.publish(LIVE_EVENTS_CHANNEL(this.config.queuePrefix, live.organizationId), JSON.stringify(live)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${LIVE_PUBLISH_DEADLINE_MS} ms`)), LIVE_PUBLISH_DEADLINE_MS);
        }),
      ]);
    } catch (err) {
      this.logger.warn(`live event ${live.type} (${live.id}) not published: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

type LiveHandler = (e: LiveEvent) => void;

/**
 * One Redis subscriber connection per process, shared by every open live stream: a channel is subscribed while at
 * least one local stream of that organization is open. At shutdown every stream is told to end before the HTTP server
 * closes (an open response would keep it from closing), then the connection is closed.
 */
@Injectable()
export class LiveEventHub implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('LiveEvents');
  private sub: Redis | null = null;
  private readonly handlers = new Map<string, Set<LiveHandler>>();
  private readonly closing = new AbortController();

  constructor(@Inject(REDIS) private readonly redis: Redis, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  /** Aborted when the process shuts down: open streams end. */
  get shutdown(): AbortSignal {
    return this.closing.signal;
  }

  /** Number of local streams listening (for tests and metrics). */
  get listenerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }

  private connection(): Redis {
    if (this.sub) return this.sub;
    const sub = this.redis.duplicate();
    sub.on('message', (channel: string, message: string) => {
      const set = this.handlers.get(channel);
      if (!set?.size) return;
      let e: LiveEvent;
      try {
        e = JSON.parse(message) as LiveEvent;
      } catch {
        return;
      }
      for (const h of [...set]) {
        try {
          h(e);
        } catch (err) {
          this.logger.warn(`live event handler: ${(err as Error).message}`);
        }
      }
    });
    sub.on('error', (err: Error) => this.logger.warn(`live event subscriber: ${err.message}`));
    this.sub = sub;
    return sub;
  }

  /** Resolves once the channel is subscribed (events published after that reach `handler`); returns the unsubscribe. */
  async subscribe(organizationId: string, handler: LiveHandler): Promise<() => void> {
    if (this.closing.signal.aborted) throw new Error('shutting down');
    const channel = LIVE_EVENTS_CHANNEL(this.config.queuePrefix, organizationId);
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    const unsubscribe = (): void => {
      const s = this.handlers.get(channel);
      if (!s?.delete(handler) || s.size > 0) return;
      this.handlers.delete(channel);
      if (this.sub && !this.closing.signal.aborted) void this.sub.unsubscribe(channel).catch(() => undefined);
    };
    try {
      // Subscribing an already subscribed channel is harmless and waits for the pending SUBSCRIBE to be answered.
      await this.connection().subscribe(channel);
    } catch (e) {
      unsubscribe();
      throw e;
    }
    return unsubscribe;
  }

  beforeApplicationShutdown(): void {
    this.closing.abort();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing.abort();
    this.handlers.clear();
    const sub = this.sub;
    this.sub = null;
    if (sub) await quitRedis(sub);
  }
}
