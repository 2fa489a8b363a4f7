import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ApiKeyScope } from '@wharf/contracts';

/** A personal key (userId set) or an organization service account (organizationId + role, no user). */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text') prefix: string;
  @Column({ name: 'key_hash', type: 'text' }) keyHash: string;
  @Column({ name: 'user_id', type: 'uuid', nullable: true }) userId: string | null;
  @Column({ name: 'organization_id', type: 'uuid', nullable: true }) organizationId: string | null;
  @Column({ type: 'text', nullable: true }) role: string | null;
  @Column({ name: 'custom_role_id', type: 'uuid', nullable: true }) customRoleId: string | null;
  @Column({ type: 'text', array: true }) scopes: ApiKeyScope[];
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt: Date | null;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt: Date | null;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
}
