import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where services run. The local Swarm is the first server; remote servers over SSH come later. */
@Entity('servers')
export class ServerEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid', nullable: true }) organizationId: string | null;
  @Column('text') name: string;
  @Column('text') kind: 'local' | 'ssh';
  @Column({ type: 'jsonb' }) capabilities: Record<string, unknown>;
  @Column('text') status: string;
  @Column({ name: 'status_message', type: 'text', nullable: true }) statusMessage: string | null;
  @Column({ name: 'observed_at', type: 'timestamptz', nullable: true }) observedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
