import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BasicAuthUser, RateLimit, RegexRedirect } from '../domain-spec';

/** The validated options of a domain other than host, path prefix and basic-auth users (no secrets). */
export interface StoredDomainOptions {
  stripPrefix: boolean;
  port: number;
  https: boolean;
  redirectHttpToHttps: boolean;
  wwwRedirect: boolean;
  redirects: RegexRedirect[];
  responseHeaders: Record<string, string>;
  ipAllowList: string[];
  rateLimit?: Required<RateLimit>;
}

@Entity('domains')
export class DomainEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'environment_id', type: 'uuid' }) environmentId: string;
  @Column({ name: 'application_id', type: 'uuid' }) applicationId: string;
  /** Lower-case punycode (validated by validateDomainSpec). */
  @Column('text') host: string;
  @Column({ name: 'path_prefix', type: 'text' }) pathPrefix: string;
  @Column({ type: 'jsonb' }) options: StoredDomainOptions;
  /** bcrypt hashes only; never returned by the API and never in the audit log. */
  @Column({ name: 'basic_auth', type: 'jsonb' }) basicAuth: BasicAuthUser[];
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
