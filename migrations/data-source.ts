import { DataSource, DataSourceOptions } from 'typeorm';
import { OutboxEventEntity } from '@wharf/core';
import { Foundation1764100000000 } from './1764100000000-Foundation';

/** Every entity and migration, listed explicitly: one list for the app and the migration CLI. */
export const ENTITIES = [OutboxEventEntity];
export const MIGRATIONS = [Foundation1764100000000];

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
