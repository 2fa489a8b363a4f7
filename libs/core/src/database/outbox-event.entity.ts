import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { EventEnvelope } from '@wharf/contracts';

/** Transactional outbox: an event row is written in the same transaction as the change it describes. */
@Entity('outbox_events')
@Index('ix_outbox_unpublished', ['createdAt'], { where: 'published_at IS NULL' })
export class OutboxEventEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') type: string;
  @Column('jsonb') envelope: EventEnvelope;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt: Date | null;
  @Column({ name: 'attempts', type: 'int', default: 0 }) attempts: number;
  /** After a failed dispatch: not before this time. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true }) nextAttemptAt: Date | null;
  /** The last dispatch failure (listener names and messages). */
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
}
