import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventBus, IEvent } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '@wharf/contracts';
import { OutboxEventEntity } from './outbox-event.entity';
import { newId } from '../util/ids';

/** Hooks that run inside the transaction for every staged event (the audit log uses this to append its entry atomically). */
export type InTransactionHook = (manager: EntityManager, event: EventEnvelope, extra: StageExtra) => Promise<void>;

export interface StageExtra {
  /** Audit outcome; default succeeded. */
  outcome?: 'succeeded' | 'denied' | 'failed';
  /** Changed fields, already redacted; stored by the audit log. */
  changes?: Record<string, unknown>;
  request?: { ip: string | null; userAgent: string | null; requestId: string | null };
}

/** The event class every published envelope is wrapped in, so @nestjs/cqrs handlers can filter by `type`. */
export class DomainEvent implements IEvent {
  constructor(readonly envelope: EventEnvelope) {}
}

export type EventInput = Omit<EventEnvelope, 'id' | 'occurredAt' | 'version'> & { version?: number };

/**
 * Unit of work: runs a function in a transaction; events staged through the given `stage` function are written to the
 * outbox in that transaction and published on the EventBus only after commit. If the process dies between commit and
 * publish, the relay publishes them on its next poll.
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
    private readonly eventBus: EventBus,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.drain(), 2000);
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
        const envelope: EventEnvelope = { ...input, id: newId(), version: input.version ?? 1, occurredAt: new Date().toISOString() };
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

  /** Publishes what the outbox holds, oldest first. Safe to run from several processes (SKIP LOCKED). */
  drain(): Promise<void> {
    if (this.stopped || !this.dataSource.isInitialized) return Promise.resolve();
    if (this.draining) return this.draining.then(() => this.drain());
    this.draining = (async () => {
      try {
        for (;;) {
          const n = await this.dataSource.transaction(async (m) => {
            const rows: OutboxEventEntity[] = await m
              .createQueryBuilder(OutboxEventEntity, 'o')
              .where('o.published_at IS NULL')
              .orderBy('o.created_at', 'ASC')
              .limit(100)
              .setLock('pessimistic_write')
              .setOnLocked('skip_locked')
              .getMany();
            for (const row of rows) {
              this.eventBus.publish(new DomainEvent(row.envelope));
              await m.update(OutboxEventEntity, { id: row.id }, { publishedAt: new Date(), attempts: row.attempts + 1 });
            }
            return rows.length;
          });
          if (n < 100) break;
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
