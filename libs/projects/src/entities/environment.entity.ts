import { Column, Entity, PrimaryColumn } from 'typeorm';

/** production / staging / …: belongs to a project; carries its organization and project for tenant scoping. */
@Entity('environments')
export class EnvironmentEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column('text') name: string;
  @Column('text') slug: string;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
