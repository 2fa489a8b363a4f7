import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('invitations')
export class InvitationEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column('text') email: string;
  @Column('text') role: string;
  @Column({ name: 'custom_role_id', type: 'uuid', nullable: true }) customRoleId: string | null;
  @Column({ name: 'project_ids', type: 'uuid', array: true, nullable: true }) projectIds: string[] | null;
  @Column({ name: 'environment_ids', type: 'uuid', array: true, nullable: true }) environmentIds: string[] | null;
  @Column({ name: 'token_hash', type: 'text' }) tokenHash: string;
  @Column({ name: 'invited_by', type: 'uuid', nullable: true }) invitedBy: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt: Date;
  @Column({ name: 'accepted_at', type: 'timestamptz', nullable: true }) acceptedAt: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
}
