import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ActorType, AuditOutcome } from '@wharf/contracts';

/**
 * One audit log entry. Entries form a hash chain per organization (and one for `organization_id IS NULL`, the
 * instance chain). No foreign key to organizations: the log outlives what it describes.
 */
@Entity('audit_events')
@Index('ux_audit_events_org_seq', ['organizationId', 'seq'], { unique: true, where: 'organization_id IS NOT NULL' })
@Index('ux_audit_events_instance_seq', ['seq'], { unique: true, where: 'organization_id IS NULL' })
@Index('ix_audit_events_org_time', ['organizationId', 'occurredAt'])
export class AuditEventEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid', nullable: true }) organizationId: string | null;
  /** Position in the chain, 1, 2, 3, … (bigint: returned by pg as a string). */
  @Column({ type: 'bigint' }) seq: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt: Date;
  @Column({ name: 'actor_type', type: 'text' }) actorType: ActorType;
  @Column({ name: 'actor_id', type: 'text', nullable: true }) actorId: string | null;
  @Column({ name: 'actor_name', type: 'text' }) actorName: string;
  @Column('text') action: string;
  @Column({ name: 'subject_type', type: 'text' }) subjectType: string;
  @Column({ name: 'subject_id', type: 'text', nullable: true }) subjectId: string | null;
  @Column({ name: 'subject_name', type: 'text', nullable: true }) subjectName: string | null;
  @Column('text') outcome: AuditOutcome;
  @Column({ type: 'text', nullable: true }) ip: string | null;
  @Column({ name: 'user_agent', type: 'text', nullable: true }) userAgent: string | null;
  @Column({ name: 'request_id', type: 'text', nullable: true }) requestId: string | null;
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` }) changes: Record<string, unknown>;
  @Column({ name: 'prev_hash', type: 'text', nullable: true }) prevHash: string | null;
  @Column('text') hash: string;
}
