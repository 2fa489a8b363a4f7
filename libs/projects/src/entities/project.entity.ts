import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A product inside an organization; holds environments and shared variables. The slug is immutable. */
@Entity('projects')
export class ProjectEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column('text') name: string;
  @Column('text') slug: string;
  @Column('text', { default: '' }) description: string;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
