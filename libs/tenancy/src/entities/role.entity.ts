import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Permission } from '@wharf/contracts';

/** A custom role: a named set of permissions defined by an organization admin. */
@Entity('roles')
export class RoleEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column('text') name: string;
  @Column('text') description: string;
  @Column({ type: 'text', array: true }) permissions: Permission[];
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
