import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BuildSettings as ContractBuildSettings } from '@wharf/contracts';

/** How a Git source's image is built (see @wharf/contracts build-settings); older rows lack the newer fields: read them through normaliseBuildSettings. */
export type BuildSettings = ContractBuildSettings;

/** An application's source: a Git repository or an uploaded archive (see the ApplicationSources and SourceUploads migrations); secrets only as encrypted boxes. */
@Entity('application_sources')
export class ApplicationSourceEntity {
  @PrimaryColumn({ name: 'application_id', type: 'uuid' }) applicationId: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'environment_id', type: 'uuid' }) environmentId: string;
  @Column('text') repository: string;
  @Column('text') ref: string;
  @Column({ name: 'build_path', type: 'text' }) buildPath: string;
  @Column({ name: 'watch_paths', type: 'text', array: true }) watchPaths: string[];
  @Column('boolean') submodules: boolean;
  /** Globs of tag names whose push deploys the tag's commit; empty: tags never deploy. */
  @Column({ name: 'deploy_tags', type: 'text', array: true, default: () => "'{}'" }) deployTags: string[];
  @Column({ name: 'auth_kind', type: 'text' }) authKind: 'none' | 'token' | 'deploy-key';
  @Column({ name: 'auth_username', type: 'text', nullable: true }) authUsername: string | null;
  @Column({ name: 'token_box', type: 'text', nullable: true }) tokenBox: string | null;
  @Column({ name: 'deploy_key_public', type: 'text', nullable: true }) deployKeyPublic: string | null;
  @Column({ name: 'deploy_key_box', type: 'text', nullable: true }) deployKeyBox: string | null;
  /** known_hosts lines the SSH server must match (deploy-key sources); Wharf never trusts a host key on first use. */
  @Column({ name: 'known_hosts', type: 'text', array: true, default: () => "'{}'" }) knownHosts: string[];
  @Column({ type: 'jsonb' }) build: BuildSettings;
  /** Build secret values: a SecretBox of the JSON object name → value (names also in `build.secrets`); null: none. */
  @Column({ name: 'build_secrets_box', type: 'text', nullable: true }) buildSecretsBox: string | null;
  @Column({ name: 'webhook_secret_box', type: 'text' }) webhookSecretBox: string;
  /** The organization's Git provider connection whose credentials clone the repository (instead of the source's own token). */
  @Column({ name: 'provider_id', type: 'uuid', nullable: true }) providerId: string | null;
  /** `git` (a repository) or `upload` (an uploaded archive: repository and ref are empty, `uploadId` names the archive). */
  @Column({ type: 'text', default: 'git' }) kind: 'git' | 'upload';
  /** Upload sources: the archive the next deployment builds (null until the first upload). */
  @Column({ name: 'upload_id', type: 'uuid', nullable: true }) uploadId: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}

/** AAD of the source's encrypted values: a box copied to another application or field does not decrypt. */
export const sourceTokenAad = (applicationId: string) => `source-token:${applicationId}`;
export const deployKeyAad = (applicationId: string) => `deploy-key:${applicationId}`;
export const webhookSecretAad = (applicationId: string) => `webhook-secret:${applicationId}`;
export const buildSecretsAad = (applicationId: string) => `build-secrets:${applicationId}`;
