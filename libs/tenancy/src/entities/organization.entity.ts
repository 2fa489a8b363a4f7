import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('organizations')
export class OrganizationEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text') slug: string;
  @Column({ name: 'require_two_factor', type: 'boolean', default: false }) requireTwoFactor: boolean;
  @Column({ name: 'audit_retention_days', type: 'int', default: 365 }) auditRetentionDays: number;
  @Column({ name: 'deployment_log_retention_days', type: 'int', default: 90 }) deploymentLogRetentionDays: number;
  /** Container safety policy; relaxing it is for instance admins (the local Swarm is shared). */
  @Column({ name: 'container_policy', type: 'jsonb', default: () => "'{}'" }) containerPolicy: { allowedBindPaths?: string[] };
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
  /** For CASL conditions: an organization's own id is its organization id. */
  get organizationId(): string {
    return this.id;
  }
}
