import { DataSource, DataSourceOptions } from 'typeorm';
import { OutboxEventEntity, PG_TYPES } from '@wharf/core';
import { IDENTITY_ENTITIES } from '@wharf/identity';
import { TENANCY_ENTITIES } from '@wharf/tenancy';
import { AUDIT_ENTITIES } from '@wharf/audit';
import { Foundation1764100000000 } from './1764100000000-Foundation';
import { IdentityTenancy1764100001000 } from './1764100001000-IdentityTenancy';
import { Audit1764100002000 } from './1764100002000-Audit';
import { Oidc1764100003000 } from './1764100003000-Oidc';
import { PROJECTS_ENTITIES } from '@wharf/projects';
import { Projects1764100004000 } from './1764100004000-Projects';
import { APPLICATIONS_ENTITIES } from '@wharf/applications';
import { ROUTING_ENTITIES } from '@wharf/routing';
import { Applications1764100005000 } from './1764100005000-Applications';
import { OrganizationPolicies1764100006000 } from './1764100006000-OrganizationPolicies';
import { LocalServer1764100008000 } from './1764100008000-LocalServer';
import { EnvironmentGrants1764100007000 } from './1764100007000-EnvironmentGrants';
import { TenantEngineResources1764100009000 } from './1764100009000-TenantEngineResources';
import { AuthHardening1764100010000 } from './1764100010000-AuthHardening';
import { ApplicationDeleteVolumes1764100012000 } from './1764100012000-ApplicationDeleteVolumes';
import { OutboxDispatch1764100013000 } from './1764100013000-OutboxDispatch';
import { Teardowns1764100014000 } from './1764100014000-Teardowns';
import { Domains1764100015000 } from './1764100015000-Domains';
import { Certificates1764100016000 } from './1764100016000-Certificates';
import { InstanceCertificates1764100017000 } from './1764100017000-InstanceCertificates';
import { ApplicationSources1764100018000 } from './1764100018000-ApplicationSources';
import { BuildSecrets1764100019000 } from './1764100019000-BuildSecrets';
import { PreviewDeployments1764100020000 } from './1764100020000-PreviewDeployments';
import { GitProviders1764100021000 } from './1764100021000-GitProviders';
import { SourceDeployTags1764100022000 } from './1764100022000-SourceDeployTags';
import { SourceUploads1764100026000 } from './1764100026000-SourceUploads';
import { SourceUploadsZip1764100027000 } from './1764100027000-SourceUploadsZip';
import { GitProviderDeliveries1764100025000 } from './1764100025000-GitProviderDeliveries';
import { GitProviderOAuth1764100023000 } from './1764100023000-GitProviderOAuth';

/** Every entity and migration, listed explicitly: one list for the app and the migration CLI. */
export const ENTITIES = [OutboxEventEntity, ...IDENTITY_ENTITIES, ...TENANCY_ENTITIES, ...AUDIT_ENTITIES, ...PROJECTS_ENTITIES, ...APPLICATIONS_ENTITIES, ...ROUTING_ENTITIES];
export const MIGRATIONS = [Foundation1764100000000, IdentityTenancy1764100001000, Audit1764100002000, Oidc1764100003000, Projects1764100004000, Applications1764100005000, OrganizationPolicies1764100006000, EnvironmentGrants1764100007000, LocalServer1764100008000, TenantEngineResources1764100009000, AuthHardening1764100010000, ApplicationDeleteVolumes1764100012000, OutboxDispatch1764100013000, Teardowns1764100014000, Domains1764100015000, Certificates1764100016000, InstanceCertificates1764100017000, ApplicationSources1764100018000, BuildSecrets1764100019000, PreviewDeployments1764100020000, GitProviders1764100021000, SourceDeployTags1764100022000, GitProviderOAuth1764100023000, GitProviderDeliveries1764100025000, SourceUploads1764100026000, SourceUploadsZip1764100027000];

/**
 * Server-side bounds for the application's connections: a statement that runs longer than this (a lock wait, a
 * runaway query) is cancelled by PostgreSQL, and a transaction left idle (its code stuck on something else, e.g. an
 * engine call) is ended, releasing its locks. Migrations run without them: they may legitimately take long, under their
 * advisory lock.
 */
export const APP_DB_LIMITS = { statementTimeoutMs: 60_000, idleInTransactionTimeoutMs: 60_000 };

export function dataSourceOptions(url: string, limits: { statementTimeoutMs?: number; idleInTransactionTimeoutMs?: number } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: 10,
      connectionTimeoutMillis: 5000,
      // Keep idle connections for a minute (pg's default is 10 s): the periodic jobs of an idle install then reuse
      // them instead of opening a new connection (and a new PostgreSQL backend) every few seconds.
      idleTimeoutMillis: 60_000,
      // node-postgres' parsers with a faster one for timestamptz (same results; see libs/core/src/database/pg-types.ts).
      types: PG_TYPES,
      // Sent as startup parameters: every pooled connection carries them from its first statement.
      ...(limits.statementTimeoutMs ? { statement_timeout: limits.statementTimeoutMs } : {}),
      ...(limits.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs } : {}),
    },
  };
}

export const createDataSource = (url: string): DataSource => new DataSource(dataSourceOptions(url));
