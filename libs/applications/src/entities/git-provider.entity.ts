import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { GitProviderKind, GitProviderSecretName, GitProviderSettings } from '@wharf/contracts';

/** An organization's Git provider connection (see the GitProviders migration); secrets only as one encrypted box. */
@Entity('git_providers')
export class GitProviderEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column('text') name: string;
  @Column('text') kind: GitProviderKind;
  @Column({ type: 'jsonb' }) settings: GitProviderSettings;
  /** SecretBox of the JSON object secret name → value. */
  @Column({ name: 'secrets_box', type: 'text', nullable: true }) secretsBox: string | null;
  @Column({ name: 'secrets_set', type: 'text', array: true, default: () => "'{}'" }) secretsSet: GitProviderSecretName[];
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}

/** AAD of a connection's secrets: a box copied to another connection does not decrypt. */
export const gitProviderSecretsAad = (id: string) => `git-provider:${id}:secrets`;
