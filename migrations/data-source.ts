import { DataSource, DataSourceOptions } from 'typeorm';
import { OutboxEventEntity } from '@wharf/core';
import { IDENTITY_ENTITIES } from '@wharf/identity';
import { TENANCY_ENTITIES } from '@wharf/tenancy';
import { Foundation1764100000000 } from './1764100000000-Foundation';
import { IdentityTenancy1764100001000 } from './1764100001000-IdentityTenancy';

/** Every entity and migration, listed explicitly: one list for the app and the migration CLI. */
export const ENTITIES = [OutboxEventEntity, ...IDENTITY_ENTITIES, ...TENANCY_ENTITIES];
export const MIGRATIONS = [Foundation1764100000000, IdentityTenancy1764100001000];

export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}

export const createDataSource = (url: string): DataSource => new DataSource(dataSourceOptions(url));
