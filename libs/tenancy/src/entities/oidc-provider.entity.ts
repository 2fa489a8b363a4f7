import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('oidc_providers')
export class OidcProviderEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column('text') name: string;
  @Column({ name: 'issuer_url', type: 'text' }) issuerUrl: string;
  @Column({ name: 'client_id', type: 'text' }) clientId: string;
  @Column({ name: 'client_secret_enc', type: 'text' }) clientSecretEnc: string;
  @Column({ type: 'text', array: true }) scopes: string[];
  @Column({ name: 'allowed_domains', type: 'text', array: true }) allowedDomains: string[];
  @Column({ name: 'role_claim', type: 'text', nullable: true }) roleClaim: string | null;
  @Column({ name: 'role_mapping', type: 'jsonb' }) roleMapping: Record<string, string>;
  @Column({ name: 'default_role', type: 'text' }) defaultRole: string;
  @Column({ type: 'boolean' }) enabled: boolean;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
