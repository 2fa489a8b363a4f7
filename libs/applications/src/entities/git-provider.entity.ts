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
  /** OAuth connections (GitLab, Bitbucket): SecretBox of { accessToken, refreshToken } (gitProviderOAuthAad), written by the worker. */
  @Column({ name: 'oauth_box', type: 'text', nullable: true }) oauthBox: string | null;
  @Column({ name: 'oauth_status', type: 'text', nullable: true }) oauthStatus: 'authorized' | 'needs-reauthorization' | null;
  @Column({ name: 'oauth_expires_at', type: 'timestamptz', nullable: true }) oauthExpiresAt: Date | null;
  @Column({ name: 'oauth_username', type: 'text', nullable: true }) oauthUsername: string | null;
  @Column({ name: 'oauth_authorized_at', type: 'timestamptz', nullable: true }) oauthAuthorizedAt: Date | null;
  @Column({ name: 'oauth_error', type: 'text', nullable: true }) oauthError: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}

/** AAD of a connection's secrets: a box copied to another connection does not decrypt. */
export const gitProviderSecretsAad = (id: string) => `git-provider:${id}:secrets`;

/** AAD of a connection's OAuth tokens. */
export const gitProviderOAuthAad = (id: string) => `git-provider:${id}:oauth-tokens`;
