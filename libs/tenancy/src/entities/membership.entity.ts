import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('memberships')
export class MembershipEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId: string;
  /** A built-in role name, or `custom` with customRoleId. */
  @Column('text') role: string;
  @Column({ name: 'custom_role_id', type: 'uuid', nullable: true }) customRoleId: string | null;
  /** When set, the member sees only these projects. */
  @Column({ name: 'project_ids', type: 'uuid', array: true, nullable: true }) projectIds: string[] | null;
  /** When set, the member also sees these environments (and reads the projects that contain them). */
  @Column({ name: 'environment_ids', type: 'uuid', array: true, nullable: true }) environmentIds: string[] | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
