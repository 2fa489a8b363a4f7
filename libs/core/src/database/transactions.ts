import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope, EventInput } from '@wharf/contracts';
import { OutboxEventEntity } from './outbox-event.entity';
import { newId } from '../util/ids';
import { DomainEventListeners } from '../events/domain-event-listeners';

export type { EventInput } from '@wharf/contracts';

/** Hooks that run inside the transaction for every staged event (the audit log uses this to append its entry atomically). */
export type InTransactionHook = (manager: EntityManager, event: EventEnvelope, extra: StageExtra) => Promise<void>;

export interface StageExtra {
  /** Audit outcome; default succeeded. */
  outcome?: 'succeeded' | 'denied' | 'failed';
  /** Changed fields, already redacted; stored by the audit log. */
  changes?: Record<string, unknown>;
  request?: { ip: string | null; userAgent: string | null; requestId: string | null };
}

/** A failed dispatch is retried after attempts² seconds, at most this long apart. */
const MAX_RETRY_DELAY_S = 300;

/** How often the relay looks for events left in the outbox (a backstop; see onModuleInit). */
export const RELAY_POLL_MS = 5000;

/**
 * Unit of work: runs a function in a transaction; events staged through the given `stage` function are written to the
 * outbox in that transaction and handed to their `@OnDomainEvent` listeners only after commit. If the process dies
 * between commit and dispatch, or a listener fails, the relay dispatches them again on a later poll (at least once).
 */
@Injectable()
export class TransactionRunner implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Outbox');
  private readonly hooks: InTransactionHook[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private stopped = false;

  constructor(
    readonly dataSource: DataSource,
    private readonly listeners: DomainEventListeners,
  ) {}

  onModuleInit(): void {
    // A backstop only: events are relayed right after their transaction commits; this picks up what a crash or a
    // failed listener left (retries are due after their own delay). Every 5 s keeps an idle install's CPU low.
    this.timer = setInterval(() => void this.drain(), RELAY_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining;
  }

  addInTransactionHook(hook: InTransactionHook): void {
    this.hooks.push(hook);
  }

  async run<T>(fn: (manager: EntityManager, stage: (event: EventInput, extra?: StageExtra) => Promise<EventEnvelope>) => Promise<T>): Promise<T> {
    let staged = 0;
    const result = await this.dataSource.transaction(async (manager) => {
      const stage = async (input: EventInput, extra: StageExtra = {}): Promise<EventEnvelope> => {
        const envelope: EventEnvelope = { ...(input as Omit<EventEnvelope, 'id' | 'occurredAt' | 'version'>), id: newId(), version: input.version ?? 1, occurredAt: new Date().toISOString() };
        await manager.query(`INSERT INTO outbox_events (id, type, envelope) VALUES ($1, $2, $3)`, [envelope.id, envelope.type, JSON.stringify(envelope)]);
        for (const hook of this.hooks) await hook(manager, envelope, extra);
        staged++;
        return envelope;
      };
      return fn(manager, stage);
    });
    if (staged > 0) void this.drain();
    return result;
  }

  /**
   * Dispatches what the outbox holds, oldest first, to the listeners of each event's type. Safe to run from several
   * processes (SKIP LOCKED). An event is marked published only when all its listeners succeeded; otherwise it is
   * tried again after a growing delay (the error is kept on the row).
   */
  drain(): Promise<void> {
    if (this.stopped || !this.dataSource.isInitialized || !this.listeners.ready) return Promise.resolve();
    if (this.draining) return this.draining.then(() => this.drain());
    this.draining = (async () => {
      try {
        for (;;) {
          const n = await this.dataSource.transaction(async (m) => {
            const rows: OutboxEventEntity[] = await m
              .createQueryBuilder(OutboxEventEntity, 'o')
              .where('o.published_at IS NULL')
              .andWhere('(o.next_attempt_at IS NULL OR o.next_attempt_at <= now())')
              .orderBy('o.created_at', 'ASC')
              .limit(100)
              .setLock('pessimistic_write')
              .setOnLocked('skip_locked')
              .getMany();
            let published = 0;
            for (const row of rows) {
              const attempts = row.attempts + 1;
              try {
                await this.listeners.dispatch(row.envelope);
                await m.update(OutboxEventEntity, { id: row.id }, { publishedAt: new Date(), attempts, lastError: null });
                published++;
              } catch (e) {
                const message = (e as Error).message.slice(0, 2000);
                this.logger.warn(`outbox: ${message} (attempt ${attempts})`);
                const delay = Math.min(attempts * attempts, MAX_RETRY_DELAY_S);
                await m.update(OutboxEventEntity, { id: row.id }, { attempts, lastError: message, nextAttemptAt: new Date(Date.now() + delay * 1000) });
              }
            }
            return { fetched: rows.length, published };
          });
          if (n.fetched < 100 || n.published === 0) break;
        }
      } catch (e) {
        if (!this.stopped) this.logger.warn(`outbox relay: ${(e as Error).message}`);
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }
}
